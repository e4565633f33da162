/** Basic credentials, htpasswd parsing and verification, the failure limiter, loopback detection. */
import bcrypt from 'bcryptjs';
import { parseBasicCredentials } from '../../../src/auth/basicCredentials';
import { parseHtpasswd, verifyPassword, weakUsers, dummyEntryFor, UsersFileError } from '../../../src/auth/htpasswd';
import { FailureLimiter } from '../../../src/auth/failureLimiter';
import { CredentialCache } from '../../../src/auth/credentialCache';
import { isLoopbackHost, isRebindProofHost } from '../../../src/auth/safeDefault';
import { htpasswdLine, htpasswdAvailable } from '../../support/authKit';
import { TestClock } from '../../support/testClock';
import { itWhenInstalled } from '../../support/realClientKit';

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const withHtpasswd = itWhenInstalled('htpasswd', htpasswdAvailable, 'apt-get install -y apache2-utils');

describe('parseBasicCredentials (RFC 7617)', () => {
  it.each<[string | undefined, unknown]>([
    [undefined, null],
    ['Bearer abc', null],
    [`Basic ${b64('alice:secret')}`, { user: 'alice', password: 'secret' }],
    [`basic   ${b64('alice:a:b:c')}`, { user: 'alice', password: 'a:b:c' }],
    [`Basic ${b64('alice:')}`, { user: 'alice', password: '' }],
    [`Basic ${b64('Zoë:pässwörd')}`, { user: 'Zoë', password: 'pässwörd' }],
    [`Basic ${b64('Zoe\u0308:x')}`, { user: 'Zoë', password: 'x' }],
    [`Basic ${b64('alice:secret').replace(/=+$/, '')}`, { user: 'alice', password: 'secret' }],
    ['Basic', 'malformed'],
    ['Basic @@@', 'malformed'],
    [`Basic ${b64('nocolon')}`, 'malformed'],
    [`Basic ${b64(':pw')}`, 'malformed'],
    [`Basic ${b64(Buffer.from([0xc3, 0x28, 0x3a, 0x41]))}`, 'malformed'],
    [`Basic ${b64('a\u0000b:pw')}`, 'malformed'],
    ['', 'malformed'],
  ])('%s', (header, expected) => {
    expect(parseBasicCredentials(header)).toEqual(expected);
  });
});

describe('htpasswd files', () => {
  it('reads bcrypt entries and skips blank lines and comments', async () => {
    const users = parseHtpasswd(`# users\n\n${htpasswdLine('alice', 'pw', 'bcryptjs')}\r\n`, 'f');
    expect([...users.keys()]).toEqual(['alice']);
    expect(await verifyPassword('pw', users.get('alice')!)).toBe(true);
    expect(await verifyPassword('pW', users.get('alice')!)).toBe(false);
  });

  it.each<[string, RegExp]>([
    ['alice:plaintext', /line 1: the hash of user "alice" is in no accepted format/],
    ['alice:abJnggxhB/yWI', /line 1: .*no accepted format/], // crypt(3)
    ['alice:$1$salt$qJH7.N4xYta3aEG/dfqo/0', /no accepted format/], // glibc MD5, not Apache's
    ['no colon here', /line 1: expected "name:hash"/],
    [`${htpasswdLine('a', 'x', 'bcryptjs')}\n${htpasswdLine('a', 'y', 'bcryptjs')}`, /line 2: user "a" appears twice/],
    [htpasswdLine('anonymous', 'x', 'bcryptjs'), /line 1: "anonymous" cannot be a user name/],
  ])('refuses %s, naming the line and never the hash', (text, message) => {
    expect(() => parseHtpasswd(text, '/etc/keepdav/htpasswd')).toThrow(UsersFileError);
    try {
      parseHtpasswd(text, '/etc/keepdav/htpasswd');
    } catch (err) {
      expect((err as Error).message).toMatch(/^users file \/etc\/keepdav\/htpasswd, line \d+: /);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).not.toMatch(/plaintext|abJngg|qJH7|\$2/);
    }
  });

  withHtpasswd('verifies every kind htpasswd writes, UTF-8 passwords included, and names the weak ones', async () => {
    const password = 'grüße: 日本';
    const text = [
      htpasswdLine('b', password, 'htpasswd -B'),
      htpasswdLine('m', password, 'htpasswd -m'),
      htpasswdLine('s', password, 'htpasswd -s'),
    ].join('\n');
    const users = parseHtpasswd(text, 'f');
    expect([...users.values()].map((u) => u.kind)).toEqual(['bcrypt', 'apr1', 'sha1']);
    for (const entry of users.values()) {
      expect(await verifyPassword(password, entry)).toBe(true);
      expect(await verifyPassword(password + ' ', entry)).toBe(false);
    }
    expect(weakUsers(users)).toEqual(['m', 's']);
  });

  it('makes a dummy hash at the cost most users have, that no password matches', async () => {
    const users = parseHtpasswd([htpasswdLine('a', 'x', 'bcryptjs'), `b:${bcrypt.hashSync('y', 6)}`, `c:${bcrypt.hashSync('z', 6)}`].join('\n'), 'f');
    const dummy = dummyEntryFor(users);
    expect(bcrypt.getRounds(dummy.hash)).toBe(6);
    expect(await verifyPassword('x', dummy)).toBe(false);
    expect(bcrypt.getRounds(dummyEntryFor(new Map()).hash)).toBe(5);
  });
});

describe('CredentialCache', () => {
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  it('keys on the header with a secret of its own, holds no password, and stays within its capacity', () => {
    const cache = new CredentialCache(2);
    const k1 = cache.keyOf(basic('alice', 'pw'));
    expect(cache.keyOf(basic('alice', 'pw'))).toBe(k1);
    expect(cache.keyOf(basic('alice', 'pw2'))).not.toBe(k1);
    expect(new CredentialCache().keyOf(basic('alice', 'pw'))).not.toBe(k1); // a secret per process
    // A digest, never the header or the password. (A short password can turn up in 44 characters of
    // base64 by chance, so the check uses a long one.)
    const spoken = 'correct horse battery staple';
    const keyOfLongPassword = cache.keyOf(basic('alice', spoken));
    expect(keyOfLongPassword).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(keyOfLongPassword).not.toContain('correct');
    expect(keyOfLongPassword).not.toContain(Buffer.from(`alice:${spoken}`).toString('base64').slice(0, 12));
    const stored = new Map([['alice', 'hash1'], ['b', 'h'], ['c', 'h']]);
    const hashOf = (user: string) => stored.get(user);
    cache.remember(k1, 'alice', 'hash1');
    expect(cache.userFor(k1, hashOf)).toBe('alice');
    cache.remember(cache.keyOf(basic('b', 'pw')), 'b', 'h');
    cache.remember(cache.keyOf(basic('c', 'pw')), 'c', 'h');
    expect(cache.userFor(k1, hashOf)).toBeNull(); // the oldest went first
    expect(cache.userFor(cache.keyOf(basic('c', 'pw')), hashOf)).toBe('c');
  });

  it('no longer counts an entry once its user\'s stored hash changed or the user is gone', () => {
    const cache = new CredentialCache();
    const stored = new Map([['alice', 'hash1']]);
    const key = cache.keyOf(basic('alice', 'pw'));
    cache.remember(key, 'alice', 'hash1');
    expect(cache.userFor(key, (user) => stored.get(user))).toBe('alice');
    stored.set('alice', 'hash2');
    expect(cache.userFor(key, (user) => stored.get(user))).toBeNull();
    stored.delete('alice');
    expect(cache.userFor(key, (user) => stored.get(user))).toBeNull();
    expect(cache.userFor(cache.keyOf(basic('bob', 'pw')), () => 'x')).toBeNull();
  });
});

describe('FailureLimiter', () => {
  it('limits one address after N failures in a minute, until the oldest ages out', () => {
    const clock = new TestClock(0);
    const limiter = new FailureLimiter(3, clock.now);
    for (let i = 0; i < 3; i++) {
      expect(limiter.retryAfterSeconds('10.0.0.1')).toBeNull();
      limiter.recordFailure('10.0.0.1');
      clock.advance(10_000);
    }
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(30);
    expect(limiter.retryAfterSeconds('10.0.0.2')).toBeNull();
    clock.advance(30_000);
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBeNull();
  });

  it('counts an IPv6 address with its /64: a new address of the same network each try does not dodge it; other networks are not affected', () => {
    const clock = new TestClock(0);
    const limiter = new FailureLimiter(3, clock.now);
    for (const address of ['2001:db8:1:2::1', '2001:db8:1:2:ffff::9', '2001:0db8:0001:0002:abcd::']) limiter.recordFailure(address);
    expect(limiter.retryAfterSeconds('2001:db8:1:2::7777')).toBe(60);
    expect(limiter.retryAfterSeconds('2001:db8:1:3::1')).toBeNull();
    // IPv4, also written IPv4-mapped, stays one address.
    for (let i = 0; i < 3; i++) limiter.recordFailure('::ffff:192.0.2.7');
    expect(limiter.retryAfterSeconds('192.0.2.7')).toBe(60);
    expect(limiter.retryAfterSeconds('192.0.2.8')).toBeNull();
  });
});

describe('isRebindProofHost', () => {
  it.each<[string, boolean]>([
    ['localhost:8080', true],
    ['LocalHost', true],
    ['app.localhost', true],
    ['localhost.', true],
    ['127.0.0.1:8080', true],
    ['10.1.2.3', true],
    ['[::1]:8080', true],
    ['[2001:db8::1]', true],
    ['attacker.example', false],
    ['127.0.0.1.nip.example:8080', false],
    ['localhost.attacker.example', false],
    ['', false],
  ])('%s: %s', (host, proof) => {
    expect(isRebindProofHost(host)).toBe(proof);
  });
});

describe('isLoopbackHost', () => {
  it.each<[string, boolean]>([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['[::1]', true],
    ['localhost', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['192.168.1.5', false],
    ['example.org', false],
    ['', false],
  ])('%s: %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
});
