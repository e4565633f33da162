/**
 * The early flushes of a file being streamed to disk: an fdatasync started once EARLY_FLUSH_BYTES
 * were written since the last one began, unless one still runs, while the body goes on arriving.
 * Used by the streaming path of atomic writes (atomicWrite.ts) and by the bench's ceiling, which
 * writes as keepdav writes (scripts/bench/nodeCeiling.ts).
 *
 *   const flushes = new EarlyFlushes(fd);
 *   flushes.written(bytes);     // after each write
 *   await flushes.settled();    // before the final fsync: throws what a flush failed with
 */
import { dataSyncDescriptor } from './fileDescriptorCalls';
import { timedFsync } from './fsyncTiming';

/**
 * A large upload's bytes are sent to the disk (fdatasync, through the pool) every this many, while
 * the rest of the body still arrives. The kernel would otherwise hold them all in the page cache
 * until the final fsync (it starts writing back on its own only after 30 s, or past a tenth of
 * memory), and that fsync then waited for all of them: 0.2 s for 512 MiB on this machine.
 */
export const EARLY_FLUSH_BYTES = 32 * 1024 * 1024;

export class EarlyFlushes {
  /** Bytes written since the last flush began. */
  private unflushed = 0;
  /** The flush running, if one is. */
  private running: Promise<void> | null = null;
  /** What a flush failed with: a sync error is reported once, so the final fsync might not see it again. */
  private error: unknown = null;

  constructor(private readonly fd: number) {}

  /** Counts `bytes` just written, and starts a flush when one is due and none runs. */
  written(bytes: number): void {
    this.unflushed += bytes;
    if (this.unflushed < EARLY_FLUSH_BYTES || this.running !== null) return;
    this.unflushed = 0;
    this.running = timedFsync('file', () => dataSyncDescriptor(this.fd))
      .catch((err: unknown) => {
        this.error ??= err;
      })
      .finally(() => {
        this.running = null;
      });
  }

  /** Resolves once no flush runs (never rejects: for a file being abandoned). */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /** Waits for a flush still running; throws what any of them failed with. */
  async settled(): Promise<void> {
    await this.running;
    if (this.error !== null) throw this.error;
  }
}
