/**
 * Helpers for the conflict / version / retention tests: header access, the keepdav conflict
 * element of a DAV:error body, a recursive directory walk, propfind of single properties.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { childElements, textOf, type XmlElement } from '../../src/xml/tree';
import type { TestResponse, TestServer } from './testServer';
import { DAV, findAll, first } from './xmlQuery';

export const KEEPDAV = 'urn:keepdav:ns';
export const SABRE = 'http://sabredav.org/ns';

export function hdr(res: { headers: Record<string, string | string[] | undefined> }, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** The children of <k:conflict> in a DAV:error body, as local name -> text. Throws when absent. */
export function conflictFields(res: TestResponse): Record<string, string> {
  const root = res.xml();
  if (root.ns !== DAV || root.local !== 'error') throw new Error(`not a DAV:error body: ${res.text}`);
  const conflict = first(root, KEEPDAV, 'conflict');
  if (!conflict) throw new Error(`no keepdav conflict element: ${res.text}`);
  const out: Record<string, string> = {};
  for (const c of childElements(conflict)) if (c.ns === KEEPDAV) out[c.local] = textOf(c).trim();
  return out;
}

/** The keepdav code of an error answer (XML or problem+json), or undefined. */
export function codeOf(res: TestResponse): string | undefined {
  const type = hdr(res, 'content-type') ?? '';
  try {
    if (type.includes('json')) return (JSON.parse(res.text) as { code?: string }).code;
    return conflictFields(res).code;
  } catch {
    return undefined;
  }
}

/** Every entry below `dir`, recursively, as relative paths ("a", "a/b"). */
export async function walk(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    out.push(prefix + e.name);
    if (e.isDirectory()) out.push(...(await walk(join(dir, e.name), prefix + e.name + '/')));
  }
  return out.sort();
}

/** Every regular file below `dir`, recursively, as absolute paths. */
export async function filesBelow(dir: string): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesBelow(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** PROPFIND Depth 0 for one property; returns the status and, on 200 in a propstat, the property's text. */
export async function propOf(t: TestServer, path: string, ns: string, local: string, headers: Record<string, string> = {}): Promise<{ status: number; value?: string; element?: XmlElement }> {
  const res = await t.request('PROPFIND', path, {
    headers: { Depth: '0', 'Content-Type': 'application/xml; charset=utf-8', ...headers },
    body: `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" xmlns:x="${ns}"><D:prop><x:${local}/></D:prop></D:propfind>`,
  });
  if (res.status !== 207) return { status: res.status };
  for (const ps of findAll(res.xml(), DAV, 'propstat')) {
    const status = first(ps, DAV, 'status');
    if (!status || !/ 200 /.test(textOf(status) + ' ')) continue;
    const prop = first(ps, DAV, 'prop');
    const hit = prop && childElements(prop).find((e) => e.ns === ns && e.local === local);
    if (hit) return { status: 207, value: textOf(hit).trim(), element: hit };
  }
  return { status: 207 };
}

/** The hrefs of a Depth 1 PROPFIND (decoded), or the status when it is not 207. */
export async function listHrefs(t: TestServer, path: string): Promise<string[]> {
  const res = await t.request('PROPFIND', path, {
    headers: { Depth: '1', 'Content-Type': 'application/xml; charset=utf-8' },
    body: '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/></D:prop></D:propfind>',
  });
  if (res.status !== 207) throw new Error(`PROPFIND ${path} answered ${res.status}: ${res.text}`);
  return findAll(res.xml(), DAV, 'href').map((h) => decodeURIComponent(textOf(h).trim()));
}
