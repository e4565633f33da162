/**
 * PostgreSQL advisory locks as keepdav uses them. Two key spaces never meet: the one-bigint form
 * holds write claims on paths (a hash of the path), the two-int form (namespace, key) everything
 * else (migrations, the lock table, instance liveness).
 *
 * Writers to overlapping paths exclude each other across instances (architecture rule 5): a claim
 * takes a SHARED lock on every ancestor of its path and an EXCLUSIVE lock on the path itself, so
 * a claim on /a (a MOVE of the tree) and a claim on /a/b/c (a PUT) meet at /a, while /a/x and /a/y
 * share /a and proceed. All the locks of one claim set are taken in one fixed order (bytewise by
 * path, so ancestors first), which rules out deadlock between any two sets.
 */
import { createHash } from 'node:crypto';
import type { DavPath } from '../../paths/davPath';
import { ROOT } from '../../paths/davPath';

/** Namespaces of the two-int advisory locks. */
export const ADVISORY_NAMESPACE = {
  migration: 0x6b640001,
  lockTable: 0x6b640002,
  liveness: 0x6b640003,
  transaction: 0x6b640005,
} as const;

export type AdvisoryMode = 'shared' | 'exclusive';

export interface PlannedLock {
  path: DavPath;
  /** The bigint key, as a decimal string (node-postgres passes it exactly). */
  key: string;
  mode: AdvisoryMode;
}

/** How many path keys are remembered: every write and LOCK needs those of its path and each ancestor. */
const REMEMBERED_KEYS = 4096;
const rememberedKeys = new Map<DavPath, string>();

/** The signed 64-bit key of a path: the first 8 bytes of its SHA-256 (remembered for the most recent paths). */
export function pathKey(path: DavPath): string {
  let key = rememberedKeys.get(path);
  if (key === undefined) {
    key = createHash('sha256').update(path, 'utf8').digest().readBigInt64BE(0).toString();
    // Oldest first out; a key that went out is only computed again.
    if (rememberedKeys.size >= REMEMBERED_KEYS) rememberedKeys.delete(rememberedKeys.keys().next().value as DavPath);
    rememberedKeys.set(path, key);
  }
  return key;
}

/** The ancestors of `path`, root first, without `path` itself. */
export function ancestorsOf(path: DavPath): DavPath[] {
  if (path === ROOT) return [];
  const out: DavPath[] = [ROOT];
  const segments = path.slice(1).split('/');
  for (let i = 1; i < segments.length; i++) out.push('/' + segments.slice(0, i).join('/'));
  return out;
}

/**
 * The locks for claiming `paths`: shared on each ancestor, exclusive on each path (exclusive wins
 * where a path is both), ordered bytewise by path, the one fixed order every instance uses.
 */
export function planClaimLocks(paths: readonly DavPath[]): PlannedLock[] {
  const modes = new Map<DavPath, AdvisoryMode>();
  for (const path of paths) {
    for (const ancestor of ancestorsOf(path)) if (!modes.has(ancestor)) modes.set(ancestor, 'shared');
    modes.set(path, 'exclusive');
  }
  const entries = [...modes.entries()];
  // Bytewise UTF-8 order, which is code point order: the strings' own (UTF-16) order unless a
  // character beyond U+FFFF (a surrogate pair) is to be compared, so the bytes are compared then.
  const bytewise = entries.some(([path]) => /[\uD800-\uDFFF]/.test(path));
  return entries
    .sort(bytewise ? ([a], [b]) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')) : ([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([path, mode]) => ({ path, key: pathKey(path), mode }));
}

/** The plan as keepdav_claim's arguments (schema.ts migration 3): the keys and whether each is exclusive, in order. */
export function takeLocksParams(plan: readonly PlannedLock[]): [string[], boolean[]] {
  return [plan.map((l) => l.key), plan.map((l) => l.mode === 'exclusive')];
}
