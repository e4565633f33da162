/**
 * Counts the requests the server began and has not yet recorded as finished (their connection done
 * with them), so closing can wait for the last ones' access lines and state calls (server.ts).
 */
import type { RequestObserver } from './edge';

export class RequestsInFlight implements RequestObserver {
  private count = 0;
  private waiters: Array<() => void> = [];

  requestStarted(): void {
    this.count++;
  }

  requestFinished(): void {
    this.count--;
    if (this.count > 0) return;
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Resolves once none is in flight, or after `maxMs`. */
  settled(maxMs: number): Promise<void> {
    if (this.count <= 0) return Promise.resolve();
    return new Promise((resolvePromise) => {
      const timer = setTimeout(resolvePromise, maxMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolvePromise();
      });
    });
  }
}
