/**
 * The page talks to keepdav through the same WebDAV and version HTTP API as every other client:
 * PROPFIND for listings and locks, PUT/MKCOL/MOVE/DELETE, ?versions, ?restore=, ?trash.
 * Every request asks for RFC 9457 problem JSON, so conflicts come back with their facts.
 */

import { sortKey } from './listOrder.js';

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
  locks: LockInfo[];
  /** What the list sorts by (listOrder.ts). */
  key: string;
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

/** What a listing asks for: nothing it does not show (no ETag, whose lookup costs the server a query). */
export const PROPFIND_BODY = `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:getcontentlength/><D:getlastmodified/><D:lockdiscovery/></D:prop></D:propfind>`;

/** The href of the served root (under --base-path, e.g. "/dav/"), as the page's head names it. */
export const BASE_HREF = document.querySelector<HTMLMetaElement>('meta[name="keepdav-base"]')?.content ?? '/';

/** The request a listing is: PROPFIND with its Depth (RFC 4918 §9.1). */
export function propfindInit(depth: '0' | '1', signal?: AbortSignal): RequestInit {
  return { method: 'PROPFIND', headers: { ...UI_HEADERS, Depth: depth, 'Content-Type': 'application/xml; charset=utf-8' }, body: PROPFIND_BODY, cache: 'no-store', signal };
}

export async function propfind(href: string, depth: '0' | '1'): Promise<{ self: Entry | null; members: Entry[] }> {
  const res = await fetch(requestUrl(href), propfindInit(depth));
  if (res.status !== 207) throw await problemOf(res);
  const doc = new DOMParser().parseFromString(await res.text(), 'application/xml');
  const target = pathOfHref(href);
  let self: Entry | null = null;
  const members: Entry[] = [];
  for (const entry of entriesOf(doc.documentElement, Date.now())) {
    if (sameHref(entry.href, target)) self = entry;
    else members.push(entry);
  }
  return { self, members };
}

const NO_LOCKS: LockInfo[] = [];
const isDav = (el: Element, local: string) => el.localName === local && el.namespaceURI === DAV;

/**
 * The entries of a multistatus element's responses (those with a 200 propstat), walking each
 * response's children directly: a listing of 100,000 is read in chunks (listing.ts), and this is
 * its inner loop.
 */
export function entriesOf(multistatus: Element, nowMs: number): Entry[] {
  const out: Entry[] = [];
  for (let response = multistatus.firstElementChild; response; response = response.nextElementSibling) {
    if (!isDav(response, 'response')) continue;
    let href = '';
    let prop: Element | null = null;
    for (let c = response.firstElementChild; c; c = c.nextElementSibling) {
      if (isDav(c, 'href')) href = c.textContent ?? '';
      else if (isDav(c, 'propstat')) {
        let status = '';
        let p: Element | null = null;
        for (let d = c.firstElementChild; d; d = d.nextElementSibling) {
          if (isDav(d, 'status')) status = d.textContent ?? '';
          else if (isDav(d, 'prop')) p = d;
        }
        if (/\s200\s/.test(`${status} `)) prop = p;
      }
    }
    if (!prop || !href) continue;
    let isCollection = false;
    let size = 0;
    let mtimeMs = NaN;
    let locks = NO_LOCKS;
    for (let d = prop.firstElementChild; d; d = d.nextElementSibling) {
      if (d.namespaceURI !== DAV) continue;
      if (d.localName === 'resourcetype') isCollection = d.getElementsByTagNameNS(DAV, 'collection').length > 0;
      else if (d.localName === 'getcontentlength') size = Number(d.textContent || 0);
      else if (d.localName === 'getlastmodified') mtimeMs = Date.parse(d.textContent ?? '');
      else if (d.localName === 'lockdiscovery' && d.firstElementChild) locks = parseLocks(d, nowMs);
    }
    const entryHref = pathOfHref(href);
    const name = lastSegment(entryHref);
    out.push({ name, href: entryHref, isCollection, size: isCollection ? -1 : size, mtimeMs, locks, key: sortKey(name) });
  }
  return out;
}

function text(parent: Element, local: string): string {
  return parent.getElementsByTagNameNS(DAV, local)[0]?.textContent ?? '';
}

/** The decoded last segment of an href (a folder's without its slash). */
export function lastSegment(href: string): string {
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
export function pathOfHref(href: string): string {
  return href.startsWith('/') ? href : new URL(requestUrl(href)).pathname;
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
    res = await fetch(requestUrl(href), { method, headers: { ...UI_HEADERS, ...headers }, cache: 'no-store' });
  } catch {
    throw new HttpProblem({ status: 0, code: 'network', detail: 'the server could not be reached' });
  }
  if (!ok.includes(res.status)) throw await problemOf(res);
  return res;
}

/** An absolute URL for the Destination header (RFC 4918 §10.3). */
export function absolute(href: string): string {
  return requestUrl(href);
}

/**
 * The URL a request goes to: `href` resolved against the page's address without its user name and
 * password. A page opened as http://user:password@host/ has them in its address, and fetch()
 * refuses every URL resolved against it; the browser has the credentials already.
 */
export function requestUrl(href: string): string {
  return new URL(href, `${location.origin}${location.pathname}${location.search}`).href;
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
  /** Anonymous where users exist: "Sign in" is offered (GET <base>?signin). */
  canSignIn?: boolean;
}

export async function whoami(uiBase: string, dirHref: string): Promise<Whoami> {
  try {
    const res = await send('GET', `${uiBase}whoami?path=${encodeURIComponent(dirHref)}`, { Accept: 'application/json' }, [200]);
    return (await res.json()) as Whoami;
  } catch {
    return { user: null, canWrite: false };
  }
}
