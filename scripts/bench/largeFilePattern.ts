/**
 * The content of the large benchmark file: 1 MiB blocks, block i filled with one byte value
 * derived from i. Produced on demand (never held whole in memory) and cheap to spot-check.
 *
 * Usage:
 *   await sendRequest({ ..., body: largeFileChunks(size) });          // upload
 *   const check = new PatternChecker(); res chunk -> check.feed(chunk); check.mismatches
 */

export const BLOCK_BYTES = 1024 * 1024;

export function blockByte(blockIndex: number): number {
  return (blockIndex * 31 + 7) & 0xff;
}

/** Yields `totalBytes` of the pattern, one fresh 1 MiB buffer per block. */
export async function* largeFileChunks(totalBytes: number): AsyncGenerator<Buffer> {
  for (let offset = 0, block = 0; offset < totalBytes; offset += BLOCK_BYTES, block++) {
    const length = Math.min(BLOCK_BYTES, totalBytes - offset);
    yield Buffer.alloc(length, blockByte(block));
  }
}

/** Checks the first and last byte of every block as a download streams by. */
export class PatternChecker {
  private offset = 0;
  mismatches = 0;

  feed(chunk: Buffer): void {
    const start = this.offset;
    const end = start + chunk.length;
    let block = Math.floor(start / BLOCK_BYTES);
    for (let blockStart = block * BLOCK_BYTES; blockStart < end; blockStart += BLOCK_BYTES, block++) {
      const expected = blockByte(block);
      for (const at of [blockStart, blockStart + BLOCK_BYTES - 1]) {
        if (at >= start && at < end && chunk[at - start] !== expected) this.mismatches++;
      }
    }
    this.offset = end;
  }

  get bytesSeen(): number {
    return this.offset;
  }
}
