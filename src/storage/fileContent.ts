/**
 * The bytes of one opened file, from `start` to `end` inclusive (or to where the file ends, if
 * sooner): a Readable for any consumer, and sendTo(), the way an HTTP answer sends it.
 *
 * sendTo() reads into two buffers that it reuses, each refilled only once the socket has taken
 * what was written from it, so a download of any size touches 2 × CHUNK_BYTES of memory. A
 * Readable allocates a fresh buffer for every chunk, since its consumer may keep it: measured with
 * curl on 512 MiB from the page cache (9 runs, medians), the fresh buffers took 0.28 s, and after
 * other large transfers had left the heap fragmented, 0.48 s, every chunk's pages faulted in anew;
 * reused buffers took 0.23 s, and the process stayed at its size. Given a DirectSend (the HTTP
 * edge's sendfile), sendTo() hands it the descriptor and range instead and reads nothing itself.
 */
import type { FileHandle } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import type { DirectSend, FileBytes } from './resourceStore';

/** Bytes read, and written to the socket, at once. */
const CHUNK_BYTES = 1024 * 1024;

export class FileContent extends Readable implements FileBytes {
  /** The next byte to read. */
  private position: number;

  constructor(
    private readonly file: FileHandle,
    start: number,
    /** The last byte to send, inclusive (Infinity: to the end of the file). */
    private readonly end: number,
  ) {
    super({ highWaterMark: CHUNK_BYTES });
    this.position = start;
  }

  private get remaining(): number {
    return this.end - this.position + 1;
  }

  override _read(): void {
    const length = Math.min(CHUNK_BYTES, this.remaining);
    if (length <= 0) return void this.push(null);
    const buffer = Buffer.allocUnsafeSlow(length);
    this.file.read(buffer, 0, length, this.position).then(({ bytesRead }) => {
      if (bytesRead === 0) return void this.push(null);
      this.position += bytesRead;
      this.push(bytesRead === length ? buffer : buffer.subarray(0, bytesRead));
    }, (err: Error) => this.destroy(err));
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.file.close().then(() => callback(err), (closeErr: Error) => callback(err ?? closeErr));
  }

  /**
   * Writes the bytes to `out` and ends it; closes the file in every case. Resolves when all is
   * written, or when `out` closed first (the client left: nothing more to do); rejects when a read
   * or a write fails. When the file proves shorter than `expected` (shrunk by another program
   * since the answer's length was sent), it rejects and destroys `out`, so the client sees a cut
   * answer, never a short one. With `direct`, the bytes go that way unless it says 'unsupported'.
   */
  async sendTo(out: Writable, expected: number, direct?: DirectSend | null): Promise<void> {
    try {
      const sent = (direct ? await this.sendDirectly(out, expected, direct) : undefined) ?? (await this.sendBuffered(out));
      if (sent === 'closed') return;
      if (sent < expected) throw new Error(`the file ended after ${sent} of ${expected} bytes`);
      out.end();
    } catch (err) {
      out.destroy();
      throw err;
    } finally {
      this.destroy();
    }
  }

  /** The bytes through two reused buffers: how many were written, or 'closed' when `out` closed first. */
  private async sendBuffered(out: Writable): Promise<number | 'closed'> {
    const CLOSED = Symbol('closed');
    const closed = new Promise<typeof CLOSED>((resolve) => out.once('close', () => resolve(CLOSED)));
    const buffers = [Buffer.allocUnsafeSlow(Math.min(CHUNK_BYTES, Math.max(1, this.remaining)))];
    const writes: Array<Promise<void> | undefined> = [];
    let sent = 0;
    for (let turn = 0; this.remaining > 0; turn ^= 1) {
      // This buffer is free again once the socket has taken its last write (at most two chunks are in flight).
      if ((await Promise.race([writes[turn], closed])) === CLOSED) return 'closed';
      const buffer = (buffers[turn] ??= Buffer.allocUnsafeSlow(buffers[0].length));
      const read = this.file.read(buffer, 0, Math.min(buffer.length, this.remaining), this.position);
      const result = await Promise.race([read, closed]);
      if (result === CLOSED) {
        read.catch(() => {}); // the client left: the read's outcome no longer matters (the close waits for it)
        return 'closed';
      }
      if (result.bytesRead === 0) break;
      this.position += result.bytesRead;
      sent += result.bytesRead;
      const write = written(out, buffer.subarray(0, result.bytesRead));
      write.catch(() => {}); // awaited in a later turn; this keeps a failure after the client left from going unhandled
      writes[turn] = write;
    }
    return (await Promise.race([Promise.all(writes), closed])) === CLOSED ? 'closed' : sent;
  }

  /** The bytes through `direct`, without passing through memory: as sendBuffered, or undefined when it cannot take them. */
  private async sendDirectly(out: Writable, expected: number, direct: DirectSend): Promise<number | 'closed' | undefined> {
    const outcome = await direct(this.file.fd, this.position, Math.max(0, Math.min(this.remaining, expected)));
    if (outcome === 'unsupported') return undefined;
    if (outcome === 'closed') {
      out.destroy();
      return outcome;
    }
    this.position += outcome;
    return outcome;
  }
}

/** Resolves once `out` has handed `chunk` to the kernel, so its memory may be reused. */
function written(out: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => out.write(chunk, (err) => (err ? reject(err) : resolve())));
}
