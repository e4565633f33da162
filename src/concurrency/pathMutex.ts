/**
 * Serializes writes (architecture rule 5): a write holds its resource path, or a whole tree for
 * COPY/MOVE/DELETE of a collection, while it evaluates its conditions and acts, so a check and
 * its act cannot be split by another request. Paths are taken all at once, so two requests
 * holding overlapping sets never deadlock.
 */
import { isSameOrInside, type DavPath } from '../paths/davPath';

export interface PathClaim {
  path: DavPath;
  /** The claim covers everything below `path` too. */
  tree: boolean;
}

/** A COPY, MOVE or DELETE that may run long; overlapping mutations are refused while it runs. */
export interface RunningOperation {
  id: string;
  method: string;
  path: DavPath;
  startedAtMs: number;
}

/** Thrown by `run` when a claim overlaps a running operation (the edge answers 423 + Retry-After). */
export class OperationInProgressError extends Error {
  constructor(readonly operation: RunningOperation) {
    super(`${operation.method} of ${operation.path} is in progress`);
    this.name = 'OperationInProgressError';
  }
}

interface Holder {
  claims: readonly PathClaim[];
  operation?: RunningOperation;
}

interface Waiter extends Holder {
  wake: () => void;
}

function overlaps(a: PathClaim, b: PathClaim): boolean {
  if (a.path === b.path) return true;
  return (a.tree && isSameOrInside(b.path, a.path)) || (b.tree && isSameOrInside(a.path, b.path));
}

export class PathMutex {
  private readonly held = new Set<Holder>();
  private readonly waiting: Waiter[] = [];

  /** `clock` stamps the start of running operations. */
  constructor(private readonly clock: () => number = Date.now) {}

  /**
   * Runs `action` once no other holder overlaps `claims`; releases them however it ends.
   * A claim overlapping a running `operation` is refused at once with OperationInProgressError
   * instead of waiting behind it (semantics.md: 423 operation-in-progress).
   */
  async run<T>(claims: readonly PathClaim[], action: () => Promise<T>, operation?: Omit<RunningOperation, 'startedAtMs'>): Promise<T> {
    for (const other of this.held) {
      if (other.operation && claims.some((mine) => other.claims.some((theirs) => overlaps(mine, theirs)))) {
        throw new OperationInProgressError(other.operation);
      }
    }
    const holder = await this.acquire(claims);
    if (operation) holder.operation = { ...operation, startedAtMs: this.clock() };
    try {
      return await action();
    } finally {
      this.release(holder);
    }
  }

  /** Whether a holder (not a waiter: it has looked at nothing yet) has claims meeting `claims` now. */
  meetsHolder(claims: readonly PathClaim[]): boolean {
    return this.conflicts(claims, this.held);
  }

  /** Whether a running declared operation claims `path` (alone or in a tree). */
  operationOver(path: DavPath): boolean {
    const mine = { path, tree: false };
    for (const holder of this.held) if (holder.operation && holder.claims.some((theirs) => overlaps(mine, theirs))) return true;
    return false;
  }

  /** The declared operations running now, oldest first. */
  running(): RunningOperation[] {
    const operations: RunningOperation[] = [];
    for (const holder of this.held) if (holder.operation) operations.push({ ...holder.operation });
    return operations.sort((a, b) => a.startedAtMs - b.startedAtMs);
  }

  private conflicts(claims: readonly PathClaim[], others: Iterable<Holder>): boolean {
    for (const other of others) {
      for (const mine of claims) if (other.claims.some((theirs) => overlaps(mine, theirs))) return true;
    }
    return false;
  }

  private acquire(claims: readonly PathClaim[]): Promise<Holder> {
    // First come, first served: a newcomer also waits behind earlier waiters it overlaps.
    if (!this.conflicts(claims, this.held) && !this.conflicts(claims, this.waiting)) {
      const holder = { claims };
      this.held.add(holder);
      return Promise.resolve(holder);
    }
    return new Promise((resolvePromise) => {
      const waiter: Waiter = { claims, wake: () => resolvePromise(waiter) };
      this.waiting.push(waiter);
    });
  }

  private release(holder: Holder): void {
    this.held.delete(holder);
    for (let i = 0; i < this.waiting.length; i++) {
      const waiter = this.waiting[i];
      if (this.conflicts(waiter.claims, this.held) || this.conflicts(waiter.claims, this.waiting.slice(0, i))) continue;
      this.waiting.splice(i, 1);
      i--;
      this.held.add(waiter);
      waiter.wake();
    }
  }
}
