/**
 * The page talks to keepdav through the same WebDAV and version HTTP API as every other client:
 * PROPFIND for listings and locks, PUT/MKCOL/MOVE/DELETE, ?versions, ?restore=, ?trash.
 * Every request asks for RFC 9457 problem JSON, so conflicts come back with their facts.
 */

const DAV = 'DAV:';
/** Sent on every request: marks it as the page's own (a cross-site form cannot add headers). */
export const UI_HEADERS: Record<string, string> = { 'X-Keepdav-UI': '1', Accept: 'application/problem+json, application/json;q=0.9, */*;q=0.1' };

export interface LockInfo {
  owner: string;
  /** Expiry in ms since the epoch; Infinity for "Infinite". */
  expiresMs: number;
  root: string;
}

export interface Entry {
  name: string;
  href: string;
  isCollection: boolean;
  size: number;
  mtimeMs: number;
  etag: string;
  locks: LockInfo[];
}

/** A problem answer (RFC 9457) with keepdav's facts: code, etag, lastmodified, mtime, lockroot... */
export interface Problem {
  status: number;
  code: string;
  detail: string;
  [fact: string]: string | number;
}

export class HttpProblem extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
}

const PROPFIND_BODY = `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:getcontentlength/><D:getlastmodified/><D:getetag/><D:lockdiscovery/></D:prop></D:propfind>`;

function text(parent: Element, local: string): string {
  return parent.getElementsByTagNameNS(DAV, local)[0]?.textContent ?? '';
}

function lastSegment(href: string): string {
  const trimmed = href.endsWith('/') ? href.slice(0, -1) : href;
  const raw = trimmed.slice(trimmed.lastIndexOf('/') + 1);
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function parseLocks(prop: Element, nowMs: number): LockInfo[] {
  const out: LockInfo[] = [];
  for (const lock of Array.from(prop.getElementsByTagNameNS(DAV, 'activelock'))) {
    const ownerEl = lock.getElementsByTagNameNS(DAV, 'owner')[0];
    const owner = (ownerEl?.textContent ?? '').trim() || 'someone (no owner given)';
    const timeout = text(lock, 'timeout').trim();
    const seconds = /^Second-(\d+)$/i.exec(timeout);
    const root = lock.getElementsByTagNameNS(DAV, 'lockroot')[0];
    out.push({ owner, expiresMs: seconds ? nowMs + Number(seconds[1]) * 1000 : Infinity, root: root ? text(root, 'href') : '' });
  }
  return out;
}

/** Turns an href as the server wrote it into a path on this origin. */
function pathOfHref(href: string): string {
  return href.startsWith('/') ? href : new URL(href, location.href).pathname;
}

export async function propfind(href: string, depth: '0' | '1'): Promise<{ self: Entry | null; members: Entry[] }> {
  const res = await fetch(href, { method: 'PROPFIND', headers: { ...UI_HEADERS, Depth: depth, 'Content-Type': 'application/xml; charset=utf-8' }, body: PROPFIND_BODY, cache: 'no-store' });
  if (res.status !== 207) throw await problemOf(res);
  const doc = new DOMParser().parseFromString(await res.text(), 'application/xml');
  const nowMs = Date.now();
  const target = pathOfHref(href);
  let self: Entry | null = null;
  const members: Entry[] = [];
  for (const response of Array.from(doc.getElementsByTagNameNS(DAV, 'response'))) {
    const entryHref = pathOfHref(text(response, 'href'));
    let prop: Element | null = null;
    for (const ps of Array.from(response.getElementsByTagNameNS(DAV, 'propstat'))) {
      if (/\s200\s/.test(text(ps, 'status') + ' ')) prop = ps.getElementsByTagNameNS(DAV, 'prop')[0] ?? null;
    }
    if (!prop) continue;
    const isCollection = prop.getElementsByTagNameNS(DAV, 'collection').length > 0;
    const modified = Date.parse(text(prop, 'getlastmodified'));
    const entry: Entry = {
      name: lastSegment(entryHref),
      href: entryHref,
      isCollection,
      size: isCollection ? -1 : Number(text(prop, 'getcontentlength') || 0),
      mtimeMs: modified,
      etag: text(prop, 'getetag'),
      locks: parseLocks(prop, nowMs),
    };
    if (sameHref(entryHref, target)) self = entry;
    else members.push(entry);
  }
  return { self, members };
}

export function sameHref(a: string, b: string): boolean {
  const norm = (x: string) => {
    let s = x.endsWith('/') ? x.slice(0, -1) : x;
    try {
      s = decodeURIComponent(s);
    } catch {
      /* keep as is */
    }
    return s;
  };
  return norm(a) === norm(b);
}

/** The problem a failed answer carries (JSON when the server sent it, else its status text). */
export async function problemOf(res: Response): Promise<HttpProblem> {
  return new HttpProblem(parseProblem(res.status, res.headers.get('content-type') ?? '', await res.text().catch(() => '')));
}

export function parseProblem(status: number, contentType: string, body: string): Problem {
  if (/json/.test(contentType)) {
    try {
      const p = JSON.parse(body) as Problem;
      if (p && typeof p === 'object') return { ...p, status, code: String(p.code ?? ''), detail: String(p.detail ?? p.title ?? `HTTP ${status}`) };
    } catch {
      /* not JSON after all */
    }
  }
  return { status, code: '', detail: status === 0 ? 'the server could not be reached' : `the server answered ${status}` };
}

/** One request; resolves with the Response when its status is in `ok`, else throws HttpProblem. */
export async function send(method: string, href: string, headers: Record<string, string> = {}, ok: number[] = [200, 201, 204]): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(href, { method, headers: { ...UI_HEADERS, ...headers }, cache: 'no-store' });
  } catch {
    throw new HttpProblem({ status: 0, code: 'network', detail: 'the server could not be reached' });
  }
  if (!ok.includes(res.status)) throw await problemOf(res);
  return res;
}

/** An absolute URL for the Destination header (RFC 4918 §10.3). */
export function absolute(href: string): string {
  return new URL(href, location.href).href;
}

export function childHref(dirHref: string, name: string, isCollection: boolean): string {
  return `${dirHref.endsWith('/') ? dirHref : dirHref + '/'}${encodeURIComponent(name)}${isCollection ? '/' : ''}`;
}

export function parentHref(href: string): string {
  const trimmed = href.endsWith('/') ? href.slice(0, -1) : href;
  return trimmed.slice(0, trimmed.lastIndexOf('/') + 1);
}

export function move(from: string, to: string, overwrite: boolean): Promise<Response> {
  return send('MOVE', from, { Destination: absolute(to), Overwrite: overwrite ? 'T' : 'F' }, [201, 204]);
}

export interface VersionInfo {
  id: string;
  retained: string;
  reason: string;
  size: number;
  etag: string;
  lastModified: string;
}

export async function versions(fileHref: string): Promise<VersionInfo[]> {
  const res = await send('GET', `${fileHref}?versions`, { Accept: 'application/json' }, [200]);
  return ((await res.json()) as { versions: VersionInfo[] }).versions;
}

export function restore(fileHref: string, id: string): Promise<Response> {
  return send('POST', `${fileHref}?restore=${encodeURIComponent(id)}`, {}, [201, 204]);
}

export interface Whoami {
  user: string | null;
  canWrite: boolean;
}

export async function whoami(uiBase: string, dirHref: string): Promise<Whoami> {
  try {
    const res = await send('GET', `${uiBase}whoami?path=${encodeURIComponent(dirHref)}`, { Accept: 'application/json' }, [200]);
    return (await res.json()) as Whoami;
  } catch {
    return { user: null, canWrite: false };
  }
}
