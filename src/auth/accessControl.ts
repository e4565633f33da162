/**
 * Who is asking and what they may do: the one place access is decided (services.access).
 *
 * The HTTP edge calls `admit` once per request before the handler runs: it verifies the Basic
 * credentials (RFC 7617) against the users file, slows down guessing, and checks the request's
 * own path against the access rules (read for OPTIONS, GET, HEAD, PROPFIND; write for the rest).
 * Handlers ask the few questions the request path alone cannot answer through the same object:
 * members a listing may show, the other end and the subtree of COPY/MOVE/DELETE, lock ownership.
 * `reconfigure` re-reads the users file and replaces the rules at once (SIGHUP calls it).
 */
import { statSync, readFileSync, type Stats } from 'node:fs';
import type { ServerConfig } from '../config';
import { ConfigError } from '../config';
import type { DavPath } from '../paths/davPath';
import type { ActiveLock } from '../locks/activeLock';
import { HostNotServedError, LockNotOwnedError, NoPermissionError, ReadOnlyServerError, TooManyAttemptsError, UnauthorizedError } from '../conditions/davErrors';
import { AccessRuleSet, levelAtLeast, ANONYMOUS, ANYONE_SIGNED_IN, type AccessLevel, type AccessRule } from './accessRules';
import { parseHtpasswd, verifyPassword, dummyEntryFor, weakUsers, UsersFileError, type UserEntry } from './htpasswd';
import { parseBasicCredentials } from './basicCredentials';
import { CredentialCache } from './credentialCache';
import { isLoopbackHost, isRebindProofHost } from './safeDefault';
import { FailureLimiter } from './failureLimiter';

/** RFC 7617 §2, §2.1: the realm, and that user names and passwords are UTF-8. */
export const CHALLENGE = 'Basic realm="keepdav", charset="UTF-8"';

/** RFC 4918 §9 / the issue: these only read; every other method writes. */
const READ_METHODS = new Set(['OPTIONS', 'GET', 'HEAD', 'PROPFIND']);

/** The users file is stat'ed at most this often to notice a change under a running server. */
const USERS_FILE_CHECK_MS = 1000;

/** What admission reads of a request (a DavRequest is one); auth depends on no handler code. */
export interface AccessRequest {
  readonly method: string;
  readonly path: DavPath;
  readonly clientAddress: string;
  /** Whether a trusted proxy sent it (then the proxy answers for the names it serves). */
  readonly viaTrustedProxy?: boolean;
  /** The host[:port] it names (an absolute-form target's authority, else the Host header). */
  readonly authority?: string;
  header(name: string): string | undefined;
  hrefOf(path: DavPath, isCollection: boolean): string;
}

interface UsersState {
  file: string;
  users: Map<string, UserEntry>;
  dummy: Pick<UserEntry, 'hash' | 'kind'>;
  signature: string;
}

interface Policy {
  users: UsersState | null;
  rules: AccessRuleSet;
  readOnly: boolean;
  /** A path or name as the server compares them (NFC; case-folded with --case-insensitive). */
  sameName: (name: string) => string;
  /** No users, on a loopback address: only names that cannot be rebound are served (safeDefault.ts). */
  guardsHostNames: boolean;
}

export class AccessControl {
  private policy: Policy;
  private readonly cache = new CredentialCache();
  private readonly inFlight = new Map<string, Promise<boolean>>();
  private limiter: FailureLimiter;
  private failLimit: number;
  private lastCheckMs = -Infinity;

  /** Throws ConfigError (one line naming the file and line) when the users file is unusable. */
  constructor(config: ServerConfig, private readonly clock: () => number, private readonly log: (line: string) => void) {
    this.policy = this.load(config);
    this.limiter = new FailureLimiter(config.authFailLimit, clock);
    this.failLimit = config.authFailLimit;
  }

  /** Re-reads the users file and replaces users and rules together; on a ConfigError nothing changes. */
  reconfigure(config: ServerConfig): void {
    this.policy = this.load(config);
    if (config.authFailLimit !== this.failLimit) this.limiter = new FailureLimiter(config.authFailLimit, this.clock);
    this.failLimit = config.authFailLimit;
    this.cache.clear();
  }

  /** The warning to print at start when some users have weak hashes (names only), or null. */
  weakHashWarning(): string | null {
    const users = this.policy.users;
    const weak = users ? weakUsers(users.users) : [];
    if (weak.length === 0) return null;
    return `warning: users file ${users!.file}: weak password hashes (Apache MD5 or SHA-1) for ${weak.join(', ')}; set them again with "htpasswd -B ${users!.file} NAME"`;
  }

  /**
   * Authenticates the request and checks its method on its own path; returns the signed-in user's
   * name (null: anonymous). Throws 401, 403 (no-permission, read-only) or 429.
   */
  async admit(req: AccessRequest): Promise<string | null> {
    if (this.policy.guardsHostNames && req.viaTrustedProxy !== true) {
      const host = req.authority ?? req.header('host');
      if (host !== undefined && !isRebindProofHost(host)) throw new HostNotServedError(host);
    }
    const user = await this.authenticate(req);
    const writes = !READ_METHODS.has(req.method);
    if (writes && this.policy.readOnly) throw new ReadOnlyServerError(req.method);
    // COPY only reads its request path; the handler checks the destination (and a whole source tree).
    const needed: AccessLevel = writes && req.method !== 'COPY' ? 'write' : 'read';
    const decision = this.policy.rules.decide(user, req.path);
    if (!levelAtLeast(decision.level, needed)) this.refuse(user, req.hrefOf(req.path, false), needed, decision.rulePath);
    return user;
  }

  /** Whether there are users to sign in as (--users). */
  get hasUsers(): boolean {
    return this.policy.users !== null;
  }

  /** Throws 401 with the challenge when there are users and `user` did not sign in: the browser then asks (GET ?signin). */
  requireSignedIn(user: string | null, href: string): void {
    if (user === null && this.policy.users !== null) throw new UnauthorizedError(`sign in to ${href}`, CHALLENGE);
  }

  /** Whether the server refuses every write (for an honest Allow header). */
  get readOnly(): boolean {
    return this.policy.readOnly;
  }

  /** Whether `user` may read `path` (listings leave out what this says no to). */
  mayRead(user: string | null, path: DavPath): boolean {
    return levelAtLeast(this.policy.rules.decide(user, path).level, 'read');
  }

  /** Throws 401/403 unless `user` has `needed` on `path`. */
  require(user: string | null, path: DavPath, needed: AccessLevel, href: string): void {
    const decision = this.policy.rules.decide(user, path);
    if (!levelAtLeast(decision.level, needed)) this.refuse(user, href, needed, decision.rulePath);
  }

  /** Throws 401/403 unless `user` has `needed` everywhere in `path`'s subtree (Depth-infinity COPY, MOVE, DELETE). */
  requireSubtree(user: string | null, path: DavPath, needed: AccessLevel, href: string): void {
    const decision = this.policy.rules.lowestInSubtree(user, path);
    if (!levelAtLeast(decision.level, needed)) this.refuse(user, href, needed, decision.rulePath);
  }

  /**
   * Whether `user` may use `lock` (its token counts as submitted, RFC 4918 §6.4): locks belong to
   * whoever took them; a lock taken anonymously belongs to no one in particular.
   */
  mayUseLock(user: string | null, lock: ActiveLock): boolean {
    return lock.principal === undefined || lock.principal === user;
  }

  /** Throws 403 lock-not-owned unless `user` may use `lock` (UNLOCK, refresh). */
  requireLockOwner(user: string | null, lock: ActiveLock, lockRootHref: string): void {
    if (!this.mayUseLock(user, lock)) throw new LockNotOwnedError(lockRootHref);
  }

  private refuse(user: string | null, href: string, needed: AccessLevel, rulePath: string | null): never {
    // Anonymous where users exist: 401, so the client asks for credentials (RFC 9110 §15.5.2).
    if (user === null && this.policy.users !== null) throw new UnauthorizedError(`${href} needs a signed-in user`, CHALLENGE);
    throw new NoPermissionError(href, needed === 'none' ? 'read' : needed, rulePath);
  }

  private async authenticate(req: AccessRequest): Promise<string | null> {
    this.noticeUsersFileChange();
    const users = this.policy.users;
    if (users === null) return null; // nobody signs in: credentials are not looked at
    const header = req.header('authorization');
    if (header === undefined) return null;
    // A header that verified before, for a user whose stored hash is still the same: no parsing, no bcrypt.
    const key = this.cache.keyOf(header);
    const known = this.cache.userFor(key, (name) => users.users.get(name)?.hash);
    if (known !== null) {
      this.refuseWhileLimited(req);
      return known;
    }
    const credentials = parseBasicCredentials(header);
    if (credentials === null) return null;
    if (credentials === 'malformed') throw new UnauthorizedError('the Authorization header holds no usable Basic credentials', CHALLENGE);
    this.refuseWhileLimited(req);
    const entry = users.users.get(credentials.user);
    let verified: boolean;
    if (entry === undefined) {
      // Same cost as a wrong password, so the answer time does not tell which names exist.
      await verifyPassword(credentials.password, users.dummy);
      verified = false;
    } else {
      verified = await this.verifyOnce(key, credentials.password, entry);
    }
    if (!verified || entry === undefined) {
      this.limiter.recordFailure(req.clientAddress);
      throw new UnauthorizedError('wrong user name or password', CHALLENGE);
    }
    this.cache.remember(key, credentials.user, entry.hash);
    return credentials.user;
  }

  /** 429 while the client is held back for its failed attempts, whatever it sends now. */
  private refuseWhileLimited(req: AccessRequest): void {
    const wait = this.limiter.retryAfterSeconds(req.clientAddress);
    if (wait !== null) throw new TooManyAttemptsError(wait);
  }

  /** One bcrypt verification at a time per header: concurrent requests with the same credentials share it. */
  private verifyOnce(key: string, password: string, entry: UserEntry): Promise<boolean> {
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = verifyPassword(password, entry).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  /** A cheap stat at most once a second; a changed users file is read again (a bad one is reported and the old users stay). */
  private noticeUsersFileChange(): void {
    const users = this.policy.users;
    if (users === null) return;
    const now = this.clock();
    if (now - this.lastCheckMs < USERS_FILE_CHECK_MS) return;
    this.lastCheckMs = now;
    let signature: string;
    try {
      signature = signatureOf(statSync(users.file));
    } catch (err) {
      this.log(`users file ${users.file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}); keeping the users read before`);
      return;
    }
    if (signature === users.signature) return;
    try {
      const next = readUsers(users.file, this.policy.sameName);
      this.policy = { ...this.policy, users: next };
      this.log(`users file ${users.file} changed: ${next.users.size} user(s) read`);
    } catch (err) {
      users.signature = signature; // report a bad file once, not on every request
      this.log(`${(err as Error).message}; keeping the users read before`);
    }
  }

  private load(config: ServerConfig): Policy {
    const sameName = comparableFor(config);
    const users = config.usersFile === null ? null : readUsers(config.usersFile, sameName);
    return {
      users,
      sameName,
      rules: new AccessRuleSet(effectiveRules(config, users !== null), sameName),
      readOnly: config.readOnly,
      guardsHostNames: users === null && isLoopbackHost(config.host),
    };
  }
}

function signatureOf(stat: Stats): string {
  return `${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`;
}

function readUsers(file: string, sameName: (name: string) => string): UsersState {
  try {
    const signature = signatureOf(statSync(file));
    const users = parseHtpasswd(readFileSync(file, 'utf8'), file);
    refuseTwinNames(users, file, sameName);
    return { file, users, dummy: dummyEntryFor(users), signature };
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    if (err instanceof UsersFileError) throw new ConfigError(err.message);
    throw new ConfigError(`users file ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * Two user names the server takes for one (differing only in case on a --case-insensitive share,
 * or only in Unicode normalization) would share every `{user}` folder: the file is refused.
 */
function refuseTwinNames(users: ReadonlyMap<string, unknown>, file: string, sameName: (name: string) => string): void {
  const seen = new Map<string, string>();
  for (const name of users.keys()) {
    const other = seen.get(sameName(name));
    if (other !== undefined) {
      throw new ConfigError(`users file ${file}: "${other}" and "${name}" are one name to this server (their {user} folders would be the same); rename one`);
    }
    seen.set(sameName(name), name);
  }
}

/**
 * The configured rules plus the defaults below them: anonymous gets `--anonymous` (write when
 * nobody can sign in, none once users exist); signed-in users get write everywhere when no rule is
 * configured at all.
 */
function effectiveRules(config: ServerConfig, haveUsers: boolean): AccessRule[] {
  const rules = [...config.access];
  rules.push({ path: '/', who: [ANONYMOUS], allow: config.anonymous ?? (haveUsers ? 'none' : 'write') });
  if (config.access.length === 0) rules.push({ path: '/', who: [ANYONE_SIGNED_IN], allow: 'write' });
  return rules;
}

/** Any character outside ASCII, which alone NFC can change. */
const NON_ASCII = /[^\u0000-\u007f]/;

/** `path` in NFC; an ASCII path (most of them) is already, without asking ICU. */
function nfc(path: string): string {
  return NON_ASCII.test(path) ? path.normalize('NFC') : path;
}

function comparableFor(config: ServerConfig): (path: string) => string {
  return config.caseInsensitive ? (path) => nfc(path).toLowerCase() : nfc;
}
