/**
 * Dead properties (RFC 4918 §4.1, §9.2): any property a client sets that the server does not
 * compute. Each is kept as the serialized XML of the property element, so it comes back exactly
 * as sent. They follow their resource through COPY, MOVE and DELETE (see TreeOperations).
 */
import type { StateDatabase } from '../state/database';
import type { DavPath } from '../paths/davPath';
import { subtreeBounds, subtreeCondition } from '../state/subtree';

export interface DeadProperty {
  ns: string;
  local: string;
  /** The property element serialized by the XML layer, self-contained. */
  xml: string;
}

export type DeadPropertyChange = { op: 'set'; property: DeadProperty } | { op: 'remove'; ns: string; local: string };

export class DeadPropertyStore {
  private readonly selectAll;
  private readonly insert;
  private readonly deleteOne;
  private readonly deleteTree;
  private readonly moveTree;
  private readonly copyTree;
  private readonly selectMany;

  constructor(private readonly db: StateDatabase) {
    db.exec(`CREATE TABLE IF NOT EXISTS dead_properties (
      path TEXT NOT NULL, ns TEXT NOT NULL, local TEXT NOT NULL, xml TEXT NOT NULL,
      PRIMARY KEY (path, ns, local))`);
    this.selectAll = db.prepare<[string], DeadProperty>('SELECT ns, local, xml FROM dead_properties WHERE path = ? ORDER BY rowid');
    this.selectMany = db.prepare<[string], DeadProperty & { path: string }>(
      'SELECT path, ns, local, xml FROM dead_properties WHERE path IN (SELECT value FROM json_each(?)) ORDER BY rowid',
    );
    this.insert = db.prepare('INSERT OR REPLACE INTO dead_properties (path, ns, local, xml) VALUES (?, ?, ?, ?)');
    this.deleteOne = db.prepare('DELETE FROM dead_properties WHERE path = ? AND ns = ? AND local = ?');
    this.deleteTree = db.prepare(`DELETE FROM dead_properties WHERE ${subtreeCondition('path')}`);
    this.moveTree = db.prepare(
      `UPDATE dead_properties SET path = @to || substr(path, length(@path) + 1) WHERE ${subtreeCondition('path')}`,
    );
    this.copyTree = db.prepare(
      `INSERT OR REPLACE INTO dead_properties (path, ns, local, xml)
       SELECT @to || substr(path, length(@path) + 1), ns, local, xml FROM dead_properties WHERE ${subtreeCondition('path')}`,
    );
  }

  list(path: DavPath): DeadProperty[] {
    return this.selectAll.all(path);
  }

  /** Applies all changes in one transaction, in order (PROPPATCH is all-or-nothing, RFC 4918 §9.2). */
  apply(path: DavPath, changes: readonly DeadPropertyChange[]): void {
    this.db.transaction(() => {
      for (const change of changes) {
        if (change.op === 'set') this.insert.run(path, change.property.ns, change.property.local, change.property.xml);
        else this.deleteOne.run(path, change.ns, change.local);
      }
    })();
  }

  moveSubtree(from: DavPath, to: DavPath): void {
    this.moveTree.run({ ...subtreeBounds(from), to });
  }

  /** Copies the properties of `from` (and, for depth infinity, of everything below) onto `to`. */
  copySubtree(from: DavPath, to: DavPath, depth: '0' | 'infinity'): void {
    if (depth === 'infinity') this.copyTree.run({ ...subtreeBounds(from), to });
    else for (const p of this.list(from)) this.insert.run(to, p.ns, p.local, p.xml);
  }

  forgetSubtree(path: DavPath): void {
    this.deleteTree.run(subtreeBounds(path));
  }

  /** The dead properties of the resources `paths` (a batch of a streamed PROPFIND), in one query. */
  listMany(paths: readonly DavPath[]): Map<DavPath, DeadProperty[]> {
    const byPath = new Map<DavPath, DeadProperty[]>();
    for (const { path, ns, local, xml } of this.selectMany.all(JSON.stringify(paths))) {
      const list = byPath.get(path);
      if (list) list.push({ ns, local, xml });
      else byPath.set(path, [{ ns, local, xml }]);
    }
    return byPath;
  }
}
