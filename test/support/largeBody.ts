/**
 * Helpers for multi-GiB upload tests: a deterministic body generated block by block (never held
 * whole in memory), a streaming PUT that hashes what it sends, and a sampler of a child
 * process's resident memory read from /proc/<pid>/status.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
export const BLOCK_BYTES = MiB;

/**
 * Block `index` of the pattern with `seed`: the 32-bit word (index XOR seed), little-endian,
 * repeated over the whole 1 MiB block, except the first 8 bytes, which hold the block's absolute
 * offset as a little-endian 64-bit integer (so offsets past 2^32 appear in the data itself).
 */
export function patternBlock(index: number, seed: number): Buffer {
  const word = Buffer.allocUnsafe(4);
  word.writeUInt32LE((index ^ seed) >>> 0, 0);
  const block = Buffer.allocUnsafe(BLOCK_BYTES).fill(word);
  block.writeBigUInt64LE(BigInt(index) * BigInt(BLOCK_BYTES), 0);
  return block;
}

/** Bytes start..end (inclusive) of the pattern, computed from the blocks they fall in. */
export function patternBytes(start: number, end: number, seed: number): Buffer {
  const parts: Buffer[] = [];
  for (let index = Math.floor(start / BLOCK_BYTES); index <= Math.floor(end / BLOCK_BYTES); index++) {
    const blockStart = index * BLOCK_BYTES;
    const from = Math.max(start, blockStart) - blockStart;
    const to = Math.min(end, blockStart + BLOCK_BYTES - 1) - blockStart;
    parts.push(patternBlock(index, seed).subarray(from, to + 1));
  }
  return Buffer.concat(parts);
}

export interface StreamedPutResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Bytes handed to the socket. */
  sent: number;
  /** sha256 (hex) of the bytes sent. */
  sha256: string;
  /** true when the server answered before the whole body was sent. */
  answeredEarly: boolean;
}

/**
 * PUTs `blocks` pattern blocks to `path`, generated on the fly and hashed while sent, honouring
 * backpressure. With `chunked` the body goes with Transfer-Encoding: chunked and no
 * Content-Length; otherwise with Content-Length. Stops sending when the server answers early.
 */
export async function streamedPut(port: number, path: string, blocks: number, seed: number, chunked: boolean): Promise<StreamedPutResult> {
  const total = blocks * BLOCK_BYTES;
  const headers: Record<string, string> = chunked
    ? { 'Transfer-Encoding': 'chunked', 'Content-Type': 'application/octet-stream' }
    : { 'Content-Length': String(total), 'Content-Type': 'application/octet-stream' };
  const req = httpRequest({ host: '127.0.0.1', port, method: 'PUT', path, headers, agent: false });
  let answered = false;
  const response = new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  // Seen by the race below only; keeps an early rejection from being reported as unhandled.
  response.catch(() => undefined);

  const hash = createHash('sha256');
  let sent = 0;
  for (let index = 0; index < blocks && !answered; index++) {
    const block = patternBlock(index, seed);
    hash.update(block);
    sent += block.length;
    if (!req.write(block)) {
      const drained = once(req, 'drain');
      drained.catch(() => undefined);
      await Promise.race([drained, response]);
    }
  }
  const answeredEarly = answered;
  if (!answered) req.end();
  const res = await response;
  if (answeredEarly) req.destroy();
  return { ...res, sent, sha256: hash.digest('hex'), answeredEarly };
}

/** GETs `path` whole, hashing the body as it arrives (never held in memory). */
export function streamedGet(port: number, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; size: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'GET', path, agent: false }, (res) => {
      const hash = createHash('sha256');
      let size = 0;
      res.on('data', (c: Buffer) => {
        hash.update(c);
        size += c.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, size, sha256: hash.digest('hex') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** sha256 (hex) and size of a file, streamed from disk. */
export async function sha256OfFile(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * MiB })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

/** VmRSS and VmHWM of a process, in bytes. */
export async function memoryOf(pid: number): Promise<{ rss: number; hwm: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
    if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
    return Number(m[1]) * 1024;
  };
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

/**
 * Watches a process's memory while something runs. The peak is VmHWM after the kernel's
 * high-water mark was reset at the start (`5` into /proc/<pid>/clear_refs), so no spike between
 * samples is missed; where that reset is refused, the largest VmRSS sampled every 50 ms.
 */
export class MemoryWatch {
  private timer: NodeJS.Timeout | undefined;
  private maxSampled = 0;
  private hwmReset = false;
  baseline = 0;

  constructor(private readonly pid: number) {}

  async start(): Promise<void> {
    try {
      await writeFile(`/proc/${this.pid}/clear_refs`, '5');
      this.hwmReset = true;
    } catch {
      this.hwmReset = false;
    }
    this.baseline = (await memoryOf(this.pid)).rss;
    this.maxSampled = this.baseline;
    this.timer = setInterval(() => {
      memoryOf(this.pid).then((m) => (this.maxSampled = Math.max(this.maxSampled, m.rss)), () => undefined);
    }, 50);
  }

  /** Stops sampling; the peak resident memory since start, and how it was measured. */
  async stop(): Promise<{ peak: number; baseline: number; sampledPeak: number; method: 'VmHWM' | 'sampled VmRSS' }> {
    clearInterval(this.timer);
    const now = await memoryOf(this.pid);
    this.maxSampled = Math.max(this.maxSampled, now.rss);
    const peak = this.hwmReset ? Math.max(now.hwm, this.maxSampled) : this.maxSampled;
    return { peak, baseline: this.baseline, sampledPeak: this.maxSampled, method: this.hwmReset ? 'VmHWM' : 'sampled VmRSS' };
  }
}
