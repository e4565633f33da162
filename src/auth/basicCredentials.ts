/**
 * The Authorization header's Basic credentials (RFC 7617 §2): `Basic base64(user-id ":" password)`,
 * decoded as UTF-8 (§2.1, the charset we announce). Pure: no I/O.
 */

const UTF8 = new TextDecoder('utf-8', { fatal: true });

export interface BasicCredentials {
  readonly user: string;
  readonly password: string;
}

/**
 * null when there is no Authorization header or it uses another scheme (the request is anonymous);
 * 'malformed' when it says Basic but the rest cannot be credentials (bad base64, no ":", not UTF-8,
 * control characters in the user-id, §2).
 */
export function parseBasicCredentials(header: string | undefined): BasicCredentials | 'malformed' | null {
  if (header === undefined) return null;
  const match = /^\s*([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(?:\s+(.*))?$/.exec(header);
  if (!match) return 'malformed';
  if (match[1].toLowerCase() !== 'basic') return null;
  const token = (match[2] ?? '').trim();
  // token68 (RFC 9110 §11.2) in the base64 alphabet, padded or not.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return 'malformed';
  const bytes = Buffer.from(token, 'base64');
  // ASCII (the usual credentials) is its own UTF-8 and already NFC: no decoder, no ICU.
  const ascii = isAscii(bytes);
  let text: string;
  try {
    text = ascii ? bytes.toString('latin1') : UTF8.decode(bytes);
  } catch {
    return 'malformed';
  }
  const colon = text.indexOf(':');
  if (colon < 0) return 'malformed';
  const user = text.slice(0, colon);
  // §2: the user-id cannot contain a colon, nor any control character.
  if (user === '' || /[\u0000-\u001f\u007f]/.test(user)) return 'malformed';
  return { user: ascii ? user : user.normalize('NFC'), password: text.slice(colon + 1) };
}

function isAscii(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] > 0x7f) return false;
  return true;
}
