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

/** `head`: what the browser page adds to the head (stylesheet, script; src/web/uiRoutes.ts). */
export function collectionIndexHtml(href: string, entries: IndexEntry[], head = ''): string {
  const rows = entries
    .sort((a, b) => Number(b.isCollection) - Number(a.isCollection) || a.name.localeCompare(b.name))
    .map((e) => {
      const label = escapeHtml(e.name + (e.isCollection ? '/' : ''));
      const size = e.isCollection ? '' : String(e.size);
      return `<tr><td><a href="${escapeHtml(e.href)}">${label}</a></td><td>${size}</td><td>${new Date(e.mtimeMs).toISOString()}</td></tr>`;
    })
    .join('\n');
  const title = escapeHtml(decodeURIComponentSafe(href));
  const up = href === '/' ? '' : '<tr><td><a href="../">../</a></td><td></td><td></td></tr>\n';
  return `<!DOCTYPE html>\n<html><head><meta charset="utf-8">${head}<title>Index of ${title}</title></head>\n<body><h1>Index of ${title}</h1>\n<table>\n<tr><th>Name</th><th>Size</th><th>Modified</th></tr>\n${up}${rows}\n</table></body></html>\n`;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
