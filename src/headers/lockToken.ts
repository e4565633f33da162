import { HeaderSyntaxError } from './headerSyntaxError';
import { isAbsoluteUri } from './uriSyntax';

/**
 * Parses the Lock-Token request header of UNLOCK (RFC 4918 §10.5: Lock-Token = Coded-URL,
 * Coded-URL = "<" absolute-URI ">"). A bare URI without the angle brackets is accepted too,
 * because the Windows WebDAV redirector sends `Lock-Token: opaquelocktoken:...` that way.
 * Returns the URI without brackets, e.g. "urn:uuid:..." or "opaquelocktoken:...".
 * @throws HeaderSyntaxError when the header is missing or empty, a bracket is unbalanced,
 *   the URI holds whitespace or has no scheme.
 */
export function parseLockTokenHeader(value: string | undefined): string {
  if (value === undefined) throw new HeaderSyntaxError('Lock-Token', 'missing');
  const trimmed = value.trim();
  if (trimmed === '') throw new HeaderSyntaxError('Lock-Token', 'empty');
  const bracketed = trimmed.startsWith('<');
  if (bracketed && !trimmed.endsWith('>')) throw new HeaderSyntaxError('Lock-Token', 'unterminated <');
  const uri = bracketed ? trimmed.slice(1, -1) : trimmed;
  if (uri === '') throw new HeaderSyntaxError('Lock-Token', 'empty Coded-URL');
  if (!isAbsoluteUri(uri)) {
    throw new HeaderSyntaxError('Lock-Token', `not an absolute URI: "${uri}"`);
  }
  return uri;
}
