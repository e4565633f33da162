import { HeaderSyntaxError } from './headerSyntaxError';

/** Where a COPY or MOVE points, as read from its Destination header. */
export interface DestinationTarget {
  /** The path part, still percent-encoded, query and fragment removed; "/" at least. */
  urlPath: string;
  /** True when the destination names this server (compare with the request's Host). */
  sameHost: boolean;
}

/** RFC 3986 §3: scheme "://" authority path-abempty [ "?" query ] [ "#" fragment ]. */
const ABSOLUTE_URI = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:[?#].*)?$/;
/** RFC 3986 §3.2.2 reg-name or IPv4 address (pct-encoded allowed, checked loosely). */
const REG_NAME = /^[A-Za-z0-9\-._~!$&'()*+,;=%]+$/;
const IP_LITERAL = /^\[[0-9A-Fa-f:.]+\]$/;
/** pchar and "/" (RFC 3986 §3.3) that stand for themselves in a path. */
const PATH_CHAR = /[A-Za-z0-9\-._~!$&'()*+,;=:@/]/;
/** Ports that mean "no port" for the schemes we serve. */
const DEFAULT_PORTS = new Set(['', '80', '443']);

function fail(detail: string): never {
  throw new HeaderSyntaxError('Destination', detail);
}

/**
 * Splits `host[:port]` (an IP literal keeps its brackets) and lower-cases the host.
 * Returns null when the text is not a valid host with an optional numeric port.
 */
function splitHostPort(hostPort: string): { host: string; port: string } | null {
  const portCut = hostPort.startsWith('[') ? hostPort.indexOf(']') + 1 : hostPort.lastIndexOf(':');
  const hasPort = portCut > 0 && hostPort[portCut] === ':';
  const host = hasPort || hostPort.startsWith('[') ? hostPort.slice(0, portCut) : hostPort;
  const port = hasPort ? hostPort.slice(portCut + 1) : '';
  if (host.length + (hasPort ? port.length + 1 : 0) !== hostPort.length) return null;
  if (!REG_NAME.test(host) && !IP_LITERAL.test(host)) return null;
  if (!/^\d*$/.test(port)) return null;
  return { host: host.toLowerCase(), port };
}

/** "host" or "host:port" with the default ports 80 and 443 (and an empty port) dropped. */
function hostKey(hostPort: string): string | null {
  const split = splitHostPort(hostPort);
  if (split === null) return null;
  const port = split.port.replace(/^0+(?=\d)/, '');
  return DEFAULT_PORTS.has(port) ? split.host : `${split.host}:${port}`;
}

function percentEncodeByte(byte: number): string {
  return '%' + byte.toString(16).toUpperCase().padStart(2, '0');
}

/**
 * Returns the path with everything that may not stand for itself percent-encoded, so the edge
 * can decode it exactly once. A value arrives as Node delivers header bytes (one character per
 * byte, latin1), so a character from 0x80 to 0xFF is one byte of a UTF-8 name and becomes
 * exactly that byte; a character above 0xFF (only from non-HTTP callers) is encoded as UTF-8.
 * Throws on a control character or a "%" not followed by two hex digits.
 */
function normalizePathEncoding(rawPath: string): string {
  let out = '';
  for (let i = 0; i < rawPath.length; i++) {
    const ch = rawPath[i];
    const code = rawPath.charCodeAt(i);
    if (ch === '%') {
      if (!/^[0-9A-Fa-f]{2}$/.test(rawPath.slice(i + 1, i + 3))) fail('bad percent-encoding in path');
      out += rawPath.slice(i, i + 3);
      i += 2;
    } else if (PATH_CHAR.test(ch)) {
      out += ch;
    } else if (code < 0x20 || code === 0x7f) {
      fail('control character in path');
    } else if (code <= 0xff) {
      out += percentEncodeByte(code);
    } else {
      const codePoint = rawPath.codePointAt(i) as number;
      if (codePoint > 0xffff) i += 1;
      for (const byte of Buffer.from(String.fromCodePoint(codePoint), 'utf8')) out += percentEncodeByte(byte);
    }
  }
  return out;
}

/**
 * Parses the Destination header of COPY and MOVE (RFC 4918 §10.3: Destination = Simple-ref,
 * an absolute URI or an absolute path). Returns the target's path (still percent-encoded,
 * query and fragment stripped) and whether it names this server: an absolute path always
 * does; an absolute URI does when its scheme is http or https and its host[:port] equals
 * one of `requestHosts` (the request's Host header and, through a trusted proxy, the public
 * host the client used) case-insensitively, a port of 80 or 443 counting as no port. Without
 * any host an absolute URI is never the same host. The caller answers 502 for another host
 * (RFC 4918 §9.8.5/§9.9.4).
 * @throws HeaderSyntaxError when the header is missing, empty, a relative reference, a
 *   network-path ("//host/..."), a URI without "//authority", or has a bad host, port,
 *   percent-encoding or control character.
 */
export function parseDestination(value: string | undefined, requestHosts: string | undefined | readonly (string | undefined)[]): DestinationTarget {
  if (value === undefined) fail('missing');
  const text = value.trim();
  if (text === '') fail('empty');

  if (text.startsWith('/')) {
    if (text.startsWith('//')) fail('a network-path reference is neither an absolute URI nor an absolute path');
    return { urlPath: normalizePathEncoding(text.replace(/[?#].*$/s, '')), sameHost: true };
  }

  const match = ABSOLUTE_URI.exec(text);
  if (!match) fail(`neither an absolute URI nor an absolute path: "${value}"`);
  const [, scheme, authority, rawPath] = match;
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1); // drop any userinfo
  const destinationHost = hostKey(hostPort);
  if (destinationHost === null || hostPort === '') fail(`bad host "${authority}"`);

  const servedScheme = /^https?$/i.test(scheme);
  const hosts = Array.isArray(requestHosts) ? requestHosts : [requestHosts];
  const isThisServer = hosts.some((h) => h !== undefined && hostKey(h.trim()) === destinationHost);
  return {
    urlPath: rawPath === '' ? '/' : normalizePathEncoding(rawPath),
    sameHost: servedScheme && isThisServer,
  };
}
