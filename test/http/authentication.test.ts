/**
 * Signing in over real HTTP (RFC 7617 Basic): the challenge, right and wrong credentials, UTF-8
 * names and passwords, malformed Authorization headers (never 500), htpasswd hashes of every
 * accepted kind, slowing down repeated failures per address (clock injected), a users file that
 * changes under the running server, and no password or hash in any answer or log line.
 */
import { writeFile, readFile } from 'node:fs/promises';
import { startAuthServer, htpasswdLine, basic, errorCode, htpasswdAvailable, type AuthServer } from '../support/authKit';
import { itWhenInstalled } from '../support/realClientKit';
import { header } from '../support/davHttpKit';

const PASSWORDS = { alice: 'wonderland', bob: 'builder', 'Zoë': 'päss wörd:with colon', dan: 'md5-ïs-wëak', erin: 'shä-is-weak' };
const withHtpasswd = itWhenInstalled('htpasswd', htpasswdAvailable, 'apt-get install -y apache2-utils');

describe('authentication', () => {
  let t: AuthServer;
  const seen: string[] = [];
  const request = async (...args: Parameters<AuthServer['request']>) => {
    const res = await t.request(...args);
    seen.push(JSON.stringify(res.headers), res.text);
    return res;
  };

  beforeAll(async () => {
    const lines = [
      htpasswdLine('alice', PASSWORDS.alice),
      htpasswdLine('bob', PASSWORDS.bob, 'bcryptjs'),
      htpasswdLine('Zoë', PASSWORDS['Zoë'], 'bcryptjs'),
    ];
    if (htpasswdAvailable) lines.push(htpasswdLine('dan', PASSWORDS.dan, 'htpasswd -m'), htpasswdLine('erin', PASSWORDS.erin, 'htpasswd -s'));
    t = await startAuthServer(lines, { authFailLimit: 3 });
    await writeFile(`${t.root}/hello.txt`, 'hello\n');
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 401 with the Basic challenge and a DAV error body without credentials', async () => {
    const res = await request('GET', '/hello.txt');
    expect(res.status).toBe(401);
    expect(header(res, 'www-authenticate')).toBe('Basic realm="keepdav", charset="UTF-8"');
    expect(errorCode(res)).toBe('unauthorized');
    const propfind = await request('PROPFIND', '/', { headers: { Depth: '0' } });
    expect(propfind.status).toBe(401);
  });

  it('serves a user with the right password (bcrypt from htpasswd -B and from bcryptjs)', async () => {
    const a = await request('GET', '/hello.txt', { headers: basic('alice', PASSWORDS.alice) });
    expect([a.status, a.text]).toEqual([200, 'hello\n']);
    const b = await request('PUT', '/bob.txt', { headers: basic('bob', PASSWORDS.bob), body: 'from bob' });
    expect(b.status).toBe(201);
    expect(await readFile(`${t.root}/bob.txt`, 'utf8')).toBe('from bob');
  });

  it('takes UTF-8 user names and passwords (a colon in the password included)', async () => {
    const res = await request('GET', '/hello.txt', { headers: basic('Zoë', PASSWORDS['Zoë']) });
    expect(res.status).toBe(200);
    // The same name in decomposed form (NFD) is the same user.
    const nfd = await request('GET', '/hello.txt', { headers: basic('Zoë'.normalize('NFD'), PASSWORDS['Zoë']) });
    expect(nfd.status).toBe(200);
  });

  withHtpasswd('accepts Apache MD5 ($apr1$) and {SHA} entries made by htpasswd, and warned about them at start', async () => {
    expect((await request('GET', '/hello.txt', { headers: basic('dan', PASSWORDS.dan) })).status).toBe(200);
    expect((await request('GET', '/hello.txt', { headers: basic('erin', PASSWORDS.erin) })).status).toBe(200);
    expect((await request('GET', '/hello.txt', { headers: basic('dan', PASSWORDS.erin) })).status).toBe(401);
    expect((await request('GET', '/hello.txt', { headers: basic('erin', PASSWORDS.dan) })).status).toBe(401);
    const warnings = t.logs.filter((l) => /weak password hashes/.test(l));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/dan, erin/);
    expect(warnings[0]).not.toMatch(/alice|bob/);
  });

  it('answers 401 for a wrong password and for an unknown user alike', async () => {
    t.clock.advance(61_000); // earlier failures must not count here
    const wrong = await request('GET', '/hello.txt', { headers: basic('alice', 'not-it') });
    const unknown = await request('GET', '/hello.txt', { headers: basic('mallory', 'not-it') });
    for (const res of [wrong, unknown]) {
      expect(res.status).toBe(401);
      expect(header(res, 'www-authenticate')).toBe('Basic realm="keepdav", charset="UTF-8"');
      expect(errorCode(res)).toBe('unauthorized');
    }
    expect(wrong.text).toBe(unknown.text);
    t.clock.advance(61_000); // these failures must not count against the next tests
  });

  it('answers a malformed Authorization header with 400 or 401, never 500', async () => {
    const malformed = [
      'Basic',
      'Basic !!!not-base64!!!',
      'Basic ' + Buffer.from('no-colon-here').toString('base64'),
      'Basic ' + Buffer.from([0xff, 0xfe, 0x3a, 0x41]).toString('base64'),
      'Basic ' + Buffer.from(':only-a-password').toString('base64'),
      'Basic ' + Buffer.from('ctl\u0001user:x').toString('base64'),
      '   ',
      'Basic a b c',
      'Digest username="alice"',
      'Bearer abc.def',
    ];
    for (const value of malformed) {
      const res = await request('GET', '/hello.txt', { headers: { Authorization: value } });
      expect({ value, status: [400, 401].includes(res.status) }).toEqual({ value, status: true });
    }
  });

  it('slows down repeated failures from one address with 429 and Retry-After, not the other addresses', async () => {
    const from2 = (h: Record<string, string>) => t.requestFrom('127.0.0.2', 'GET', '/hello.txt', { headers: h });
    expect((await from2(basic('alice', PASSWORDS.alice))).status).toBe(200); // verified, so remembered: held back all the same below
    for (let i = 0; i < 3; i++) expect((await from2(basic('alice', `guess ${i}`))).status).toBe(401);
    const limited = await from2(basic('alice', PASSWORDS.alice));
    expect(limited.status).toBe(429);
    expect(errorCode(limited)).toBe('too-many-attempts');
    expect(Number(header(limited, 'retry-after'))).toBeGreaterThan(0);
    expect(Number(header(limited, 'retry-after'))).toBeLessThanOrEqual(60);
    // Another address is not affected.
    expect((await t.requestFrom('127.0.0.3', 'GET', '/hello.txt', { headers: basic('alice', PASSWORDS.alice) })).status).toBe(200);
    // After a minute the address may try again.
    t.clock.advance(61_000);
    expect((await from2(basic('alice', PASSWORDS.alice))).status).toBe(200);
  });

  it('notices a users file that changes under the running server (a cached password stops working)', async () => {
    expect((await request('GET', '/hello.txt', { headers: basic('bob', PASSWORDS.bob) })).status).toBe(200);
    const original = await readFile(t.usersFile, 'utf8');
    const others = original.split('\n').filter((l) => l !== '' && !l.startsWith('bob:'));
    await writeFile(t.usersFile, [...others, htpasswdLine('bob', 'new password'), htpasswdLine('frank', 'frank pw')].join('\n') + '\n');
    t.clock.advance(1_001);
    expect((await request('GET', '/hello.txt', { headers: basic('bob', PASSWORDS.bob) })).status).toBe(401);
    expect((await request('GET', '/hello.txt', { headers: basic('bob', 'new password') })).status).toBe(200);
    expect((await request('GET', '/hello.txt', { headers: basic('frank', 'frank pw') })).status).toBe(200);
    expect(t.logs.some((l) => /users file .* changed/.test(l))).toBe(true);

    // A broken file is reported once and the users read before stay.
    await writeFile(t.usersFile, 'frank:plaintext-password\n');
    t.clock.advance(1_001);
    expect((await request('GET', '/hello.txt', { headers: basic('frank', 'frank pw') })).status).toBe(200);
    expect(t.logs.filter((l) => /line 1/.test(l))).toHaveLength(1);
    await writeFile(t.usersFile, original);
    t.clock.advance(61_000);
  });

  it('re-reads users on reconfigure', async () => {
    await writeFile(t.usersFile, htpasswdLine('gina', 'gina pw') + '\n');
    t.server.services.access.reconfigure(t.server.services.config);
    expect((await request('GET', '/hello.txt', { headers: basic('gina', 'gina pw') })).status).toBe(200);
    expect((await request('GET', '/hello.txt', { headers: basic('alice', PASSWORDS.alice) })).status).toBe(401);
  });

  it('never shows a password or a hash in an answer or a log line', async () => {
    const secrets = [...Object.values(PASSWORDS), 'new password', 'frank pw', 'gina pw', 'not-it'];
    const hashes = (await readFile(t.usersFile, 'utf8')).split('\n').filter(Boolean).map((l) => l.slice(l.indexOf(':') + 1));
    const everything = [...seen, ...t.logs].join('\n');
    expect(seen.length).toBeGreaterThan(20);
    for (const secret of [...secrets, ...hashes]) expect(everything.includes(secret)).toBe(false);
    expect(everything).not.toMatch(/\$2[aby]\$|\$apr1\$|\{SHA\}/);
  });
});
