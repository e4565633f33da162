/**
 * Remembers credentials that verified, so a mounted drive does not pay a bcrypt verification on
 * every request. The key is an HMAC, under a secret made for this process, of the user name, the
 * password and the stored hash: a changed password or users file yields another key, and no
 * password is kept in memory in the clear. Bounded: the oldest entry goes first.
 */
import { createHmac, randomBytes } from 'node:crypto';

export class CredentialCache {
  private readonly secret = randomBytes(32);
  private readonly verified = new Set<string>();

  constructor(private readonly capacity = 1024) {}

  keyOf(user: string, password: string, storedHash: string): string {
    // One update: a signed-in request computes this every time.
    return createHmac('sha256', this.secret).update(`${user}\0${password}\0${storedHash}`).digest('base64');
  }

  has(key: string): boolean {
    return this.verified.has(key);
  }

  remember(key: string): void {
    if (this.verified.has(key)) return;
    if (this.verified.size >= this.capacity) this.verified.delete(this.verified.values().next().value as string);
    this.verified.add(key);
  }

  clear(): void {
    this.verified.clear();
  }
}
