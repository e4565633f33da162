/**
 * In-memory index of locks by root path: a tree with one node per path segment. Finding the locks
 * that cover a path walks only that path's ancestors, so the cost is O(depth of path), whatever
 * the number of locks; the locks rooted in a subtree are found by walking that subtree only.
 * Nodes that hold no lock and no child are pruned, so the tree never outgrows the locks it indexes.
 */
import { DavPath, segmentsOf } from '../paths/davPath';
import type { ActiveLock } from './activeLock';

interface TreeNode {
  readonly children: Map<string, TreeNode>;
  readonly locks: Map<string, ActiveLock>;
}

function newNode(): TreeNode {
  return { children: new Map(), locks: new Map() };
}

function isEmpty(node: TreeNode): boolean {
  return node.children.size === 0 && node.locks.size === 0;
}

export class LockTree {
  private top: TreeNode = newNode();

  /** Indexes `lock` under its root, replacing an indexed lock with the same token at that root. */
  add(lock: ActiveLock): void {
    let node = this.top;
    for (const segment of segmentsOf(lock.root)) {
      let child = node.children.get(segment);
      if (!child) {
        child = newNode();
        node.children.set(segment, child);
      }
      node = child;
    }
    node.locks.set(lock.token, lock);
  }

  /** Removes the lock with `token` rooted at `root`; returns false when it was not indexed there. */
  delete(root: DavPath, token: string): boolean {
    const trail = this.trail(root);
    if (!trail) return false;
    const removed = trail.nodes[trail.nodes.length - 1].locks.delete(token);
    if (removed) this.prune(trail.nodes, trail.segments);
    return removed;
  }

  /**
   * Returns the locks that apply to `path` (RFC 4918 §6.1 item 4): depth-infinity locks rooted at
   * `path` or an ancestor, and every lock rooted at `path`; outermost root first.
   */
  covering(path: DavPath): ActiveLock[] {
    const found: ActiveLock[] = [];
    const segments = segmentsOf(path);
    let node: TreeNode | undefined = this.top;
    for (let i = 0; node; i++) {
      const atPath = i === segments.length;
      for (const lock of node.locks.values()) {
        if (atPath || lock.depth === 'infinity') found.push(lock);
      }
      if (atPath) break;
      node = node.children.get(segments[i]);
    }
    return found;
  }

  /** Returns the locks rooted exactly at `path`. */
  rootedAt(path: DavPath): ActiveLock[] {
    const trail = this.trail(path);
    return trail ? [...trail.nodes[trail.nodes.length - 1].locks.values()] : [];
  }

  /** Returns the locks rooted at `path` or anywhere below it, `path`'s own first (pre-order). */
  within(path: DavPath): ActiveLock[] {
    const trail = this.trail(path);
    return trail ? collect(trail.nodes[trail.nodes.length - 1]) : [];
  }

  /** Drops every lock rooted at `path` or below it from the index; returns the dropped locks. */
  detachWithin(path: DavPath): ActiveLock[] {
    const trail = this.trail(path);
    if (!trail) return [];
    const subtree = trail.nodes[trail.nodes.length - 1];
    const dropped = collect(subtree);
    if (trail.segments.length === 0) {
      this.top = newNode();
    } else {
      subtree.children.clear();
      subtree.locks.clear();
      this.prune(trail.nodes, trail.segments);
    }
    return dropped;
  }

  /** The nodes from the top down to `path` (and the segments between them), or null when absent. */
  private trail(path: DavPath): { nodes: TreeNode[]; segments: string[] } | null {
    const segments = segmentsOf(path);
    const nodes = [this.top];
    for (const segment of segments) {
      const child = nodes[nodes.length - 1].children.get(segment);
      if (!child) return null;
      nodes.push(child);
    }
    return { nodes, segments };
  }

  /** Removes now-empty nodes at the bottom of a trail, deepest first. */
  private prune(nodes: TreeNode[], segments: string[]): void {
    for (let i = segments.length; i > 0 && isEmpty(nodes[i]); i--) {
      nodes[i - 1].children.delete(segments[i - 1]);
    }
  }
}

function collect(start: TreeNode): ActiveLock[] {
  const found: ActiveLock[] = [];
  const pending: TreeNode[] = [start];
  while (pending.length > 0) {
    const node = pending.pop() as TreeNode;
    found.push(...node.locks.values());
    // Push children reversed so they are visited in insertion order.
    const children = [...node.children.values()];
    for (let i = children.length - 1; i >= 0; i--) pending.push(children[i]);
  }
  return found;
}
