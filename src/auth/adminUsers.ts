/**
 * Who may use the admin listener's metrics and tasks (`--admin-users FILE`, an htpasswd file as
 * for `--users`): HTTP Basic (RFC 7617), checked like the WebDAV users (bcrypt, Apache MD5, {SHA},
 * the same time for an unknown user as for a wrong password). The file is read again when it
 * changes. Without it the admin listener accepts only loopback addresses (src/admin/listenAddress.ts).
 */
import { readFileSync, statSync } from 'node:fs';
import { parseHtpasswd, verifyPassword, dummyEntryFor, type UserEntry } from './htpasswd';
import { parseBasicCredentials } from './basicCredentials';

export class AdminUsers {
  private users: Map<string, UserEntry>;
  private signature: string;

  /** Throws UsersFileError or the file system's error (the caller names the option). */
  constructor(private readonly file: string) {
    this.signature = AdminUsers.signatureOf(file);
    this.users = parseHtpasswd(readFileSync(file, 'utf8'), file);
  }

  private static signatureOf(file: string): string {
    const st = statSync(file);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  }

  /** The signed-in admin's name, or null when the Authorization header does not name one. */
  async admit(authorization: string | undefined): Promise<string | null> {
    this.reloadIfChanged();
    const credentials = parseBasicCredentials(authorization);
    if (credentials === null || credentials === 'malformed') return null;
    const entry = this.users.get(credentials.user);
    const ok = await verifyPassword(credentials.password, entry ?? dummyEntryFor(this.users));
    return ok && entry ? credentials.user : null;
  }

  /** A changed file is read again; a broken one keeps the users read before. */
  private reloadIfChanged(): void {
    try {
      const signature = AdminUsers.signatureOf(this.file);
      if (signature === this.signature) return;
      this.users = parseHtpasswd(readFileSync(this.file, 'utf8'), this.file);
      this.signature = signature;
    } catch {
      // keep the previous users: an admin file being rewritten must not lock the operator out
    }
  }
}
