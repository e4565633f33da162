/** The small HTML page a GET on a collection answers; every name is escaped. */
export interface IndexEntry {
  name: string;
  href: string;
  isCollection: boolean;
  size: number;
  mtimeMs: number;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

export function collectionIndexHtml(href: string, entries: IndexEntry[]): string {
  const rows = entries
    .sort((a, b) => Number(b.isCollection) - Number(a.isCollection) || a.name.localeCompare(b.name))
    .map((e) => {
      const label = escapeHtml(e.name + (e.isCollection ? '/' : ''));
      const size = e.isCollection ? '' : String(e.size);
      return `<tr><td><a href="${attributeSafeHref(e.href)}">${label}</a></td><td>${size}</td><td>${new Date(e.mtimeMs).toISOString()}</td></tr>`;
    })
    .join('\n');
  const title = escapeHtml(decodeURIComponentSafe(href));
  const up = href === '/' ? '' : '<tr><td><a href="../">../</a></td><td></td><td></td></tr>\n';
  return `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Index of ${title}</title></head>\n<body><h1>Index of ${title}</h1>\n<table>\n<tr><th>Name</th><th>Size</th><th>Modified</th></tr>\n${up}${rows}\n</table></body></html>\n`;
}

/**
 * An href written into an attribute with every HTML-special character percent-encoded, so it needs
 * no entity (lftp's index parser reads `&#39;` literally and loses names with an apostrophe).
 * `%XX` of a path character names the same resource (RFC 3986 §2.2, §6.2.2.2).
 */
export function attributeSafeHref(href: string): string {
  return href.replace(/[&<>"']/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
