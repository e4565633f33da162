/**
 * Small helpers shared by the HTTP tests in test/http: request bodies, lock tokens, Destination
 * URLs, and a canonical form of XML elements for "comes back exactly" comparisons.
 */
import { connect } from 'node:net';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { attributeOf, childElements, isElement, textOf, type XmlElement } from '../../src/xml/tree';
import type { TestResponse, TestServer } from './testServer';
import { DAV, findAll, first, text } from './xmlQuery';

export const XML_HEADERS = { 'Content-Type': 'application/xml; charset=utf-8' };

/**
 * A PUT to the server on 127.0.0.1:`port` whose body goes out in two parts: `first` now, `rest`
 * when `finish()` is called (the upload holds its write claim meanwhile). `status` is the answer's.
 */
export function putInTwoParts(port: number, path: string, first: string | Buffer, rest: string | Buffer): { finish(): void; status: Promise<number> } {
  let req!: ClientRequest;
  const status = new Promise<number>((resolve, reject) => {
    req = httpRequest({ host: '127.0.0.1', port, method: 'PUT', path, headers: { 'Content-Length': Buffer.byteLength(first) + Buffer.byteLength(rest) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
  req.write(first);
  return { finish: () => req.end(rest), status };
}

/** putInTwoParts of `content` split in halves, the second `pauseMs` after the first; its status. */
export function putWithPause(port: number, path: string, content: string, pauseMs: number): Promise<number> {
  const body = Buffer.from(content);
  const upload = putInTwoParts(port, path, body.subarray(0, body.length >> 1), body.subarray(body.length >> 1));
  setTimeout(upload.finish, pauseMs);
  return upload.status;
}

/** A PROPFIND body asking for the named properties; each name is [namespace, local]. */
export function propfindBody(names: Array<[string, string]>): string {
  const props = names.map(([ns, local], i) => (ns === '' ? `<${local} xmlns=""/>` : `<p${i}:${local} xmlns:p${i}="${ns}"/>`)).join('');
  return `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop>${props}</D:prop></D:propfind>`;
}

/** A propertyupdate body; `instructions` are raw `<D:set>`/`<D:remove>` fragments (D = DAV:). */
export function propertyUpdate(instructions: string, extraNs = ''): string {
  return `<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:"${extraNs ? ' ' + extraNs : ''}>${instructions}</D:propertyupdate>`;
}

/** A lockinfo body (write lock) with an optional raw owner fragment in DAV:. */
export function lockinfo(scope: 'exclusive' | 'shared', ownerInner?: string): string {
  const owner = ownerInner === undefined ? '' : `<D:owner>${ownerInner}</D:owner>`;
  return `<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:${scope}/></D:lockscope><D:locktype><D:write/></D:locktype>${owner}</D:lockinfo>`;
}

/** The one value of a header (first of a repeated one), or undefined. */
export function header(res: TestResponse, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** The lock token of a LOCK answer's Lock-Token header, without the angle brackets. */
export function lockTokenOf(res: TestResponse): string {
  const value = header(res, 'lock-token');
  if (value === undefined) throw new Error(`no Lock-Token header (status ${res.status}): ${res.text}`);
  const m = /^<([^>]+)>$/.exec(value.trim());
  if (!m) throw new Error(`Lock-Token is not a Coded-URL: ${value}`);
  return m[1];
}

/** An absolute Destination URL on the test server for `path` (already encoded). */
export function dest(t: TestServer, path: string): string {
  return `http://127.0.0.1:${t.port}${path}`;
}

/** LOCKs `path` and returns the response and its token (throws when no token came back). */
export async function lockPath(
  t: TestServer,
  path: string,
  options: { scope?: 'exclusive' | 'shared'; depth?: '0' | 'infinity'; timeout?: string; owner?: string } = {},
): Promise<{ res: TestResponse; token: string }> {
  const headers: Record<string, string> = { ...XML_HEADERS };
  if (options.depth !== undefined) headers.Depth = options.depth;
  if (options.timeout !== undefined) headers.Timeout = options.timeout;
  const res = await t.request('LOCK', path, { headers, body: lockinfo(options.scope ?? 'exclusive', options.owner) });
  return { res, token: lockTokenOf(res) };
}

/** PROPFIND Depth 0 for the named properties; returns the response. */
export function propfind(t: TestServer, path: string, names: Array<[string, string]>, depth = '0', extraHeaders: Record<string, string> = {}): Promise<TestResponse> {
  return t.request('PROPFIND', path, { headers: { ...XML_HEADERS, Depth: depth, ...extraHeaders }, body: propfindBody(names) });
}

/** The first property element {ns, local} in a 200 propstat of the (single) response, or undefined. */
export function foundProp(multistatus: XmlElement, ns: string, local: string): XmlElement | undefined {
  for (const ps of findAll(multistatus, DAV, 'propstat')) {
    if (statusOf(ps) !== 200) continue;
    const prop = first(ps, DAV, 'prop');
    const hit = prop && childElements(prop).find((e) => e.ns === ns && e.local === local);
    if (hit) return hit;
  }
  return undefined;
}

/** The status code in a DAV:propstat or DAV:response's DAV:status. */
export function statusOf(e: XmlElement): number {
  const s = childElements(e).find((c) => c.ns === DAV && c.local === 'status');
  return Number((s ? textOf(s) : '').trim().split(/\s+/)[1]);
}

/** The DAV:activelock elements inside a response body. */
export function activeLocks(root: XmlElement): XmlElement[] {
  return findAll(root, DAV, 'activelock');
}

/** The token (DAV:locktoken/DAV:href) of an activelock. */
export function activeLockToken(activelock: XmlElement): string | undefined {
  const lt = first(activelock, DAV, 'locktoken');
  return lt ? text(lt, DAV, 'href')?.trim() : undefined;
}

/** A namespace-aware canonical form: names as {ns}local, attributes sorted, adjacent text merged. */
export type Canonical = { name: string; attrs: string[]; children: Array<Canonical | string> };

export function canonical(e: XmlElement): Canonical {
  const children: Array<Canonical | string> = [];
  for (const c of e.children) {
    if (isElement(c)) children.push(canonical(c));
    else if (typeof children[children.length - 1] === 'string') children[children.length - 1] += c.text;
    else children.push(c.text);
  }
  return {
    name: `{${e.ns}}${e.local}`,
    attrs: e.attributes.map((a) => `{${a.ns}}${a.local}=${a.value}`).sort(),
    children: children.filter((c) => c !== ''),
  };
}

export { attributeOf };

/** Sends `raw` bytes as they are (for header lines node:http would normalize) and reads the answer until close. */
export function rawRequest(port: number, raw: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    // write, not end: node:http drops a half-closed connection whose answer is still pending; the request says Connection: close.
    const socket = connect(port, '127.0.0.1', () => socket.write(raw));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const all = Buffer.concat(chunks).toString('utf8');
      const cut = all.indexOf('\r\n\r\n');
      const head = (cut < 0 ? all : all.slice(0, cut)).split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status, headers, body: cut < 0 ? '' : all.slice(cut + 4) });
    });
  });
}
