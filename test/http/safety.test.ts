/**
 * What a hostile or broken client cannot do (architecture rules 1, 9, 10): escape the root by
 * path or symlink, see or write reserved names, smuggle entities or huge XML, or make the
 * server leak a 500, a stack trace or a host path. Names with UTF-8 and spaces round trip.
 */
import { mkdir, readdir, readFile, stat, symlink, writeFile, lstat, readlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { startTestServer, type TestServer, type RequestOptions } from '../support/testServer';
import { DAV, findAll, text } from '../support/xmlQuery';
import { rawRequest } from '../support/rawHttp';
import { startAuthServer, htpasswdLine } from '../support/authKit';

let t: TestServer;
let base: string;

interface Answer {
  label: string;
  status: number;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}
/** Every answer this file received, for the no-500 / no-leak checks at the end. */
const answers: Answer[] = [];

async function req(method: string, path: string, options: RequestOptions = {}): Promise<Answer> {
  const res = await t.request(method, path, options);
  const a = { label: `${method} ${path}`, status: res.status, text: res.text, headers: res.headers };
  answers.push(a);
  return a;
}

async function raw(head: string, body: string | Buffer = ''): Promise<Answer> {
  const res = await rawRequest(t.port, head, body);
  const a = { label: head.split('\r\n')[0], status: res.status, text: res.text, headers: res.headers };
  answers.push(a);
  return a;
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(() => true, () => false);
}

async function walk(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    out.push(prefix + e.name);
    if (e.isDirectory()) out.push(...(await walk(join(dir, e.name), prefix + e.name + '/')));
  }
  return out.sort();
}

async function propfindHrefs(path: string): Promise<string[]> {
  const res = await t.request('PROPFIND', path, { headers: { Depth: '1' } });
  answers.push({ label: `PROPFIND ${path}`, status: res.status, text: res.text, headers: res.headers });
  expect(res.status).toBe(207);
  return findAll(res.xml(), DAV, 'href').map((h) => text(h, DAV, 'href') ?? '');
}

const SECRET = 'outside secret: do not touch';
const DIR_SECRET = 'inside an outside directory';

beforeAll(async () => {
  t = await startTestServer();
  base = dirname(t.root);
  await writeFile(join(base, 'outside.txt'), SECRET);
  await mkdir(join(base, 'outsidedir'));
  await writeFile(join(base, 'outsidedir', 'secret.txt'), DIR_SECRET);
  await writeFile(join(t.root, 'inside.txt'), 'inside');
  await mkdir(join(t.root, 'sub'));
  await writeFile(join(t.root, 'sub', 'a.txt'), 'a');
});

afterAll(async () => {
  await t.close();
});

/** The state of everything beside the root (the root itself excluded). */
async function outsideSnapshot(): Promise<string> {
  const names = (await readdir(base)).filter((n) => n !== 'root').sort();
  const parts: string[] = [];
  for (const n of names) {
    if (n === 'state') continue; // the server's own state directory
    parts.push(n);
  }
  parts.push(await readFile(join(base, 'outside.txt'), 'utf8'));
  parts.push((await walk(join(base, 'outsidedir'))).join(','));
  parts.push(await readFile(join(base, 'outsidedir', 'secret.txt'), 'utf8'));
  return parts.join('|');
}

describe('paths that try to leave the root', () => {
  const table: Array<[string, string]> = [
    ['GET', '/../outside.txt'],
    ['GET', '/sub/../../outside.txt'],
    ['GET', '/%2e%2e/outside.txt'],
    ['GET', '/%2E%2E/outside.txt'],
    ['GET', '/sub/%2e%2e/%2e%2e/outside.txt'],
    ['GET', '/..%2Foutside.txt'],
    ['GET', '/sub%2F..%2F..%2Foutside.txt'],
    ['GET', '/sub%2fa.txt'],
    ['GET', '/..%5Coutside.txt'],
    ['GET', '/sub%5Ca.txt'],
    ['GET', '/inside.txt%00'],
    ['GET', '/inside.txt%00.jpg'],
    ['GET', '/./inside.txt'],
    ['PUT', '/../outside.txt'],
    ['PUT', '/%2e%2e/outside.txt'],
    ['PUT', '/..%2Foutside.txt'],
    ['PUT', '/sub%2F..%2F..%2Foutside.txt'],
    ['PUT', '/..%5Coutside.txt'],
    ['PUT', '/evil%00.txt'],
    ['PUT', '/%2e%2e/outsidedir/new.txt'],
    ['DELETE', '/../outside.txt'],
    ['DELETE', '/%2e%2e/outside.txt'],
    ['MKCOL', '/%2e%2e/newdir'],
    ['PROPFIND', '/%2e%2e/'],
    ['PROPPATCH', '/%2e%2e/outside.txt'],
    ['LOCK', '/%2e%2e/outside.txt'],
    ['MOVE', '/%2e%2e/outside.txt'],
    ['COPY', '/%2e%2e/outside.txt'],
  ];

  it.each(table)('%s %s is 400 and touches nothing outside', async (method, path) => {
    const before = await outsideSnapshot();
    const body = method === 'PUT' ? 'OVERWRITTEN' : method === 'PROPPATCH'
      ? '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>x</D:displayname></D:prop></D:set></D:propertyupdate>'
      : method === 'LOCK' ? '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>'
        : '';
    const headers = method === 'MOVE' || method === 'COPY' ? `\r\nDestination: /stolen.txt` : '';
    const res = await raw(`${method} ${path} HTTP/1.1${headers}\r\nContent-Length: ${Buffer.byteLength(body)}`, body);
    expect(res.status).toBe(400);
    expect(res.text).not.toContain(SECRET);
    expect(await outsideSnapshot()).toBe(before);
    expect(await exists(join(t.root, 'stolen.txt'))).toBe(false);
  });

  it('a COPY or MOVE whose Destination leaves the root is refused and writes nothing outside', async () => {
    const before = await outsideSnapshot();
    for (const dest of ['/../outside.txt', '/%2e%2e/outside.txt', '/..%2Foutside.txt', `http://127.0.0.1:${t.port}/%2e%2e/outside.txt`, '/%2e%2e/outsidedir/copied.txt']) {
      for (const method of ['COPY', 'MOVE']) {
        const res = await raw(`${method} /inside.txt HTTP/1.1\r\nDestination: ${dest}\r\nOverwrite: T`);
        expect([`${method} ${dest}`, res.status]).toEqual([`${method} ${dest}`, 400]);
      }
    }
    expect(await outsideSnapshot()).toBe(before);
    expect(await readFile(join(t.root, 'inside.txt'), 'utf8')).toBe('inside');
  });

  it.each([
    ['GET', '/%252e%252e/outside.txt', [404]], // decoded once: a literal "%2e%2e" name, which does not exist
    ['PUT', '/%252e%252e%252Foutside.txt', [201]], // a literal name holding "%2e%2e%2F", created inside the root
    ['GET', `/${'a'.repeat(300)}.txt`, [400, 404, 414]],
    ['PUT', `/${'b'.repeat(300)}.txt`, [400, 414]],
    ['GET', '/bad%ZZescape', [400]],
    ['GET', '/inside.txt?path=../outside.txt', [200]],
    ['GET', '//inside.txt', [200, 400, 404]],
  ])('%s %s answers one of %j and stays inside the root', async (method, path, statuses) => {
    const before = await outsideSnapshot();
    const body = method === 'PUT' ? 'inside only' : '';
    const res = await raw(`${method} ${path} HTTP/1.1\r\nContent-Length: ${body.length}`, body);
    expect(statuses).toContain(res.status);
    expect(res.text).not.toContain(SECRET);
    expect(await outsideSnapshot()).toBe(before);
    if (method === 'PUT' && res.status === 201) {
      expect(await readFile(join(t.root, '%2e%2e%2Foutside.txt'), 'utf8')).toBe('inside only');
      expect((await req('DELETE', path)).status).toBe(204);
    }
  });

  it('the root stays exactly as it was', async () => {
    expect(await walk(t.root)).toEqual(['.keepdav-state-id', 'inside.txt', 'sub', 'sub/a.txt']);
  });
});

describe('symlinks that lead outside the root', () => {
  beforeAll(async () => {
    await symlink(join(base, 'outside.txt'), join(t.root, 'linkfile'));
    await symlink(join(base, 'outsidedir'), join(t.root, 'linkdir'));
    await symlink('../../outside.txt', join(t.root, 'sub', 'rellink'));
  });

  it.each(['/linkfile', '/linkdir', '/linkdir/', '/linkdir/secret.txt', '/sub/rellink'])('GET %s never reads through (404/403)', async (path) => {
    const res = await req('GET', path);
    expect([403, 404]).toContain(res.status);
    expect(res.text).not.toContain(SECRET);
    expect(res.text).not.toContain(DIR_SECRET);
    // A listing of the outside directory would name its member.
    if (!path.includes('secret.txt')) expect(res.text).not.toContain('secret.txt');
  });

  it.each(['/linkfile', '/linkdir/', '/linkdir/secret.txt'])('PROPFIND %s is 404/403', async (path) => {
    const res = await req('PROPFIND', path, { headers: { Depth: '1' } });
    expect([403, 404]).toContain(res.status);
    expect(res.text).not.toContain(DIR_SECRET);
    if (!path.includes('secret.txt')) expect(res.text).not.toContain('secret.txt');
  });

  it('PUT through a file link or into a directory link writes nothing outside', async () => {
    const before = await outsideSnapshot();
    for (const path of ['/linkfile', '/linkdir/secret.txt', '/linkdir/new.txt', '/sub/rellink']) {
      const res = await req('PUT', path, { body: 'OVERWRITTEN' });
      expect([path, [403, 404, 409].includes(res.status)]).toEqual([path, true]);
    }
    expect(await outsideSnapshot()).toBe(before);
    // The links themselves are still links to where they pointed.
    expect(await readlink(join(t.root, 'linkfile'))).toBe(join(base, 'outside.txt'));
    expect((await lstat(join(t.root, 'linkdir'))).isSymbolicLink()).toBe(true);
  });

  it('MKCOL, PROPPATCH, LOCK, DELETE, COPY and MOVE through the links touch nothing outside', async () => {
    const before = await outsideSnapshot();
    const attempts: Array<[string, string, RequestOptions]> = [
      ['MKCOL', '/linkdir/newcoll', {}],
      ['PROPPATCH', '/linkfile', { body: '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:getlastmodified>Fri, 05 Sep 2025 10:00:00 GMT</D:getlastmodified></D:prop></D:set></D:propertyupdate>' }],
      ['LOCK', '/linkdir/locked.txt', { body: '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>' }],
      ['DELETE', '/linkdir/secret.txt', {}],
      ['COPY', '/inside.txt', { headers: { Destination: '/linkdir/copied.txt' } }],
      ['MOVE', '/sub/a.txt', { headers: { Destination: '/linkdir/moved.txt' } }],
      ['COPY', '/linkfile', { headers: { Destination: '/leaked.txt' } }],
      ['COPY', '/linkdir/', { headers: { Destination: '/leakeddir/' } }],
    ];
    for (const [method, path, options] of attempts) {
      const res = await req(method, path, options);
      expect([`${method} ${path}`, res.status >= 400 && res.status < 500]).toEqual([`${method} ${path}`, true]);
    }
    expect(await outsideSnapshot()).toBe(before);
    expect(await stat(join(base, 'outside.txt')).then((s) => s.mtimeMs < Date.parse('2025-09-05T10:00:01Z') && s.mtimeMs > Date.parse('2025-09-05T09:59:59Z'))).toBe(false);
    expect(await exists(join(t.root, 'leaked.txt'))).toBe(false);
    expect(await exists(join(t.root, 'leakeddir'))).toBe(false);
    expect(await readFile(join(t.root, 'sub', 'a.txt'), 'utf8')).toBe('a');
  });

  it('DELETE of a link leading outside never removes what it points to', async () => {
    const res = await req('DELETE', '/linkfile');
    expect([204, 403, 404]).toContain(res.status);
    expect(await readFile(join(base, 'outside.txt'), 'utf8')).toBe(SECRET);
    const dir = await req('DELETE', '/linkdir/');
    expect([204, 403, 404]).toContain(dir.status);
    expect(await readFile(join(base, 'outsidedir', 'secret.txt'), 'utf8')).toBe(DIR_SECRET);
  });

  it('listings (PROPFIND Depth 1, the HTML index) do not show links that lead outside', async () => {
    // Re-create the links in case DELETE removed them.
    if (!(await exists(join(t.root, 'linkfile')))) await symlink(join(base, 'outside.txt'), join(t.root, 'linkfile'));
    if (!(await exists(join(t.root, 'linkdir')))) await symlink(join(base, 'outsidedir'), join(t.root, 'linkdir'));
    const hrefs = await propfindHrefs('/');
    expect(hrefs.some((h) => h.includes('linkfile') || h.includes('linkdir'))).toBe(false);
    expect(hrefs).toContain('/inside.txt');
    const subHrefs = await propfindHrefs('/sub/');
    expect(subHrefs.some((h) => h.includes('rellink'))).toBe(false);
    const html = await req('GET', '/');
    expect(html.status).toBe(200);
    expect(html.text).not.toContain('linkfile');
    expect(html.text).not.toContain('linkdir');
    expect(html.text).toContain('inside.txt');
  });

  it('a symlink that stays inside the root is served', async () => {
    await symlink(join(t.root, 'inside.txt'), join(t.root, 'innerlink.txt'));
    const res = await req('GET', '/innerlink.txt');
    expect(res.status).toBe(200);
    expect(res.text).toBe('inside');
  });
});

describe('reserved names (.keepdav-*)', () => {
  beforeAll(async () => {
    await writeFile(join(t.root, '.keepdav-secret'), 'reserved');
    await mkdir(join(t.root, '.keepdav-dir'));
    await writeFile(join(t.root, '.keepdav-dir', 'x.txt'), 'x');
    await writeFile(join(t.root, 'sub', '.keepdav-tmp-0123456789abcdef'), 'partial upload');
  });

  it.each(['/.keepdav-secret', '/%2Ekeepdav-secret', '/.keepdav-dir/', '/.keepdav-dir/x.txt', '/sub/.keepdav-tmp-0123456789abcdef'])('GET and PROPFIND %s are 404', async (path) => {
    const get = await req('GET', path);
    expect(get.status).toBe(404);
    expect(get.text).not.toContain('reserved');
    expect(get.text).not.toContain('partial upload');
    const pf = await req('PROPFIND', path, { headers: { Depth: '0' } });
    expect(pf.status).toBe(404);
  });

  it('are not listed', async () => {
    const hrefs = [...(await propfindHrefs('/')), ...(await propfindHrefs('/sub/'))];
    expect(hrefs.some((h) => h.includes('keepdav-'))).toBe(false);
    const html = await req('GET', '/sub/');
    // Only the page's own assets (/.keepdav-ui/, served by keepdav, not stored) may be named there.
    expect(html.text).not.toMatch(/\.keepdav-(?!ui\/)/);
    expect(html.text).toContain('.keepdav-ui/');
  });

  it('cannot be written, created, locked, deleted, copied onto or moved onto', async () => {
    const attempts: Array<[string, string, RequestOptions]> = [
      ['PUT', '/.keepdav-new', { body: 'x' }],
      ['PUT', '/.keepdav-secret', { body: 'overwritten' }],
      ['PUT', '/sub/.keepdav-tmp-0123456789abcdef', { body: 'overwritten' }],
      ['PUT', '/.keepdav-dir/y.txt', { body: 'y' }],
      ['MKCOL', '/.keepdav-newdir', {}],
      ['LOCK', '/.keepdav-locknull', { body: '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>' }],
      ['DELETE', '/.keepdav-secret', {}],
      ['DELETE', '/.keepdav-dir/', {}],
      ['PROPPATCH', '/.keepdav-secret', { body: '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>x</D:displayname></D:prop></D:set></D:propertyupdate>' }],
      ['COPY', '/inside.txt', { headers: { Destination: '/.keepdav-copy' } }],
      ['MOVE', '/inside.txt', { headers: { Destination: '/.keepdav-secret', Overwrite: 'T' } }],
      ['COPY', '/.keepdav-secret', { headers: { Destination: '/revealed.txt' } }],
      ['MOVE', '/.keepdav-dir/', { headers: { Destination: '/revealed/' } }],
    ];
    for (const [method, path, options] of attempts) {
      const res = await req(method, path, options);
      expect([`${method} ${path}`, [403, 404, 409].includes(res.status)]).toEqual([`${method} ${path}`, true]);
    }
    expect(await readFile(join(t.root, '.keepdav-secret'), 'utf8')).toBe('reserved');
    expect(await readFile(join(t.root, 'sub', '.keepdav-tmp-0123456789abcdef'), 'utf8')).toBe('partial upload');
    expect(await readdir(join(t.root, '.keepdav-dir'))).toEqual(['x.txt']);
    for (const n of ['.keepdav-new', '.keepdav-newdir', '.keepdav-locknull', '.keepdav-copy', 'revealed.txt', 'revealed']) {
      expect([n, await exists(join(t.root, n))]).toEqual([n, false]);
    }
    expect(await readFile(join(t.root, 'inside.txt'), 'utf8')).toBe('inside');
  });
});

describe('malformed requests', () => {
  it('a request-target with a fragment (#) is 400 and does not act on the path before it', async () => {
    await writeFile(join(t.root, 'frag.txt'), 'keep');
    const get = await raw('GET /inside.txt#x HTTP/1.1');
    expect(get.status).toBe(400);
    const del = await raw('DELETE /frag.txt#anything HTTP/1.1');
    expect(del.status).toBe(400);
    expect(await readFile(join(t.root, 'frag.txt'), 'utf8')).toBe('keep');
    const put = await raw('PUT /frag.txt#x HTTP/1.1\r\nContent-Length: 3', 'new');
    expect(put.status).toBe(400);
    expect(await readFile(join(t.root, 'frag.txt'), 'utf8')).toBe('keep');
  });

  it('an absolute-form request-target is held to the path rules of origin-form: dot segments and backslashes are 400, not resolved', async () => {
    for (const target of [
      `http://127.0.0.1:${t.port}/sub/../inside.txt`,
      `http://127.0.0.1:${t.port}/sub/%2e%2e/inside.txt`,
      `http://127.0.0.1:${t.port}/./inside.txt`,
      `http://127.0.0.1:${t.port}/sub\\..\\inside.txt`,
      `http://127.0.0.1:${t.port}\\inside.txt`,
    ]) {
      expect([target, (await raw(`GET ${target} HTTP/1.1`)).status]).toEqual([target, 400]);
    }
    const plain = await raw(`GET http://127.0.0.1:${t.port}/inside.txt HTTP/1.1`);
    expect([plain.status, plain.text]).toEqual([200, 'inside']);
    expect((await raw(`GET http://127.0.0.1:${t.port} HTTP/1.1`)).status).toBe(200);
  });

  const doctypeBodies: Array<[string, string, string]> = [
    ['PROPFIND', '/', '<?xml version="1.0"?><!DOCTYPE D:propfind><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>'],
    ['PROPFIND', '/', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "v">]><D:propfind xmlns:D="DAV:"><D:prop><D:displayname/></D:prop></D:propfind>'],
    [
      'PROPPATCH', '/inside.txt',
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
        '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">' +
        '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"><!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">' +
        '<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;"><!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">' +
        '<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;"><!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>' +
        '<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop><Z:bomb>&lol9;</Z:bomb></D:prop></D:set></D:propertyupdate>',
    ],
    [
      'PROPPATCH', '/inside.txt',
      '<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop><Z:xxe>&xxe;</Z:xxe></D:prop></D:set></D:propertyupdate>',
    ],
    ['PROPPATCH', '/inside.txt', '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop><Z:undeclared>&custom;</Z:undeclared></D:prop></D:set></D:propertyupdate>'],
    ['LOCK', '/inside.txt', '<?xml version="1.0"?><!DOCTYPE D:lockinfo SYSTEM "http://127.0.0.1:1/dtd"><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>'],
  ];

  it.each(doctypeBodies)('%s %s with a DOCTYPE or entity declaration is 400', async (method, path, body) => {
    const res = await req(method, path, { body, headers: { 'Content-Type': 'application/xml', Depth: '0' } });
    expect(res.status).toBe(400);
    expect(res.text).not.toContain('root:');
    expect(res.text).not.toContain('lollollol');
  });

  it('after the entity attacks no property was stored and no lock was taken', async () => {
    const res = await req('PROPFIND', '/inside.txt', { headers: { Depth: '0' } });
    expect(res.status).toBe(207);
    expect(res.text).not.toContain('urn:z');
    expect(res.text).not.toContain('activelock');
    const put = await req('PUT', '/inside.txt', { body: 'inside' });
    expect(put.status).toBe(204); // not locked
  });

  it.each([
    ['an undeclared prefix', '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><X:prop/></D:propfind>', [400]],
    ['an empty prefixed namespace', '<?xml version="1.0"?><D:propfind xmlns:D=""><D:allprop/></D:propfind>', [400]],
    ['ill-formed XML', '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop></D:propfind>', [400]],
    ['nesting 200 levels deep', `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>${'<a>'.repeat(200)}${'</a>'.repeat(200)}</D:prop></D:propfind>`, [400, 413]],
    ['an element named __proto__', '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><__proto__/><constructor/></D:prop></D:propfind>', [207]],
    ['bytes that are not UTF-8', Buffer.concat([Buffer.from('<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:x'), Buffer.from([0xff, 0xfe]), Buffer.from('/></D:prop></D:propfind>')]), [400]],
  ])('a PROPFIND body with %s is answered %j, never 500', async (_label, body, statuses) => {
    const res = await req('PROPFIND', '/inside.txt', { body, headers: { Depth: '0', 'Content-Type': 'application/xml' } });
    expect(statuses).toContain(res.status);
  });

  it('an XML body over 1 MiB is 413 (with Content-Length)', async () => {
    const filler = ' '.repeat(1024 * 1024 + 100);
    const body = `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>${filler}`;
    const res = await raw(`PROPFIND / HTTP/1.1\r\nDepth: 0\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}`, body);
    expect(res.status).toBe(413);
  });

  it('an XML body over 1 MiB is 413 (chunked, no length announced)', async () => {
    const filler = `<!--${'x'.repeat(64 * 1024)}-->`;
    let body = '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>x</D:displayname></D:prop></D:set>';
    while (Buffer.byteLength(body) < 1024 * 1024 + 1000) body += filler;
    body += '</D:propertyupdate>';
    const bytes = Buffer.from(body);
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 32 * 1024) {
      const part = bytes.subarray(i, i + 32 * 1024);
      chunks.push(Buffer.from(part.length.toString(16) + '\r\n'), part, Buffer.from('\r\n'));
    }
    chunks.push(Buffer.from('0\r\n\r\n'));
    const res = await raw('PROPPATCH /inside.txt HTTP/1.1\r\nContent-Type: application/xml\r\nTransfer-Encoding: chunked', Buffer.concat(chunks));
    expect(res.status).toBe(413);
    // The displayname was not set to "x".
    const check = await t.request('PROPFIND', '/inside.txt', { headers: { Depth: '0' } });
    expect(check.status).toBe(207);
    expect(text(check.xml(), DAV, 'displayname')).toBe('inside.txt');
  });

  it.each(['FOO', 'TRACE', 'PATCH', 'SEARCH', 'BIND'])('the unknown method %s is 501 unsupported-method naming it, and changes nothing', async (method) => {
    const before = await walk(t.root);
    const res = await req(method, '/inside.txt', { body: 'x' });
    expect(res.status).toBe(501);
    // Also a method node:http's parser itself refuses (FOO) gets the error body every answer has.
    expect(res.text).toContain('<k:code>unsupported-method</k:code>');
    expect(res.text).toContain(`${method} is not a method this server supports`);
    expect(await walk(t.root)).toEqual(before);
    expect(await readFile(join(t.root, 'inside.txt'), 'utf8')).toBe('inside');
  });

  const LOCKINFO = '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>';
  const malformedHeaders: Array<[string, string, string, Record<string, string>, string | undefined]> = [
    ['If: unterminated list', 'PUT', '/victim.txt', { If: '(<opaquelocktoken:abc>' }, 'changed'],
    ['If: no parentheses', 'PUT', '/victim.txt', { If: 'garbage' }, 'changed'],
    ['If: empty list', 'PUT', '/victim.txt', { If: '()' }, 'changed'],
    ['If: unquoted etag', 'DELETE', '/victim.txt', { If: '([abc])' }, undefined],
    ['If: token without scheme', 'DELETE', '/victim.txt', { If: '(<no-scheme>)' }, undefined],
    ['If: tagged then untagged', 'PUT', '/victim.txt', { If: '</victim.txt> (["x"]) (["y"]) (Not)' }, 'changed'],
    ['Depth: 2 on PROPFIND', 'PROPFIND', '/victim.txt', { Depth: '2' }, undefined],
    ['Depth: empty on PROPFIND', 'PROPFIND', '/victim.txt', { Depth: '' }, undefined],
    ['Depth: one on COPY', 'COPY', '/victim.txt', { Depth: 'one', Destination: '/victim-copy.txt' }, undefined],
    ['Depth: 1 on COPY of a collection', 'COPY', '/sub/', { Depth: '1', Destination: '/sub-copy/' }, undefined],
    ['Depth: 0 on MOVE of a collection', 'MOVE', '/sub/', { Depth: '0', Destination: '/sub-moved/' }, undefined],
    ['Depth: 1 on LOCK', 'LOCK', '/victim.txt', { Depth: '1' }, LOCKINFO],
    ['Overwrite: maybe', 'COPY', '/victim.txt', { Overwrite: 'maybe', Destination: '/victim-copy.txt' }, undefined],
    ['Overwrite: empty', 'MOVE', '/victim.txt', { Overwrite: '', Destination: '/victim-moved.txt' }, undefined],
    ['Destination: not a URI', 'MOVE', '/victim.txt', { Destination: 'not a uri' }, undefined],
    ['Destination: network-path', 'COPY', '/victim.txt', { Destination: '//evil.example/x' }, undefined],
    ['Destination: bad host', 'MOVE', '/victim.txt', { Destination: 'http://bad host/x' }, undefined],
    ['Destination: bad percent', 'COPY', '/victim.txt', { Destination: '/a%zz' }, undefined],
    ['Destination: missing', 'MOVE', '/victim.txt', {}, undefined],
    ['If-Match: unquoted', 'PUT', '/victim.txt', { 'If-Match': 'abc' }, 'changed'],
    ['If-None-Match: garbage', 'PUT', '/victim.txt', { 'If-None-Match': '"a" junk' }, 'changed'],
    ['X-OC-Mtime: yesterday', 'PUT', '/victim.txt', { 'X-OC-Mtime': 'yesterday' }, 'changed'],
    ['Lock-Token: unterminated', 'UNLOCK', '/victim.txt', { 'Lock-Token': '<opaquelocktoken:abc' }, undefined],
    ['Lock-Token: missing', 'UNLOCK', '/victim.txt', {}, undefined],
    ['Content-Range on PUT', 'PUT', '/victim.txt', { 'Content-Range': 'bytes 0-6/7' }, 'changed'],
  ];

  it.each(malformedHeaders)('%s is 400 and changes nothing', async (_label, method, path, headers, body) => {
    await writeFile(join(t.root, 'victim.txt'), 'victim');
    const before = await walk(t.root);
    const res = await req(method, path, { headers: { ...headers, 'Content-Type': 'application/xml' }, body });
    expect(res.status).toBe(400);
    expect(await walk(t.root)).toEqual(before);
    expect(await readFile(join(t.root, 'victim.txt'), 'utf8')).toBe('victim');
    if (method === 'LOCK') {
      // No lock was granted: an unconditional PUT still succeeds.
      const put = await req('PUT', '/victim.txt', { body: 'victim' });
      expect(put.status).toBe(204);
    }
  });

  it.each([
    ['Content-Length: abc', 'PUT /victim.txt HTTP/1.1\r\nContent-Length: abc'],
    ['two different Content-Lengths', 'PUT /victim.txt HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4'],
    ['a header line without a colon', 'GET /victim.txt HTTP/1.1\r\nThis is not a header'],
    ['a space inside the request-target', 'GET /vic tim.txt HTTP/1.1'],
  ])('an unparseable request (%s) is 400', async (_label, head) => {
    await writeFile(join(t.root, 'victim.txt'), 'victim');
    const res = await raw(head, 'abc');
    expect(res.status).toBe(400);
    expect(await readFile(join(t.root, 'victim.txt'), 'utf8')).toBe('victim');
  });

  it('a body in a transfer coding besides chunked is 501 unsupported-transfer-coding, and nothing is stored (RFC 9112 §6.1)', async () => {
    const chunk = Buffer.from('not really gzip');
    const body = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n0\r\n\r\n')]);
    for (const codings of ['gzip, chunked', 'deflate,chunked']) {
      const put = await raw(`PUT /coded.bin HTTP/1.1\r\nTransfer-Encoding: ${codings}`, body);
      expect([put.status, codings]).toEqual([501, codings]);
      expect(put.text).toContain('unsupported-transfer-coding');
    }
    await expect(readFile(join(t.root, 'coded.bin'))).rejects.toMatchObject({ code: 'ENOENT' });
    const plain = await raw('PUT /coded.bin HTTP/1.1\r\nTransfer-Encoding: Chunked', body);
    expect(plain.status).toBe(201);
    expect(await readFile(join(t.root, 'coded.bin'), 'utf8')).toBe('not really gzip');
  });

  it('an HTTP/1.0 request with Transfer-Encoding is 400 and its connection closes: nothing stored, nothing pipelined behind it answered (RFC 9112 §6.1)', async () => {
    const res = await raw('PUT /te10.txt HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /inside.txt HTTP/1.0\r\nConnection: keep-alive');
    expect(res.status).toBe(400);
    expect(res.headers.connection).toBe('close');
    expect(res.text).not.toContain('HTTP/1.1 200');
    expect(await exists(join(t.root, 'te10.txt'))).toBe(false);
  });

  it('an absolute-form request-target names the host, not the Host header (RFC 9112 §3.2.2): the rebinding guard reads it', async () => {
    expect((await raw(`GET http://attacker.example/inside.txt HTTP/1.1\r\nHost: 127.0.0.1:${t.port}`)).status).toBe(421);
    const ours = await raw(`GET http://127.0.0.1:${t.port}/inside.txt HTTP/1.1\r\nHost: attacker.example`);
    expect([ours.status, ours.text]).toEqual([200, 'inside']);
  });

  it('what node:http cannot parse is answered with the error body too: 400 bad-request naming the fault, 431 headers-too-large', async () => {
    const folded = await raw('GET /inside.txt HTTP/1.1\r\nX-Folded: a\r\n b');
    expect(folded.status).toBe(400);
    expect(folded.text).toContain('<k:code>bad-request</k:code>');
    expect(folded.text).toContain('could not be parsed as HTTP/1.1');
    const huge = await raw(`GET /inside.txt HTTP/1.1\r\nX-Big: ${'x'.repeat(20_000)}`);
    expect(huge.status).toBe(431);
    expect(huge.text).toContain('<k:code>headers-too-large</k:code>');
    // The browser headers every answer carries (README "In a browser"), these too.
    for (const res of [folded, huge]) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('same-origin');
    }
  });

  it('two Host headers are 400 (RFC 9112 §3.2), and nothing is done', async () => {
    await writeFile(join(t.root, 'hosted.txt'), 'keep');
    const del = await raw(`DELETE /hosted.txt HTTP/1.1\r\nHost: 127.0.0.1:${t.port}\r\nHost: elsewhere.example`);
    expect(del.status).toBe(400);
    expect(await readFile(join(t.root, 'hosted.txt'), 'utf8')).toBe('keep');
  });

  it('CONNECT is answered 501 unsupported-method (keepdav is no proxy), not dropped', async () => {
    const res = await raw(`CONNECT 127.0.0.1:${t.port} HTTP/1.1\r\nHost: 127.0.0.1:${t.port}`);
    expect(res.status).toBe(501);
    expect(res.headers.connection).toBe('close');
    expect(res.text).toContain('unsupported-method');
  });

  it('the server still answers normally after all of that', async () => {
    const res = await req('GET', '/inside.txt');
    expect(res.status).toBe(200);
    expect(res.text).toBe('inside');
  });
});

describe('names a web page could point at 127.0.0.1 (DNS rebinding)', () => {
  // With no users on loopback anonymous may write, so only names no one else's DNS decides are served.
  it('a Host that is not localhost or an IP address is 421 host-not-served, and nothing is read, written or removed', async () => {
    await writeFile(join(t.root, 'rebound.txt'), 'mine');
    const get = await raw(`GET /rebound.txt HTTP/1.1\r\nHost: attacker.example:${t.port}`);
    expect(get.status).toBe(421);
    expect(get.text).toContain('host-not-served');
    expect(get.text).not.toContain('mine');
    expect((await raw(`PUT /rebound.txt HTTP/1.1\r\nHost: attacker.example:${t.port}\r\nOrigin: http://attacker.example:${t.port}\r\nContent-Length: 5`, 'pwned')).status).toBe(421);
    expect((await raw(`DELETE /rebound.txt HTTP/1.1\r\nHost: attacker.example`)).status).toBe(421);
    expect((await raw(`PROPFIND / HTTP/1.1\r\nHost: 127.0.0.1.nip.example\r\nDepth: 1`)).status).toBe(421);
    expect(await readFile(join(t.root, 'rebound.txt'), 'utf8')).toBe('mine');
  });

  it('localhost, its subdomains and IP addresses are served', async () => {
    for (const host of [`localhost:${t.port}`, 'LOCALHOST', 'app.localhost', `127.0.0.1:${t.port}`, '127.1.2.3', `[::1]:${t.port}`, 'localhost.']) {
      const res = await raw(`GET /rebound.txt HTTP/1.1\r\nHost: ${host}`);
      expect([host, res.status, res.text]).toEqual([host, 200, 'mine']);
    }
  });

  it('with users, or through a trusted proxy, any name is served', async () => {
    const viaProxy = await startTestServer({ trustProxy: ['127.0.0.1'] });
    try {
      await writeFile(join(viaProxy.root, 'p.txt'), 'proxied');
      const res = await rawRequest(viaProxy.port, 'GET /p.txt HTTP/1.1\r\nHost: dav.example.com\r\nX-Forwarded-For: 198.51.100.4');
      expect([res.status, res.text]).toEqual([200, 'proxied']);
    } finally {
      await viaProxy.close();
    }
    const withUsers = await startAuthServer([htpasswdLine('alice', 'pw', 'bcryptjs')]);
    try {
      const anonymous = await rawRequest(withUsers.port, 'GET / HTTP/1.1\r\nHost: dav.example.com');
      expect(anonymous.status).toBe(401);
    } finally {
      await withUsers.close();
    }
  });
});

describe('names with UTF-8 and spaces', () => {
  it('round trip: PUT, PROPFIND href in the same encoded form, the decoded name on disk, GET', async () => {
    expect((await req('MKCOL', '/d/')).status).toBe(201);
    const put = await req('PUT', '/d/h%C3%A9llo%20w.txt', { body: 'bonjour' });
    expect(put.status).toBe(201);
    const onDisk = await readdir(join(t.root, 'd'));
    expect(onDisk).toEqual(['h\u00e9llo w.txt']);
    expect(await readFile(join(t.root, 'd', 'h\u00e9llo w.txt'), 'utf8')).toBe('bonjour');

    const hrefs = await propfindHrefs('/d/');
    expect(hrefs.sort()).toEqual(['/d/', '/d/h%C3%A9llo%20w.txt']);

    const one = await req('PROPFIND', '/d/h%C3%A9llo%20w.txt', { headers: { Depth: '0' }, body: '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:displayname/></D:prop></D:propfind>' });
    expect(one.status).toBe(207);
    const res = await t.request('PROPFIND', '/d/h%C3%A9llo%20w.txt', { headers: { Depth: '0' }, body: '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:displayname/></D:prop></D:propfind>' });
    expect(text(res.xml(), DAV, 'href')).toBe('/d/h%C3%A9llo%20w.txt');
    expect(text(res.xml(), DAV, 'displayname')).toBe('h\u00e9llo w.txt');

    const get = await req('GET', '/d/h%C3%A9llo%20w.txt');
    expect(get.status).toBe(200);
    expect(get.text).toBe('bonjour');
    // Lower-case escapes name the same resource.
    const lower = await req('GET', '/d/h%c3%a9llo%20w.txt');
    expect(lower.status).toBe(200);
    expect(lower.text).toBe('bonjour');
  });

  it('a file created on disk with such a name is listed with the same encoding', async () => {
    await writeFile(join(t.root, 'd', 'caf\u00e9 & b\u00e4r #1.txt'), 'x');
    const hrefs = await propfindHrefs('/d/');
    expect(hrefs).toContain('/d/caf%C3%A9%20&%20b%C3%A4r%20%231.txt');
    const get = await req('GET', '/d/caf%C3%A9%20%26%20b%C3%A4r%20%231.txt');
    expect(get.status).toBe(200);
    expect(get.text).toBe('x');
  });

  it('MOVE to a name with UTF-8 and spaces lands under that name on disk', async () => {
    const res = await req('MOVE', '/d/h%C3%A9llo%20w.txt', { headers: { Destination: `http://127.0.0.1:${t.port}/d/%E6%97%A5%E6%9C%AC%20x.txt` } });
    expect(res.status).toBe(201);
    expect((await readdir(join(t.root, 'd'))).sort()).toEqual(['caf\u00e9 & b\u00e4r #1.txt', '\u65e5\u672c x.txt'].sort());
  });
});

describe('no answer leaks', () => {
  it('no answer to any request above was a 500', () => {
    expect(answers.length).toBeGreaterThan(100);
    expect(answers.filter((a) => a.status >= 500 && a.status !== 501).map((a) => `${a.label} -> ${a.status}`)).toEqual([]);
  });

  it('no answer body holds a host path or a stack trace', () => {
    const hostBits = [t.root, base, dirname(base) + '/keepdav-test-', process.cwd(), '/src/', '.ts:'];
    const leaks = answers.filter((a) => {
      const body = a.text;
      return hostBits.some((h) => body.includes(h)) || /\bat [^\s]+ \(?[^\s]*:\d+:\d+\)?/.test(body) || /\n\s+at /.test(body) || /Error: .*\n/.test(body);
    });
    expect(leaks.map((a) => `${a.label} -> ${a.status}: ${a.text.slice(0, 200)}`)).toEqual([]);
  });

  it('no header value holds a host path either', () => {
    const leaks = answers.filter((a) => Object.values(a.headers).some((v) => String(v).includes(base)));
    expect(leaks.map((a) => a.label)).toEqual([]);
  });
});
