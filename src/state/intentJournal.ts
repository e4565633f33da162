/**
 * Intents recorded before a filesystem change whose metadata (dead properties, versions, locks)
 * must follow it. The intent is written before the rename/copy/remove and cleared in the same
 * transaction as the metadata update; an intent still present at start-up means the process died
 * in between, and recovery finishes or drops it by looking at the disk (architecture rule 6).
 */
import type { StateDatabase } from './database';
import type { DavPath } from '../paths/davPath';

export type IntentOperation = 'delete' | 'move' | 'copy';

export interface Intent {
  id: number;
  op: IntentOperation;
  src: DavPath;
  dst: DavPath | null;
  depth: '0' | 'infinity';
}

export class IntentJournal {
  private readonly insert;
  private readonly remove;
  private readonly selectAll;

  constructor(db: StateDatabase) {
    db.exec(`CREATE TABLE IF NOT EXISTS intents (
      id INTEGER PRIMARY KEY AUTOINCREMENT, op TEXT NOT NULL, src TEXT NOT NULL, dst TEXT, depth TEXT NOT NULL)`);
    this.insert = db.prepare('INSERT INTO intents (op, src, dst, depth) VALUES (?, ?, ?, ?)');
    this.remove = db.prepare('DELETE FROM intents WHERE id = ?');
    this.selectAll = db.prepare<[], Intent>('SELECT id, op, src, dst, depth FROM intents ORDER BY id');
  }

  record(op: IntentOperation, src: DavPath, dst: DavPath | null, depth: '0' | 'infinity' = 'infinity'): number {
    return Number(this.insert.run(op, src, dst, depth).lastInsertRowid);
  }

  complete(id: number): void {
    this.remove.run(id);
  }

  pending(): Intent[] {
    return this.selectAll.all();
  }
}
