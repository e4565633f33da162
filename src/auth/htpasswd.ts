/**
 * The users file: an htpasswd file exactly as Apache's `htpasswd` writes it, one `name:hash` a
 * line. Accepted hashes: bcrypt (`$2y$`, `$2a$`, `$2b$`; `htpasswd -B`), verified with bcryptjs
 * (pure JavaScript, no native build); Apache MD5 (`$apr1$`, htpasswd's old default) through
 * apache-md5, and `{SHA}` (base64 SHA-1), both accepted but reported as weak. Anything else
 * (crypt, plain text) is refused with the line that holds it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type * as BcryptModule from 'bcryptjs';

/** bcryptjs, loaded at the first bcrypt check (a server without users never needs its ~3 MiB). */
let bcryptModule: typeof BcryptModule | undefined;
const bcrypt = (): typeof BcryptModule => (bcryptModule ??= require('bcryptjs') as typeof BcryptModule);
import apacheMd5 from 'apache-md5';

export type HashKind = 'bcrypt' | 'apr1' | 'sha1';

export interface UserEntry {
  readonly name: string;
  readonly hash: string;
  readonly kind: HashKind;
}

/** A users file that cannot be used; the message names the file and the line, never a hash. */
export class UsersFileError extends Error {
  constructor(readonly file: string, readonly line: number | null, detail: string) {
    super(`users file ${file}${line === null ? '' : `, line ${line}`}: ${detail}`);
    this.name = 'UsersFileError';
  }
}

const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
const APR1 = /^\$apr1\$[./A-Za-z0-9]{1,8}\$[./A-Za-z0-9]{22}$/;
const SHA1 = /^\{SHA\}[A-Za-z0-9+/]{27}=$/;

function kindOf(hash: string): HashKind | null {
  if (BCRYPT.test(hash)) return 'bcrypt';
  if (APR1.test(hash)) return 'apr1';
  if (SHA1.test(hash)) return 'sha1';
  return null;
}

/** Parses the file's text; throws UsersFileError naming the first bad line. Blank lines and `#` comments are skipped. */
export function parseHtpasswd(text: string, file: string): Map<string, UserEntry> {
  const users = new Map<string, UserEntry>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    const at = index + 1;
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new UsersFileError(file, at, 'expected "name:hash"');
    const name = line.slice(0, colon).normalize('NFC');
    const hash = line.slice(colon + 1);
    const kind = kindOf(hash);
    if (kind === null) {
      throw new UsersFileError(file, at, `the hash of user "${name}" is in no accepted format (bcrypt from "htpasswd -B", or Apache MD5 or SHA-1); crypt and plain-text passwords are refused`);
    }
    if (users.has(name)) throw new UsersFileError(file, at, `user "${name}" appears twice`);
    if (name === 'anonymous' || name === '*') throw new UsersFileError(file, at, `"${name}" cannot be a user name: access rules use it for ${name === '*' ? 'anyone signed in' : 'requests without a login'}`);
    users.set(name, { name, hash, kind });
  });
  return users;
}

/** The users whose hashes are weak (apr1, SHA-1): fast to guess from a stolen file. */
export function weakUsers(users: ReadonlyMap<string, UserEntry>): string[] {
  return [...users.values()].filter((u) => u.kind !== 'bcrypt').map((u) => u.name);
}

/** Apache hashes the password's UTF-8 bytes; apache-md5 hashes each character's low byte, so it gets the bytes as latin1 characters. */
function asByteString(password: string): string {
  return Buffer.from(password, 'utf8').toString('latin1');
}

function equalStrings(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** True when `password` matches the stored hash (bcrypt runs asynchronously, so other requests keep moving). */
export async function verifyPassword(password: string, entry: Pick<UserEntry, 'hash' | 'kind'>): Promise<boolean> {
  switch (entry.kind) {
    case 'bcrypt':
      return bcrypt().compare(password, entry.hash);
    case 'apr1':
      return equalStrings(apacheMd5(asByteString(password), entry.hash), entry.hash);
    case 'sha1':
      return equalStrings('{SHA}' + createHash('sha1').update(password, 'utf8').digest('base64'), entry.hash);
  }
}

/**
 * A hash no password matches in practice, whose verification costs what a real user's costs:
 * bcrypt at the cost most of the file's users have (htpasswd -B's default, 5, when none), so a
 * wrong user name takes as long as a wrong password.
 */
export function dummyEntryFor(users: ReadonlyMap<string, UserEntry>): Pick<UserEntry, 'hash' | 'kind'> {
  const counts = new Map<string, number>();
  for (const u of users.values()) {
    if (u.kind === 'bcrypt') counts.set(u.hash.slice(4, 6), (counts.get(u.hash.slice(4, 6)) ?? 0) + 1);
  }
  const cost = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '05';
  return { kind: 'bcrypt', hash: `$2y$${cost}$${'x'.repeat(22)}${'y'.repeat(31)}` };
}
