/**
 * `--trust-proxy`: which peers' forwarding headers are believed, and what they say about the client.
 * From a trusted peer, `Forwarded` (RFC 7239) or else `X-Forwarded-For/-Proto/-Host` name the
 * client's address and the scheme and host it used; from anyone else they are ignored.
 * Libraries: ipaddr.js (address and CIDR parsing and matching, IPv4 and IPv6) and forwarded-parse
 * (RFC 7239 syntax: quoted strings, several elements).
 */
import ipaddr from 'ipaddr.js';
import parseForwarded from 'forwarded-parse';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
/** Whether a peer address (as the socket or a forwarding header gives it) is a trusted proxy. */
export type TrustTest = (address: string) => boolean;

/** What the request says about its client, after believing only trusted proxies. */
export interface ClientView {
  /** The client's address: the socket's peer, or the right-most untrusted hop a trusted proxy names. */
  address: string;
  /** The scheme the client used ("http" or "https"). */
  scheme: 'http' | 'https';
  /** The host[:port] the client addressed (the Host header, or the forwarded host); undefined when none. */
  host: string | undefined;
  /** Whether the peer was a trusted proxy (so `scheme` and `host` may come from its headers). */
  viaTrustedProxy: boolean;
}

const NAMED_RANGES: Record<string, string[]> = { loopback: ['127.0.0.0/8', '::1/128'] };

/** Parses one address: dotted IPv4 (four parts), IPv6 (IPv4-mapped IPv6 becomes IPv4); null when neither. */
function parseAddress(text: string): Address | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (!ipaddr.IPv6.isValid(text)) return null;
  const v6 = ipaddr.IPv6.parse(text);
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6;
}

/** One `--trust-proxy` entry as a range: "10.0.0.0/8", "::1", "fd00::/8" or "loopback". Throws RangeError. */
function parseRange(entry: string): [Address, number] {
  const [addressText, bitsText, extra] = entry.split('/');
  const address = extra === undefined ? parseAddress(addressText) : null;
  if (address === null) throw new RangeError(`trusted proxy "${entry}" is neither an IPv4/IPv6 address nor a CIDR range`);
  const maxBits = address.kind() === 'ipv4' ? 32 : 128;
  const bits = bitsText === undefined ? maxBits : /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
  if (!(bits >= 0 && bits <= maxBits)) throw new RangeError(`trusted proxy "${entry}": the prefix length must be 0-${maxBits}`);
  return [address, bits];
}

function rangesOf(list: readonly string[]): [Address, number][] {
  return list.flatMap((entry) => (NAMED_RANGES[entry.trim()] ?? [entry.trim()]).map(parseRange));
}

/** Throws RangeError naming the first entry that is not an address, CIDR range or "loopback". */
export function checkTrustedProxies(list: readonly string[]): void {
  rangesOf(list);
}

export function compileTrust(list: readonly string[]): TrustTest {
  const ranges = rangesOf(list);
  if (ranges.length === 0) return () => false;
  return (text) => {
    const address = parseAddress(text);
    return address !== null && ranges.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits));
  };
}

/** A hop's node as written in a forwarding header: `[v6]:port`, `v4:port`, bare, or an obfuscated name. */
function nodeAddress(node: string): string {
  const text = node.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (bracketed) return bracketed[1];
  const v4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(text);
  return v4WithPort ? v4WithPort[1] : text;
}

interface Hop {
  address: string;
  proto?: string;
  host?: string;
}

/** The hops a trusted proxy reports, client first; null when it sent no (usable) forwarding header. */
function reportedHops(header: (name: string) => string | undefined): Hop[] | null {
  const forwarded = header('forwarded');
  if (forwarded !== undefined) {
    try {
      const elements = parseForwarded(forwarded);
      // RFC 7239 §5.2-5.4: "for" names the client of that hop; "proto" and "host" what it received.
      if (elements.every((e) => e.for !== undefined)) return elements.map((e) => ({ address: nodeAddress(e.for), proto: e.proto, host: e.host }));
    } catch {
      // A malformed Forwarded header tells nothing; fall back to X-Forwarded-* or the peer.
    }
  }
  const xff = header('x-forwarded-for');
  if (xff === undefined) return null;
  const addresses = xff.split(',').map(nodeAddress).filter((a) => a !== '');
  if (addresses.length === 0) return null;
  const lastOf = (v: string | undefined) => v?.split(',').map((s) => s.trim()).filter((s) => s !== '').pop();
  const hops: Hop[] = addresses.map((address) => ({ address }));
  // X-Forwarded-Proto/-Host are set by the proxy next to us: the right-most value is the one it wrote.
  Object.assign(hops[hops.length - 1], { proto: lastOf(header('x-forwarded-proto')), host: lastOf(header('x-forwarded-host')) });
  return hops;
}

/**
 * The client as seen through trusted proxies: walking the hops from the right, each trusted one is
 * skipped; the first untrusted hop (or the left-most) is the client, and the scheme and host come
 * from the hop that names it (or the nearest one to its right that says them).
 */
export function clientViewOf(
  peerAddress: string,
  encrypted: boolean,
  header: (name: string) => string | undefined,
  trusts: TrustTest,
): ClientView {
  const own: ClientView = { address: peerAddress, scheme: encrypted ? 'https' : 'http', host: header('host'), viaTrustedProxy: false };
  if (!trusts(peerAddress)) return own;
  const hops = reportedHops(header);
  if (hops === null) return { ...own, viaTrustedProxy: true };
  let at = hops.length - 1;
  while (at > 0 && trusts(hops[at].address)) at -= 1;
  const said = hops.slice(at);
  const proto = said.find((h) => h.proto !== undefined)?.proto?.toLowerCase();
  const host = said.find((h) => h.host !== undefined)?.host;
  return {
    address: hops[at].address,
    scheme: proto === 'https' ? 'https' : proto === 'http' ? 'http' : own.scheme,
    host: host ?? own.host,
    viaTrustedProxy: true,
  };
}
