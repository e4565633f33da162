import { HeaderSyntaxError } from './headerSyntaxError';

/** A content's SHA-1 and MD5, lower-case hex (the same shape as storage's ContentDigests; headers import nothing of storage). */
export interface Digests {
  sha1: string;
  /** Null while not known yet (a large upload's MD5 follows after the answer). */
  md5: string | null;
}

/** The checksum types keepdav computes while an upload streams, with their hex length. */
const VERIFIABLE = { SHA1: { key: 'sha1', hexLength: 40 }, MD5: { key: 'md5', hexLength: 32 } } as const;

export type VerifiableType = keyof typeof VERIFIABLE;

/** One checksum a client states for the content it uploads. */
export interface ChecksumClaim {
  type: VerifiableType;
  /** Lower-case hex. */
  hex: string;
}

/**
 * Parses the OC-Checksum request header (ownCloud/Nextcloud convention; rclone sends it with
 * vendor owncloud/nextcloud): `TYPE:value`, e.g. `SHA1:da39a3ee…`, several separated by spaces as
 * in the `oc:checksum` property. Types match without regard to case. Returns the claims keepdav can
 * verify (SHA1, MD5); other types (ownCloud's ADLER32, CRC32...) are not computed here and are
 * ignored, as the header is optional end-to-end information (the content is still stored whole).
 * Returns [] when the header is absent.
 * @throws HeaderSyntaxError for an entry without `:`, or a SHA1/MD5 value that is not hex of its length.
 */
export function parseOcChecksum(value: string | undefined): ChecksumClaim[] {
  if (value === undefined) return [];
  const claims: ChecksumClaim[] = [];
  for (const entry of value.trim().split(/\s+/)) {
    if (entry === '') continue;
    const colon = entry.indexOf(':');
    if (colon <= 0) throw new HeaderSyntaxError('OC-Checksum', `expected TYPE:value, got "${entry}"`);
    const type = entry.slice(0, colon).toUpperCase();
    const hex = entry.slice(colon + 1).toLowerCase();
    if (type !== 'SHA1' && type !== 'MD5') continue;
    if (!new RegExp(`^[0-9a-f]{${VERIFIABLE[type].hexLength}}$`).test(hex)) {
      throw new HeaderSyntaxError('OC-Checksum', `${type} must be ${VERIFIABLE[type].hexLength} hex digits, got "${entry.slice(colon + 1)}"`);
    }
    claims.push({ type, hex });
  }
  return claims;
}

/** The first claim the content's digests (null: none computed) contradict, or null when all hold. */
export function contradictedClaim(claims: readonly ChecksumClaim[], digests: Digests | null): { claim: ChecksumClaim; computed: string } | null {
  for (const claim of claims) {
    const computed = digests === null ? null : digests[VERIFIABLE[claim.type].key];
    // A claim is checked against its own digest, never waved through: whoever asks must have computed it (digestsToCheck).
    if (computed === null) throw new Error(`the ${claim.type} of the content was not computed`);
    if (computed !== claim.hex) return { claim, computed };
  }
  return null;
}

/**
 * What must be hashed while an upload with these claims streams, so each claim is checked before
 * it is stored: nothing without claims, the SHA-1 for a SHA1 claim, both for an MD5 claim (the
 * hashing always includes the SHA-1). The same values as storage's DigestsNow.
 */
export function digestsToCheck(claims: readonly ChecksumClaim[]): 'none' | 'sha1' | 'sha1+md5' {
  if (claims.some((claim) => claim.type === 'MD5')) return 'sha1+md5';
  return claims.length > 0 ? 'sha1' : 'none';
}

/** The `oc:checksum` value for known digests: `SHA1:… MD5:…` (as ownCloud writes it), `SHA1:…` while the MD5 is not known yet. */
export function formatChecksums(digests: Digests): string {
  return digests.md5 === null ? `SHA1:${digests.sha1}` : `SHA1:${digests.sha1} MD5:${digests.md5}`;
}

/** The OC-Checksum response header (GET, HEAD, PUT): one checksum, SHA-1, as ownCloud answers it. */
export function checksumHeader(digests: Digests): string {
  return `SHA1:${digests.sha1}`;
}
