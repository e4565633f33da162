/**
 * Shared helpers for the client replays in test/clients (one file per client of
 * ../shared/design/clients.md): a client that stamps its own User-Agent on every request,
 * wire-level senders for what node's request helper cannot show (a 100 Continue, a body sent
 * in several chunks, a header line with no space after the colon), namespace-aware look-ups in
 * multistatus and DAV:error bodies, and the state on disk.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import type { TestResponse, TestServer } from '../support/testServer';
import { rawRequest, type RawResponse } from '../support/rawHttp';
import { DAV, findAll, first, text } from '../support/xmlQuery';
import { parseXmlDocument } from '../../src/xml/parse';
import { childElements, textOf, type XmlElement } from '../../src/xml/tree';

export { DAV };

/** The keepdav namespace of the k:conflict element in error bodies. */
export const KEEPDAV = 'urn:keepdav:ns';
/** Sabre's namespace (s:exception, s:message). */
export const SABRE = 'http://sabredav.org/ns';
/** [MS-WDV] Win32* properties. */
export const MS = 'urn:schemas-microsoft-com:';
/** Apple's quota properties (Finder). */
export const APPLE_PROPS = 'http://www.apple.com/webdav_fs/props/';
/** mod_dav's executable property (davfs2). */
export const APACHE_PROPS = 'http://apache.org/dav/props/';
/** Cyberduck's (Sardine's) dead-property namespace. */
export const SAR = 'SAR:';

/** User-Agent strings the clients send. */
export const UA = {
  explorer: 'Microsoft-WebDAV-MiniRedir/10.0.19045',
  word: 'Microsoft Office Word 2014 (16.0.17928) Windows NT 10.0',
  officeCore: 'Microsoft Office Core Storage Infrastructure/1.0',
  excelOtherUser: 'Microsoft Office Excel 2014 (16.0.17928) Windows NT 10.0',
  finder: 'WebDAVFS/3.0.0 (03008000) Darwin/23.4.0 (arm64)',
  davfs2: 'davfs2/1.7.0 neon/0.32.5',
  gvfs: 'gvfs/1.52.2',
  cyberduck: 'Cyberduck/8.7.1.40725 (Mac OS X/14.1) (arm64)',
  mountainDuck: 'Mountain Duck/4.15.1.21679 (Mac OS X/14.1) (arm64)',
  winscp: 'WinSCP/6.3.3 neon/0.32.5',
  rclone: 'rclone/v1.66.0',
  nextcloud: 'Mozilla/5.0 (Linux) mirall/3.12.3 (Nextcloud, ubuntu-6.5.0 ClientArchitecture: x86_64 OsArchitecture: x86_64)',
} as const;

export type Headers = Record<string, string | number>;

/** One client: every request carries its User-Agent (and any fixed headers it always sends). */
export class ReplayClient {
  constructor(
    readonly t: TestServer,
    readonly userAgent: string,
    readonly fixed: Headers = {},
  ) {}

  send(method: string, path: string, headers: Headers = {}, body?: string | Buffer): Promise<TestResponse> {
    return this.t.request(method, path, { headers: { 'User-Agent': this.userAgent, ...this.fixed, ...headers }, body });
  }

  /** The absolute URL of `path` on the server (Destination, tagged If lists). */
  url(path: string): string {
    return `http://127.0.0.1:${this.t.port}${path}`;
  }
}

/** One header's value (the first of a repeated one), or undefined. */
export function hdr(res: { headers: Record<string, string | string[] | undefined> }, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** The token of a LOCK answer's Lock-Token header (a Coded-URL), without the angle brackets. */
export function lockToken(res: TestResponse): string {
  const value = hdr(res, 'lock-token');
  if (value === undefined) throw new Error(`no Lock-Token header (status ${res.status}): ${res.text}`);
  const m = /^<([^<>\s]+)>$/.exec(value.trim());
  if (!m) throw new Error(`Lock-Token is not a Coded-URL: ${value}`);
  return m[1];
}

/** The path of an href (absolute URL or absolute path), percent-decoded. */
export function hrefPath(href: string): string {
  const trimmed = href.trim();
  const path = /^https?:\/\//i.test(trimmed) ? new URL(trimmed).pathname : trimmed;
  return decodeURIComponent(path);
}

/** The multistatus's DAV:response elements keyed by decoded href path. */
export function responsesByHref(multistatus: XmlElement): Map<string, XmlElement> {
  const out = new Map<string, XmlElement>();
  for (const r of findAll(multistatus, DAV, 'response')) out.set(hrefPath(text(r, DAV, 'href') ?? ''), r);
  return out;
}

/** The status code of a DAV:propstat or DAV:response (its direct DAV:status child). */
export function statusCode(e: XmlElement): number {
  const s = childElements(e).find((c) => c.ns === DAV && c.local === 'status');
  return Number((s ? textOf(s) : '').trim().split(/\s+/)[1]);
}

/** Where a property of one DAV:response was answered: its propstat status and element. */
export function propOf(response: XmlElement, ns: string, local: string): { status: number; el: XmlElement } | undefined {
  for (const ps of childElements(response).filter((c) => c.ns === DAV && c.local === 'propstat')) {
    const prop = childElements(ps).find((c) => c.ns === DAV && c.local === 'prop');
    const hit = prop && childElements(prop).find((c) => c.ns === ns && c.local === local);
    if (hit) return { status: statusCode(ps), el: hit };
  }
  return undefined;
}

/** The text of a property answered 200 in `response`; undefined when it was not answered 200. */
export function prop200(response: XmlElement, ns: string, local: string): string | undefined {
  const p = propOf(response, ns, local);
  return p && p.status === 200 ? textOf(p.el) : undefined;
}

/** The one DAV:response of a Depth-0 multistatus (fails the test when there is not exactly one). */
export function onlyResponse(res: TestResponse | RawResponse): XmlElement {
  const ms = parseXmlDocument(res.body);
  expect(`{${ms.ns}}${ms.local}`).toBe('{DAV:}multistatus');
  const responses = findAll(ms, DAV, 'response');
  expect(responses).toHaveLength(1);
  return responses[0];
}

/** The DAV:activelock elements in a LOCK answer or a lockdiscovery value. */
export function activeLocksIn(root: XmlElement): XmlElement[] {
  return findAll(root, DAV, 'activelock');
}

/** Facts of one DAV:activelock, text trimmed. */
export function lockFacts(activelock: XmlElement): {
  token?: string;
  timeout?: string;
  depth?: string;
  scope?: string;
  owner?: XmlElement;
  lockroot?: string;
} {
  const lt = first(activelock, DAV, 'locktoken');
  const root = first(activelock, DAV, 'lockroot');
  const scope = first(activelock, DAV, 'lockscope');
  return {
    token: lt ? text(lt, DAV, 'href')?.trim() : undefined,
    timeout: text(activelock, DAV, 'timeout')?.trim(),
    depth: text(activelock, DAV, 'depth')?.trim(),
    scope: scope ? childElements(scope)[0]?.local : undefined,
    owner: first(activelock, DAV, 'owner'),
    lockroot: root ? text(root, DAV, 'href')?.trim() : undefined,
  };
}

/** What a DAV:error body says: the RFC 4918 condition elements (with their hrefs) and keepdav's code. */
export function davError(res: TestResponse | RawResponse): { conditions: Map<string, string[]>; code?: string; message?: string } {
  const root = parseXmlDocument(res.body);
  expect(`{${root.ns}}${root.local}`).toBe('{DAV:}error');
  const conditions = new Map<string, string[]>();
  for (const c of childElements(root)) {
    if (c.ns === DAV) conditions.set(c.local, findAll(c, DAV, 'href').map((h) => hrefPath(textOf(h))));
  }
  const conflict = first(root, KEEPDAV, 'conflict');
  return {
    conditions,
    code: conflict ? text(conflict, KEEPDAV, 'code')?.trim() : undefined,
    message: text(root, SABRE, 'message'),
  };
}

/**
 * Asserts a conflict answer: the status, keepdav's stable code, and (when given) the RFC 4918
 * condition element with the hrefs it must name (decoded paths).
 */
export function expectConflict(
  res: TestResponse | RawResponse,
  status: number,
  code: string,
  condition?: { element: string; hrefs?: string[] },
): void {
  expect({ status: res.status, text: res.status === status ? '' : res.text }).toEqual({ status, text: '' });
  const err = davError(res);
  expect(err.code).toBe(code);
  if (condition) {
    expect([...err.conditions.keys()]).toContain(condition.element);
    if (condition.hrefs) expect(err.conditions.get(condition.element)).toEqual(condition.hrefs);
  }
}

/** The state of the served tree. Relative paths are in the filesystem's own form (NFC / NFD as written). */
export function disk(t: TestServer) {
  const abs = (rel: string) => join(t.root, rel);
  return {
    bytes: (rel: string): Promise<Buffer> => readFile(abs(rel)),
    text: (rel: string): Promise<string> => readFile(abs(rel), 'utf8'),
    exists: (rel: string): Promise<boolean> => stat(abs(rel)).then(() => true, () => false),
    isDir: (rel: string): Promise<boolean> => stat(abs(rel)).then((s) => s.isDirectory(), () => false),
    mtimeMs: async (rel: string): Promise<number> => (await stat(abs(rel))).mtimeMs,
    size: async (rel: string): Promise<number> => (await stat(abs(rel))).size,
    list: async (rel: string): Promise<string[]> => (await readdir(abs(rel))).sort(),
  };
}

/** Deterministic bytes of a given length (so partial reads can be checked). */
export function bytesOf(length: number, seed = 7): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** Unix seconds as the HTTP date keepdav answers (IMF-fixdate). */
export function httpDate(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toUTCString();
}

export interface WireResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  /** 1xx answers received before the final one. */
  informational: number[];
}

/**
 * Sends a request with `Expect: 100-continue` the way Cyberduck (and neon with use_expect100)
 * does: the head first, the body only once the server said 100 Continue. After `waitMs` with no
 * 100 the body is sent anyway (as curl does), so a server that never sends 100 is seen, not hung on.
 */
export function sendExpectContinue(port: number, method: string, path: string, headers: Headers, body: Buffer, waitMs = 3000): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const informational: number[] = [];
    let bodySent = false;
    const req = httpRequest(
      { host: '127.0.0.1', port, method, path, agent: false, headers: { ...headers, Expect: '100-continue', 'Content-Length': body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const all = Buffer.concat(chunks);
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: all, text: all.toString('utf8'), informational });
          req.destroy();
        });
        res.on('error', reject);
        // A final answer before 100: the body is never sent (RFC 9110 §10.1.1).
        bodySent = true;
      },
    );
    const sendBody = () => {
      if (bodySent) return;
      bodySent = true;
      req.end(body);
    };
    req.on('continue', () => {
      informational.push(100);
      sendBody();
    });
    req.on('error', (err) => {
      if (!bodySent || (err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
    });
    const timer = setTimeout(sendBody, waitMs);
    req.flushHeaders();
  });
}

/** Sends a body in several chunks (Transfer-Encoding: chunked), a few ms apart, as Finder streams its uploads. */
export function sendChunked(port: number, method: string, path: string, headers: Headers, chunks: Buffer[], gapMs = 3): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method, path, agent: false, headers: { ...headers, 'Transfer-Encoding': 'chunked' } },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          const all = Buffer.concat(parts);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: all, text: all.toString('utf8'), informational: [] });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    let i = 0;
    const next = () => {
      if (i >= chunks.length) {
        req.end();
        return;
      }
      req.write(chunks[i++]);
      setTimeout(next, gapMs);
    };
    next();
  });
}

/** Splits `data` into `n` nearly equal chunks. */
export function split(data: Buffer, n: number): Buffer[] {
  const size = Math.ceil(data.length / n);
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

/**
 * Sends header lines exactly as written (e.g. `If:(<T>)` with no space after the colon, which
 * node's client would rewrite), one request per connection.
 */
export function sendRaw(t: TestServer, method: string, path: string, headerLines: string[], body: string | Buffer = ''): Promise<RawResponse> {
  const length = Buffer.byteLength(body);
  const lines = [`${method} ${path} HTTP/1.1`, ...headerLines];
  if (!headerLines.some((l) => /^content-length:/i.test(l)) && !headerLines.some((l) => /^transfer-encoding:/i.test(l))) {
    lines.push(`Content-Length: ${length}`);
  }
  return rawRequest(t.port, lines.join('\r\n'), body);
}

// ---- Request bodies several clients share --------------------------------------------------------

/** The lockinfo Windows (MiniRedir) and Office send: exclusive write, owner as a DAV:href. */
export function microsoftLockinfo(owner: string): string {
  return (
    '<?xml version="1.0" encoding="utf-8" ?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>' +
    `<D:locktype><D:write/></D:locktype><D:owner><D:href>${owner}</D:href></D:owner></D:lockinfo>`
  );
}

/** The lockinfo neon (davfs2, WinSCP) sends: default namespace, single quotes, owner as text. */
export function neonLockinfo(owner: string, scope: 'exclusive' | 'shared' = 'exclusive'): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?>\n<lockinfo xmlns='DAV:'>\n <lockscope><${scope}/></lockscope>\n` +
    `<locktype><write/></locktype><owner>${owner}</owner>\n</lockinfo>\n`
  );
}

/** Windows' PROPPATCH of the Win32* properties ([MS-WDV] 2.2.1); pass only those to set. */
export function win32Proppatch(values: Partial<Record<'Win32CreationTime' | 'Win32LastAccessTime' | 'Win32LastModifiedTime' | 'Win32FileAttributes', string>>): string {
  const props = Object.entries(values).map(([name, v]) => `<Z:${name}>${v}</Z:${name}>`).join('');
  return (
    '<?xml version="1.0" encoding="utf-8" ?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:">' +
    `<D:set><D:prop>${props}</D:prop></D:set></D:propertyupdate>`
  );
}

/** A plain `<D:propfind><D:prop>` for DAV: property names. */
export function davPropfind(...locals: string[]): string {
  return `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop>${locals.map((l) => `<D:${l}/>`).join('')}</D:prop></D:propfind>`;
}

/** PROPFIND lockdiscovery Depth 0 of `path`; returns the activelocks it lists. */
export async function discoverLocks(c: ReplayClient, path: string): Promise<XmlElement[]> {
  const res = await c.send('PROPFIND', path, { Depth: '0', 'Content-Type': 'application/xml' }, davPropfind('lockdiscovery'));
  expect(res.status).toBe(207);
  const p = propOf(onlyResponse(res), DAV, 'lockdiscovery');
  expect(p?.status).toBe(200);
  return activeLocksIn(p!.el);
}
