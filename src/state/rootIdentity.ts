/**
 * Which root a state belongs to. A state database deleted (or swapped for another root's) would
 * make the server start silently with every lock, dead property and version gone, so the pair is
 * tied by one random id kept in both places: the `state_meta` table of the database and the file
 * `.keepdav-state-id` at the top of the root (a reserved name: invisible by URL, never creatable).
 *
 * | root marker | database id | at start |
 * |---|---|---|
 * | none | none | first start (or a state from before ids): a new id goes into both |
 * | X | X | the pair belongs together |
 * | X | none (missing or fresh database) | refused: the state this root had is gone |
 * | X | Y, or none | Y | refused: the state belongs to another root |
 * | none, the root read-only | Y, noted as unmarked | the pair is taken to belong together (it cannot be told) |
 * With `--new-state` a refused pair starts afresh: the old database and retained bytes are moved
 * aside (`abandoned-<time>/` in the state directory), never deleted, and a new id is written.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync, renameSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { StateDatabase } from './database';

export const ROOT_MARKER = '.keepdav-state-id';
const DATABASE_FILES = ['keepdav.sqlite', 'keepdav.sqlite-wal', 'keepdav.sqlite-shm', 'retained'];

/** The root and the state do not belong together; `--new-state` starts afresh. */
export class ForeignStateError extends Error {
  constructor(message: string) {
    super(`${message}; start with --new-state to begin with an empty state (the old one is moved aside, not deleted)`);
    this.name = 'ForeignStateError';
  }
}

function readMarker(rootHost: string): string | null {
  try {
    return readFileSync(join(rootHost, ROOT_MARKER), 'utf8').trim() || null;
  } catch {
    return null;
  }
}

function ensureMetaTable(db: StateDatabase): void {
  db.exec('CREATE TABLE IF NOT EXISTS state_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
}

function readStateId(db: StateDatabase): string | null {
  ensureMetaTable(db);
  const row = db.prepare("SELECT value FROM state_meta WHERE key = 'root_id'").get() as { value: string } | undefined;
  return row?.value ?? null;
}

/** What is wrong with the pair, or null when it belongs together (or is new). */
export function rootStateMismatch(rootHost: string, stateDir: string, db: StateDatabase, hadDatabase: boolean): string | null {
  const marker = readMarker(rootHost);
  const stateId = readStateId(db);
  if (marker !== null && stateId === null) {
    return hadDatabase
      ? `the state database in ${stateDir} belongs to no root, but the root ${rootHost} had a state of its own`
      : `the root ${rootHost} had a state database, but there is none in ${stateDir} (deleted, or another --state)`;
  }
  // The root that could not be marked (read-only) has no marker to compare: the state noted its
  // path, and takes that root (and no other) as its own.
  if (stateId !== null && marker === null && readMeta(db, 'root_unmarked') === rootHost) return null;
  if (stateId !== null && marker !== stateId) return `the state database in ${stateDir} belongs to another root than ${rootHost}`;
  return null;
}

function readMeta(db: StateDatabase, key: string): string | null {
  const row = db.prepare('SELECT value FROM state_meta WHERE key = ?').get(key) as { value: string } | undefined;
  return row?.value ?? null;
}

/** Moves the state's database and retained bytes aside, so a fresh one can be opened. */
export function abandonState(stateDir: string, nowMs: number = Date.now()): string | null {
  const present = DATABASE_FILES.filter((name) => existsSync(join(stateDir, name)));
  if (present.length === 0) return null;
  const aside = join(stateDir, `abandoned-${new Date(nowMs).toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(aside, { recursive: true });
  for (const name of present) renameSync(join(stateDir, name), join(aside, name));
  return aside;
}

/** Ties a new (or pre-id) state to its root: the id into the database, then the marker into the root. */
export function bindStateToRoot(rootHost: string, db: StateDatabase, log: (line: string) => void): void {
  let id = readStateId(db);
  if (id === null) {
    id = randomUUID();
    db.prepare("INSERT INTO state_meta (key, value) VALUES ('root_id', ?)").run(id);
  }
  if (readMarker(rootHost) === id) return;
  try {
    const marker = join(rootHost, ROOT_MARKER);
    writeFileSync(marker + '.tmp', id + '\n');
    renameSync(marker + '.tmp', marker);
    db.prepare("DELETE FROM state_meta WHERE key = 'root_unmarked'").run();
  } catch (err) {
    // A read-only root can still be served; it just cannot tell a lost state afterwards. The state
    // remembers that its root is unmarked, so the next start does not take it for another root's.
    db.prepare("INSERT OR REPLACE INTO state_meta (key, value) VALUES ('root_unmarked', ?)").run(rootHost);
    log(`cannot mark the root ${rootHost} with its state id (${(err as Error).message}); a lost state will not be detected`);
  }
}
