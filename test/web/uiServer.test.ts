/**
 * The page's server side over real HTTP: the collection page's head and security headers, the
 * assets under the reserved prefix (content ETags, 304, cache rules), whoami, the sandbox on stored
 * files, and the refusal of cross-site POSTs (issue 10, "Security").
 */
import { readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/testServer';
import { startAuthServer, htpasswdLine, basic } from '../support/authKit';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

function assetPrefix(html: string): string {
  const m = /<meta name="keepdav-ui" content="([^"]+)">/.exec(html);
  expect(m).not.toBeNull();
  return m![1];
}

describe('the collection page', () => {
  it('keeps the plain <a href> index and adds only a stylesheet and a module script from the reserved prefix', async () => {
    writeFileSync(join(server.root, 'a b.txt'), 'x');
    const res = await server.request('GET', '/', { headers: { Accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.text).toContain('<a href="/a%20b.txt">a b.txt</a>');
    const prefix = assetPrefix(res.text);
    expect(prefix).toMatch(/^\/\.keepdav-ui\/[0-9a-f]{16}\/$/);
    expect(res.text).toContain(`<script type="module" src="${prefix}app.js"></script>`);
    expect(res.text).toContain(`<link rel="stylesheet" href="${prefix}app.css">`);
    expect(res.text).not.toMatch(/<script>|<style|style="/);
  });

  it('answers with a CSP that allows no inline script or style, nosniff and a Referrer-Policy', async () => {
    const res = await server.request('GET', '/', { headers: { Accept: 'text/html' } });
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('same-origin');
  });
});

describe('the plain index of a large folder', () => {
  const NAMES = Array.from({ length: 1234 }, (_, i) => `entry ${i}.txt`);
  const rowsOf = (html: string) => [...html.matchAll(/<tr><td><a href="[^"]+">([^<]+)<\/a>/g)].map((m) => m[1]).filter((n) => n !== '../');
  beforeAll(() => {
    mkdirSync(join(server.root, 'large'));
    for (const n of NAMES) writeFileSync(join(server.root, 'large', n), '');
  });

  it('comes in pages of 500 for a browser, each linking its neighbours, together listing every member once', async () => {
    const pages = await Promise.all([1, 2, 3].map((n) => server.request('GET', n === 1 ? '/large/' : `/large/?page=${n}`, { headers: { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } })));
    const [one, two, three] = pages.map((p) => p.text);
    expect(pages.map((p) => p.status)).toEqual([200, 200, 200]);
    expect(rowsOf(one)).toHaveLength(500);
    expect(rowsOf(two)).toHaveLength(500);
    expect(rowsOf(three)).toHaveLength(234);
    expect(one).toContain('<p class="kd-pages">Entries 1\u2013500. <a rel="next" href="?page=2">Next page</a></p>');
    expect(two).toContain('<p class="kd-pages">Entries 501\u20131000. <a rel="prev" href="?page=1">Previous page</a> <a rel="next" href="?page=3">Next page</a></p>');
    expect(three).toContain('<p class="kd-pages">Entries 1001\u20131234. <a rel="prev" href="?page=2">Previous page</a></p>');
    expect([...rowsOf(one), ...rowsOf(two), ...rowsOf(three)].sort()).toEqual([...NAMES].sort());
    const past = await server.request('GET', '/large/?page=4', { headers: { Accept: 'text/html' } });
    expect(rowsOf(past.text)).toEqual([]);
    expect(past.text).toContain('No entries on this page. <a rel="prev" href="?page=3">');
  });

  it('stays whole for clients that parse the index (Accept */*), and pages only when they ask for a page', async () => {
    const whole = await server.request('GET', '/large/', { headers: { Accept: '*/*' } });
    expect(rowsOf(whole.text).sort()).toEqual([...NAMES].sort());
    expect(whole.text).not.toContain('kd-pages');
    expect(rowsOf((await server.request('GET', '/large/?page=3')).text)).toHaveLength(234);
    expect(rowsOf((await server.request('GET', '/large/', { headers: { Accept: 'text/html;q=0, */*' } })).text)).toHaveLength(1234);
  });

  it('answers 400 to a page number that is not one', async () => {
    for (const bad of ['0', '-1', 'x', '1.5', '']) {
      const res = await server.request('GET', `/large/?page=${bad}`, { headers: { Accept: 'application/problem+json' } });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text).code).toBe('bad-request');
    }
  });
});

describe('the assets', () => {
  it('serves the script with a content ETag, a year of caching for the current version, and 304 on revalidation', async () => {
    const prefix = assetPrefix((await server.request('GET', '/')).text);
    const res = await server.request('GET', `${prefix}app.js`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.headers.etag).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    expect(res.text).toContain('import');
    const again = await server.request('GET', `${prefix}app.js`, { headers: { 'If-None-Match': String(res.headers.etag) } });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    const css = await server.request('GET', `${prefix}app.css`);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const icons = await server.request('GET', `${prefix}icons.svg`);
    expect(icons.headers['content-type']).toBe('image/svg+xml');
    expect(icons.text).toContain('id="i-folder"');
  });

  it('answers an old version segment with no-cache, and 404 for what is not an asset', async () => {
    const old = await server.request('GET', '/.keepdav-ui/0000000000000000/app.js');
    expect(old.status).toBe(200);
    expect(old.headers['cache-control']).toBe('no-cache');
    expect((await server.request('GET', '/.keepdav-ui/0000000000000000/nope.js')).status).toBe(404);
    expect((await server.request('GET', '/.keepdav-ui/0000000000000000/x/app.js')).status).toBe(404);
    expect((await server.request('GET', '/.keepdav-ui/0000000000000000/../../etc/passwd')).status).toBe(400);
  });

  it('cannot be shadowed or written: the prefix is read-only and a stored .keepdav-ui is never created', async () => {
    const put = await server.request('PUT', '/.keepdav-ui/x/app.js', { body: 'alert(1)' });
    expect(put.status).toBe(405);
    expect((await server.request('MKCOL', '/.keepdav-ui/')).status).toBe(405);
    expect(existsSync(join(server.root, '.keepdav-ui'))).toBe(false);
  });

  it('whoami says who is signed in and whether they may write', async () => {
    const res = await server.request('GET', '/.keepdav-ui/whoami?path=%2F');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(res.text)).toEqual({ user: null, canWrite: true, canSignIn: false, base: '/', path: '/' });
  });
});

describe('stored files', () => {
  it('are served under a sandboxing CSP, so an uploaded HTML or SVG file runs no script in this origin', async () => {
    await server.request('PUT', '/evil.html', { body: '<script>alert(1)</script>' });
    await server.request('PUT', '/evil.svg', { body: '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>' });
    for (const path of ['/evil.html', '/evil.svg']) {
      const res = await server.request('GET', path);
      expect(res.status).toBe(200);
      expect(res.headers['content-security-policy']).toBe('sandbox');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('keep the sandbox on a retained version of an HTML file', async () => {
    await server.request('PUT', '/page.html', { body: 'one' });
    await server.request('PUT', '/page.html', { body: 'two' });
    const { versions } = JSON.parse((await server.request('GET', '/page.html?versions')).text) as { versions: Array<{ id: string }> };
    const res = await server.request('GET', `/page.html?version=${versions[0].id}`);
    expect(res.text).toBe('one');
    expect(res.headers['content-security-policy']).toBe('sandbox');
  });
});

describe('cross-site POST', () => {
  async function retainedPair(name: string): Promise<string> {
    await server.request('PUT', `/${name}`, { body: 'old' });
    await server.request('PUT', `/${name}`, { body: 'new' });
    return (JSON.parse((await server.request('GET', `/${name}?versions`)).text) as { versions: Array<{ id: string }> }).versions[0].id;
  }

  it('refuses a restore from another origin with 403 cross-site-request and changes nothing', async () => {
    const id = await retainedPair('csrf.txt');
    const res = await server.request('POST', `/csrf.txt?restore=${id}`, { headers: { Origin: 'http://evil.example', Accept: 'application/problem+json' } });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.text).code).toBe('cross-site-request');
    const nullOrigin = await server.request('POST', `/csrf.txt?restore=${id}`, { headers: { Origin: 'null' } });
    expect(nullOrigin.status).toBe(403);
    const fetchSite = await server.request('POST', `/csrf.txt?restore=${id}`, { headers: { 'Sec-Fetch-Site': 'cross-site' } });
    expect(fetchSite.status).toBe(403);
    expect(readFileSync(join(server.root, 'csrf.txt'), 'utf8')).toBe('new');
  });

  it('accepts the same origin, the page header, and programs that send no browser marks', async () => {
    const id = await retainedPair('same.txt');
    const res = await server.request('POST', `/same.txt?restore=${id}`, { headers: { Origin: `http://127.0.0.1:${server.port}`, Host: `127.0.0.1:${server.port}` } });
    expect(res.status).toBe(204);
    expect(readFileSync(join(server.root, 'same.txt'), 'utf8')).toBe('old');
    const id2 = await retainedPair('ui.txt');
    expect((await server.request('POST', `/ui.txt?restore=${id2}`, { headers: { 'X-Keepdav-UI': '1', 'Sec-Fetch-Site': 'same-origin' } })).status).toBe(204);
    const id3 = await retainedPair('curl.txt');
    expect((await server.request('POST', `/curl.txt?restore=${id3}`)).status).toBe(204);
    expect(readFileSync(join(server.root, 'curl.txt'), 'utf8')).toBe('old');
  });
});

describe('whoami with users', () => {
  it('names the signed-in user, says whether they may write, and asks anonymous callers to sign in', async () => {
    const auth = await startAuthServer([htpasswdLine('alice', 'a', 'bcryptjs'), htpasswdLine('bob', 'b', 'bcryptjs')], {
      access: [{ path: '/', who: ['alice'], allow: 'write' }, { path: '/', who: ['bob'], allow: 'read' }] as never,
    });
    try {
      const bob = await auth.request('GET', '/.keepdav-ui/whoami?path=%2F', { headers: basic('bob', 'b') });
      expect(JSON.parse(bob.text)).toMatchObject({ user: 'bob', canWrite: false });
      const alice = await auth.request('GET', '/.keepdav-ui/whoami?path=%2F', { headers: basic('alice', 'a') });
      expect(JSON.parse(alice.text)).toMatchObject({ user: 'alice', canWrite: true });
      const anonymous = await auth.request('GET', '/.keepdav-ui/whoami?path=%2F');
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers['www-authenticate']).toMatch(/^Basic /);
      // The assets themselves hold no data: they load before the sign-in.
      const page = await auth.request('GET', '/', { headers: basic('bob', 'b') });
      expect((await auth.request('GET', `${assetPrefix(page.text)}app.js`)).status).toBe(200);
    } finally {
      await auth.close();
    }
  });
});

describe('sign-in where anonymous users may read (--anonymous read)', () => {
  it('whoami offers it to the anonymous; GET <base>?signin challenges until signed in, then sends the browser back to its folder (303), never to another site', async () => {
    const auth = await startAuthServer([htpasswdLine('alice', 'a', 'bcryptjs')], { anonymous: 'read' } as never);
    try {
      expect((await auth.request('MKCOL', '/shared/', { headers: basic('alice', 'a') })).status).toBe(201);
      const anonymous = await auth.request('GET', '/.keepdav-ui/whoami?path=%2Fshared%2F');
      expect(JSON.parse(anonymous.text)).toMatchObject({ user: null, canWrite: false, canSignIn: true });
      const alice = await auth.request('GET', '/.keepdav-ui/whoami?path=%2Fshared%2F', { headers: basic('alice', 'a') });
      expect(JSON.parse(alice.text)).toMatchObject({ user: 'alice', canSignIn: false });

      const challenged = await auth.request('GET', '/?signin&to=%2Fshared%2F');
      expect(challenged.status).toBe(401);
      expect(challenged.headers['www-authenticate']).toMatch(/^Basic /);
      const signedIn = await auth.request('GET', '/?signin&to=%2Fshared%2F', { headers: basic('alice', 'a') });
      expect(signedIn.status).toBe(303);
      expect(signedIn.headers.location).toBe('/shared/');
      for (const elsewhere of ['//evil.example/x', 'https://evil.example/', 'javascript:alert(1)']) {
        const res = await auth.request('GET', `/?signin&to=${encodeURIComponent(elsewhere)}`, { headers: basic('alice', 'a') });
        expect({ elsewhere, status: res.status, location: res.headers.location }).toEqual({ elsewhere, status: 303, location: '/' });
      }
      expect((await auth.request('GET', '/?signin', { headers: basic('alice', 'wrong') })).status).toBe(401);
    } finally {
      await auth.close();
    }
  });

  it('without users there is nobody to sign in as: whoami offers nothing and ?signin just goes on to the folder', async () => {
    expect(JSON.parse((await server.request('GET', '/.keepdav-ui/whoami?path=%2F')).text)).toMatchObject({ user: null, canSignIn: false });
    const res = await server.request('GET', '/?signin&to=%2F');
    expect([res.status, res.headers.location]).toEqual([303, '/']);
  });
});
