/**
 * Remembers the Authorization headers that verified, so a mounted drive pays neither a bcrypt
 * verification nor the parsing of its credentials on every request. The key is a SHA-256 of a
 * secret made for this process followed by the header as sent: no password is kept in memory in
 * the clear, and without the secret no key can be computed ahead. (An HMAC was the key before;
 * building one per request was a fifth of what signing in added to a small GET, and a key that is
 * never shown to anyone needs no protection against length extension.) An entry names the user and
 * the stored hash it was verified against: once that user's hash changes (a new password, a users
 * file read again) it no longer counts. Bounded: the oldest entry goes first.
 */
import * as crypto from 'node:crypto';

/** SHA-256 of `text` in base64: the one-shot crypto.hash where Node.js has it (20.12 and later), a Hash object before. */
const sha256: (text: string) => string = typeof crypto.hash === 'function'
  ? (text) => crypto.hash('sha256', text, 'base64')
  : (text) => crypto.createHash('sha256').update(text).digest('base64');

interface Verified {
  user: string;
  /** The stored hash the password was verified against. */
  storedHash: string;
}

export class CredentialCache {
  private readonly secret = crypto.randomBytes(32).toString('base64');
  private readonly verified = new Map<string, Verified>();

  constructor(private readonly capacity = 1024) {}

  /** The cache key of an Authorization header. */
  keyOf(header: string): string {
    return sha256(`${this.secret}\0${header}`);
  }

  /** The user `key` verified as, while `storedHashOf(user)` is still the hash it was verified against; else null. */
  userFor(key: string, storedHashOf: (user: string) => string | undefined): string | null {
    const found = this.verified.get(key);
    return found !== undefined && storedHashOf(found.user) === found.storedHash ? found.user : null;
  }

  remember(key: string, user: string, storedHash: string): void {
    if (!this.verified.has(key) && this.verified.size >= this.capacity) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(key, { user, storedHash });
  }

  clear(): void {
    this.verified.clear();
  }
}
