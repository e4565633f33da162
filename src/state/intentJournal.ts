/**
 * Intents recorded before a filesystem change whose metadata (dead properties, versions, locks)
 * must follow it. The intent is written before the rename/copy/remove and cleared in the same
 * transaction as the metadata update; an intent still present at start-up means the process died
 * in between, and recovery finishes or drops it by looking at the disk (architecture rule 6).
 */
import type { StateDatabase } from './database';
import type { DavPath } from '../paths/davPath';

/** `touch`: a PROPPATCH that sets dead properties and the modification time together. */
export type IntentOperation = 'delete' | 'move' | 'copy' | 'touch';

export interface Intent {
  id: number;
  op: IntentOperation;
  src: DavPath;
  dst: DavPath | null;
  depth: '0' | 'infinity';
  /** The modification time a `touch` sets (ms), else null. */
  mtime_ms: number | null;
}

export class IntentJournal {
  private readonly insert;
  private readonly remove;
  private readonly selectAll;

  constructor(db: StateDatabase) {
    db.exec(`CREATE TABLE IF NOT EXISTS intents (
      id INTEGER PRIMARY KEY AUTOINCREMENT, op TEXT NOT NULL, src TEXT NOT NULL, dst TEXT, depth TEXT NOT NULL)`);
    const columns = (db.prepare('PRAGMA table_info(intents)').all() as { name: string }[]).map((c) => c.name);
    if (!columns.includes('mtime_ms')) db.exec('ALTER TABLE intents ADD COLUMN mtime_ms REAL');
    this.insert = db.prepare('INSERT INTO intents (op, src, dst, depth, mtime_ms) VALUES (?, ?, ?, ?, ?)');
    this.remove = db.prepare('DELETE FROM intents WHERE id = ?');
    this.selectAll = db.prepare<[], Intent>('SELECT id, op, src, dst, depth, mtime_ms FROM intents ORDER BY id');
  }

  record(op: IntentOperation, src: DavPath, dst: DavPath | null, depth: '0' | 'infinity' = 'infinity', mtimeMs: number | null = null): number {
    return Number(this.insert.run(op, src, dst, depth, mtimeMs).lastInsertRowid);
  }

  complete(id: number): void {
    this.remove.run(id);
  }

  pending(): Intent[] {
    return this.selectAll.all();
  }
}
