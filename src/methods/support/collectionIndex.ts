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

/**
 * The page up to the first member's row (streamed first; members follow in directory order).
 * `isRoot`: the served root (under a base path its href is not "/"), which has no "../" link.
 * `head`: what the browser page adds to the head (stylesheet, script; src/web/uiRoutes.ts).
 */
export function indexHead(href: string, isRoot = href === '/', head = ''): string {
  const title = escapeHtml(decodeURIComponentSafe(href));
  // The parent's own href, not "../": a folder asked for without its trailing slash would make
  // "../" point two levels up.
  const trimmed = href.endsWith('/') ? href.slice(0, -1) : href;
  const parent = trimmed.slice(0, trimmed.lastIndexOf('/') + 1);
  const up = isRoot ? '' : `<tr><td><a href="${attributeSafeHref(parent)}">../</a></td><td></td><td></td></tr>\n`;
  return `<!DOCTYPE html>\n<html><head><meta charset="utf-8">${head}<title>Index of ${title}</title></head>\n<body><h1>Index of ${title}</h1>\n<table>\n<tr><th>Name</th><th>Size</th><th>Modified</th></tr>\n${up}`;
}

/** One member's row, ending in a newline. */
export function indexRow(e: IndexEntry): string {
  const label = escapeHtml(e.name + (e.isCollection ? '/' : ''));
  const size = e.isCollection ? '' : String(e.size);
  return `<tr><td><a href="${attributeSafeHref(e.href)}">${label}</a></td><td>${size}</td><td>${new Date(e.mtimeMs).toISOString()}</td></tr>\n`;
}

export const INDEX_TAIL = '</table></body></html>\n';

/**
 * The end of one page of a paged index: which members it showed and links to its neighbours
 * (relative `?page=N`, so a base path needs nothing more).
 */
export function pagedIndexTail(page: { number: number; skip: number }, shown: number, hasNext: boolean): string {
  const range = shown === 0 ? 'No entries on this page' : `Entries ${page.skip + 1}\u2013${page.skip + shown}`;
  const previous = page.number > 1 ? ` <a rel="prev" href="?page=${page.number - 1}">Previous page</a>` : '';
  const next = hasNext ? ` <a rel="next" href="?page=${page.number + 1}">Next page</a>` : '';
  return `</table>\n<p class="kd-pages">${range}.${previous}${next}</p></body></html>\n`;
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
