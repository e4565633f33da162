import { XmlError } from './xmlError';

/**
 * Turning a request body's bytes into characters (XML 1.0 §4.3.3 and Appendix F).
 *
 * Supported: UTF-8 (with or without BOM; the default), US-ASCII, ISO-8859-1 when declared, and
 * UTF-16 with a byte-order mark. RFC 4918 §8.2 requires UTF-8 and UTF-16 support.
 */

const DECLARED_ENCODING = /^<\?xml\s[^?]*?\bencoding\s*=\s*(?:"([^"]*)"|'([^']*)')/;

/**
 * Returns the text of `body`: the bytes decoded strictly, the byte-order mark removed.
 * Throws XmlError('malformed') for invalid byte sequences or an unsupported encoding.
 */
export function decodeXmlBytes(body: Buffer): string {
  if (body.length >= 2 && body[0] === 0xff && body[1] === 0xfe) return decodeStrict(body, 'utf-16le');
  if (body.length >= 2 && body[0] === 0xfe && body[1] === 0xff) return decodeStrict(body, 'utf-16be');
  const encoding = declaredEncoding(body);
  switch (encoding) {
    case undefined:
    case 'utf-8':
    case 'utf8':
      return decodeStrict(body, 'utf-8');
    case 'us-ascii':
    case 'ascii':
      if (body.some((b) => b > 0x7f)) throw new XmlError('malformed', 'non-ASCII byte in a US-ASCII document');
      return body.toString('latin1');
    case 'iso-8859-1':
    case 'latin1':
    case 'l1':
      return body.toString('latin1');
    default:
      throw new XmlError('malformed', `unsupported encoding "${encoding}"`);
  }
}

/** Returns the lower-cased encoding named by the XML declaration, or undefined when none is named. */
function declaredEncoding(body: Buffer): string | undefined {
  let start = 0;
  if (body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) start = 3;
  // The declaration is ASCII and short; reading it as latin1 cannot fail.
  const head = body.subarray(start, start + 256).toString('latin1');
  const m = DECLARED_ENCODING.exec(head);
  if (m === null) return undefined;
  const name = (m[1] ?? m[2]).toLowerCase();
  if (start === 3 && name !== 'utf-8' && name !== 'utf8') {
    throw new XmlError('malformed', `UTF-8 byte-order mark but encoding "${name}" declared`);
  }
  return name;
}

function decodeStrict(body: Buffer, encoding: 'utf-8' | 'utf-16le' | 'utf-16be'): string {
  try {
    // TextDecoder drops one leading byte-order mark by default.
    return new TextDecoder(encoding, { fatal: true }).decode(body);
  } catch {
    throw new XmlError('malformed', `invalid ${encoding.toUpperCase()} byte sequence`);
  }
}
