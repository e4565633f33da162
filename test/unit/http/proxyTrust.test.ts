import { clientViewOf, compileTrust, checkTrustedProxies } from '../../../src/http/proxyTrust';

const headersOf = (h: Record<string, string>) => (name: string) => h[name];

describe('--trust-proxy ranges', () => {
  it('matches single addresses and CIDR ranges of IPv4 and IPv6, and IPv4-mapped IPv6 peers', () => {
    const trusts = compileTrust(['127.0.0.1', '10.0.0.0/8', 'fd00::/8', '::1']);
    expect(trusts('127.0.0.1')).toBe(true);
    expect(trusts('::ffff:127.0.0.1')).toBe(true);
    expect(trusts('127.0.0.2')).toBe(false);
    expect(trusts('10.200.3.4')).toBe(true);
    expect(trusts('11.0.0.1')).toBe(false);
    expect(trusts('fd12:3456::1')).toBe(true);
    expect(trusts('fe80::1')).toBe(false);
    expect(trusts('::1')).toBe(true);
    expect(trusts('unknown')).toBe(false);
  });

  it('"loopback" names both loopback ranges; an empty list trusts nobody', () => {
    const trusts = compileTrust(['loopback']);
    expect(trusts('127.9.9.9')).toBe(true);
    expect(trusts('::1')).toBe(true);
    expect(compileTrust([])('127.0.0.1')).toBe(false);
  });

  it.each(['localhost', '10.0.0.0/33', '::1/129', '1.2.3', '10.0.0.0/8/1', 'fd00::/x'])('refuses %s naming it', (entry) => {
    expect(() => checkTrustedProxies([entry])).toThrow(entry);
  });
});

describe('the client seen through proxies', () => {
  const trusts = compileTrust(['127.0.0.1', '10.0.0.0/8']);

  it('from an untrusted peer ignores every forwarding header', () => {
    const view = clientViewOf('192.0.2.9', false, headersOf({ host: 'h:8080', forwarded: 'for=198.51.100.1;proto=https;host=evil', 'x-forwarded-for': '198.51.100.2', 'x-forwarded-host': 'evil2' }), trusts);
    expect(view).toEqual({ address: '192.0.2.9', scheme: 'http', host: 'h:8080', viaTrustedProxy: false });
  });

  it('believes Forwarded (RFC 7239) from a trusted peer: quoted IPv6 with port, proto and host', () => {
    const view = clientViewOf('127.0.0.1', false, headersOf({ host: 'backend:8080', forwarded: 'for="[2001:db8:cafe::17]:4711";proto=https;host="dav.example:8443"' }), trusts);
    expect(view).toEqual({ address: '2001:db8:cafe::17', scheme: 'https', host: 'dav.example:8443', viaTrustedProxy: true });
  });

  it('takes the right-most untrusted hop of several, with the scheme and host that hop was served', () => {
    const forwarded = 'for=203.0.113.5;proto=http;host=spoofed, for="198.51.100.7:1234";proto=https;host=public.example, for=10.1.1.1;proto=http;host=inner';
    const view = clientViewOf('127.0.0.1', false, headersOf({ forwarded }), trusts);
    expect(view.address).toBe('198.51.100.7');
    expect(view.scheme).toBe('https');
    expect(view.host).toBe('public.example');
  });

  it('falls back to X-Forwarded-For/-Proto/-Host, right-most untrusted address', () => {
    const view = clientViewOf('127.0.0.1', false, headersOf({ host: 'b', 'x-forwarded-for': '203.0.113.5, 198.51.100.7, 10.0.0.3', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'dav.example' }), trusts);
    expect(view).toEqual({ address: '198.51.100.7', scheme: 'https', host: 'dav.example', viaTrustedProxy: true });
  });

  it('prefers Forwarded over X-Forwarded-*, and ignores a malformed Forwarded', () => {
    expect(clientViewOf('127.0.0.1', false, headersOf({ forwarded: 'for=198.51.100.1', 'x-forwarded-for': '198.51.100.2' }), trusts).address).toBe('198.51.100.1');
    expect(clientViewOf('127.0.0.1', false, headersOf({ forwarded: 'for="unterminated', 'x-forwarded-for': '198.51.100.2' }), trusts).address).toBe('198.51.100.2');
  });

  it('a trusted peer without forwarding headers is the client itself; TLS sockets are https', () => {
    expect(clientViewOf('127.0.0.1', true, headersOf({ host: 'h' }), trusts)).toEqual({ address: '127.0.0.1', scheme: 'https', host: 'h', viaTrustedProxy: true });
  });
});
