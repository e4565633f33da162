/** The intent journal (architecture rule 6) in the SQLite state database. */
import type Database from 'better-sqlite3';
import type { Intent, IntentJournalRecords } from '../stateStore';
import type { StepRunner, TransactionGate } from './transactionGate';

export class SqliteIntentJournal implements IntentJournalRecords {
  private readonly insert;
  private readonly remove;
  private readonly selectAll;

  /** Runs this module's steps (the store's: waiting for an open transaction; a transaction view's: at once). */
  readonly gate: StepRunner;

  constructor(db: Database.Database, transactions: TransactionGate) {
    this.gate = transactions.outside;
    this.insert = db.prepare('INSERT INTO intents (op, src, dst, depth, mtime_ms) VALUES (?, ?, ?, ?, ?)');
    this.remove = db.prepare('DELETE FROM intents WHERE id = ?');
    this.selectAll = db.prepare<[], Intent>('SELECT id, op, src, dst, depth, mtime_ms FROM intents ORDER BY id');
  }

  record(intent: Omit<Intent, 'id'>): Promise<number> {
    return this.gate.call(() => Number(this.insert.run(intent.op, intent.src, intent.dst, intent.depth, intent.mtime_ms).lastInsertRowid));
  }

  complete(id: number): Promise<boolean> {
    return this.gate.call(() => this.remove.run(id).changes > 0);
  }

  pending(): Promise<Intent[]> {
    return this.gate.call(() => this.selectAll.all());
  }
}
