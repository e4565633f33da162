/**
 * Dead properties (RFC 4918 §4.1, §9.2) in the SQLite state database: one row per (path, ns,
 * local), the property element kept as serialized XML so it comes back exactly as sent.
 */
import type Database from 'better-sqlite3';
import type { DavPath } from '../../paths/davPath';
import type { DeadProperty, DeadPropertyChange, PropertyRecords } from '../stateStore';
import { subtreeBounds, subtreeCondition, type SubtreeBounds } from '../subtree';
import type { StepRunner, TransactionGate } from './transactionGate';

export class SqlitePropertyRecords implements PropertyRecords {
  private readonly selectAll;
  private readonly selectMany;
  private readonly anyInSubtree;
  private readonly applyAll: (path: DavPath, changes: readonly DeadPropertyChange[]) => void;
  private readonly moveAll: (from: DavPath, to: DavPath) => void;
  private readonly copyAll: (from: DavPath, to: DavPath, depth: '0' | 'infinity') => void;
  private readonly deleteTree;

  /** Runs this module's steps (the store's: waiting for an open transaction; a transaction view's: at once). */
  readonly gate: StepRunner;

  constructor(db: Database.Database, transactions: TransactionGate) {
    this.gate = transactions.outside;
    this.selectAll = db.prepare<[string], DeadProperty>('SELECT ns, local, xml FROM dead_properties WHERE path = ? ORDER BY rowid');
    this.selectMany = db.prepare<[string], DeadProperty & { path: string }>(
      'SELECT path, ns, local, xml FROM dead_properties WHERE path IN (SELECT value FROM json_each(?)) ORDER BY rowid',
    );
    this.anyInSubtree = db.prepare<[SubtreeBounds], { found: number }>(
      `SELECT EXISTS (SELECT 1 FROM dead_properties WHERE ${subtreeCondition('path')}) AS found`,
    );
    const insert = db.prepare('INSERT OR REPLACE INTO dead_properties (path, ns, local, xml) VALUES (?, ?, ?, ?)');
    const deleteOne = db.prepare('DELETE FROM dead_properties WHERE path = ? AND ns = ? AND local = ?');
    this.deleteTree = db.prepare(`DELETE FROM dead_properties WHERE ${subtreeCondition('path')}`);
    const moveTree = db.prepare(`UPDATE dead_properties SET path = @to || substr(path, length(@path) + 1) WHERE ${subtreeCondition('path')}`);
    const copyTree = db.prepare(
      `INSERT OR REPLACE INTO dead_properties (path, ns, local, xml)
       SELECT @to || substr(path, length(@path) + 1), ns, local, xml FROM dead_properties WHERE ${subtreeCondition('path')} ORDER BY rowid`,
    );
    this.applyAll = db.transaction((path: DavPath, changes: readonly DeadPropertyChange[]) => {
      for (const change of changes) {
        if (change.op === 'set') insert.run(path, change.property.ns, change.property.local, change.property.xml);
        else deleteOne.run(path, change.ns, change.local);
      }
    });
    this.moveAll = db.transaction((from: DavPath, to: DavPath) => {
      this.deleteTree.run(subtreeBounds(to));
      moveTree.run({ ...subtreeBounds(from), to });
    });
    this.copyAll = db.transaction((from: DavPath, to: DavPath, depth: '0' | 'infinity') => {
      if (depth === 'infinity') copyTree.run({ ...subtreeBounds(from), to });
      else for (const p of this.selectAll.all(from)) insert.run(to, p.ns, p.local, p.xml);
    });
  }

  list(path: DavPath): Promise<DeadProperty[]> {
    return this.gate.call(() => this.selectAll.all(path));
  }

  /**
   * The dead properties of each of `paths` (non-empty, all inside `within`: subtreeBounds of their
   * commonSubtree), paths without any absent: a step, run at once (the store's recordsOfMembers
   * runs it through the gate, beside the version records' own).
   */
  deadPropertiesOf(paths: readonly DavPath[], within: SubtreeBounds): Map<DavPath, DeadProperty[]> {
    const byPath = new Map<DavPath, DeadProperty[]>();
    // Most listings have no dead property at all: one index probe instead of matching every path.
    if (this.anyInSubtree.get(within)!.found === 0) return byPath;
    for (const { path, ns, local, xml } of this.selectMany.all(JSON.stringify(paths))) {
      const list = byPath.get(path);
      if (list) list.push({ ns, local, xml });
      else byPath.set(path, [{ ns, local, xml }]);
    }
    return byPath;
  }

  apply(path: DavPath, changes: readonly DeadPropertyChange[]): Promise<void> {
    return this.gate.call(() => this.applyAll(path, changes));
  }

  moveSubtree(from: DavPath, to: DavPath): Promise<void> {
    return this.gate.call(() => this.moveAll(from, to));
  }

  copySubtree(from: DavPath, to: DavPath, depth: '0' | 'infinity'): Promise<void> {
    return this.gate.call(() => this.copyAll(from, to, depth));
  }

  forgetSubtree(path: DavPath): Promise<void> {
    return this.gate.call(() => {
      this.deleteTree.run(subtreeBounds(path));
    });
  }
}
