/**
 * fileContent.ts: a file's bytes as a Readable, and sent with two reused buffers (sendTo) that are
 * refilled only after the writable has taken them, or handed to a DirectSend (the edge's
 * sendfile) with the file's descriptor and range; the file is closed however the sending ends.
 */
import { randomBytes } from 'node:crypto';
import { readSync, truncateSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { FileContent } from '../../../src/storage/fileContent';
import { freshDir, removeDir } from './storageTestKit';
import { openDescriptorsOn } from '../../support/openDescriptors';

let dir: string;
const MiB = 1024 * 1024;
/** Several chunks and a part of one. */
const bytes = randomBytes(3 * MiB + 12_345);

beforeAll(() => {
  dir = freshDir('file-content');
  writeFileSync(join(dir, 'f.bin'), bytes);
});
afterAll(() => removeDir(dir));

async function contentOf(name: string, start: number, end: number): Promise<FileContent> {
  return new FileContent(await open(join(dir, name), 'r'), start, end);
}

/**
 * A writable that takes each chunk later (as a socket under load does) and fails the test if the
 * chunk's bytes changed between write() and the moment it is taken: a buffer refilled too soon.
 */
class SlowCheckingSink extends Writable {
  readonly received: Buffer[] = [];
  readonly changedBeforeTaken: number[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    const asWritten = Buffer.from(chunk);
    setTimeout(() => {
      if (!chunk.equals(asWritten)) this.changedBeforeTaken.push(this.received.length);
      this.received.push(asWritten);
      callback();
    }, 2);
  }
}

const closedEvent = (content: FileContent) => new Promise<void>((resolve) => (content.closed ? resolve() : content.once('close', () => resolve())));

describe('FileContent as a Readable', () => {
  it('yields the whole file, and a range of it, byte for byte', async () => {
    const whole: Buffer[] = [];
    for await (const chunk of await contentOf('f.bin', 0, bytes.length - 1)) whole.push(chunk as Buffer);
    expect(Buffer.concat(whole).equals(bytes)).toBe(true);
    const part: Buffer[] = [];
    for await (const chunk of await contentOf('f.bin', 1000, 2 * MiB + 7)) part.push(chunk as Buffer);
    expect(Buffer.concat(part).equals(bytes.subarray(1000, 2 * MiB + 8))).toBe(true);
  });

  it('stops where the file ends when the range goes past it, and closes the file', async () => {
    const content = await contentOf('f.bin', bytes.length - 10, bytes.length + 5000);
    const chunks: Buffer[] = [];
    for await (const chunk of content) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(bytes.subarray(bytes.length - 10))).toBe(true);
    await closedEvent(content);
    expect(openDescriptorsOn(join(dir, 'f.bin'))).toBe(0);
  });
});

describe('FileContent.sendTo', () => {
  it('sends every byte in order, never refilling a buffer the writable has not taken, then ends it and closes the file', async () => {
    const sink = new SlowCheckingSink();
    const finished = new Promise((resolve) => sink.on('finish', resolve));
    const content = await contentOf('f.bin', 0, bytes.length - 1);
    await content.sendTo(sink, bytes.length);
    await finished;
    expect(sink.changedBeforeTaken).toEqual([]);
    expect(Buffer.concat(sink.received).equals(bytes)).toBe(true);
    expect(sink.received.length).toBeGreaterThan(3); // several chunks went through the two buffers
    await closedEvent(content);
    expect(openDescriptorsOn(join(dir, 'f.bin'))).toBe(0);
  });

  it('sends a range', async () => {
    const sink = new SlowCheckingSink();
    await (await contentOf('f.bin', MiB - 3, 2 * MiB + 3)).sendTo(sink, MiB + 7);
    expect(Buffer.concat(sink.received).equals(bytes.subarray(MiB - 3, 2 * MiB + 4))).toBe(true);
  });

  it('resolves and closes the file when the writable closes midway (the client left)', async () => {
    const sink = new SlowCheckingSink();
    const content = await contentOf('f.bin', 0, bytes.length - 1);
    const sending = content.sendTo(sink, bytes.length);
    setTimeout(() => sink.destroy(), 3);
    await expect(sending).resolves.toBeUndefined();
    expect(Buffer.concat(sink.received).length).toBeLessThan(bytes.length);
    await closedEvent(content);
    expect(openDescriptorsOn(join(dir, 'f.bin'))).toBe(0);
  });

  it('a file shorter than announced destroys the writable (a cut answer, not a short one) and rejects', async () => {
    writeFileSync(join(dir, 'shrinks.bin'), bytes);
    const content = await contentOf('shrinks.bin', 0, bytes.length - 1);
    truncateSync(join(dir, 'shrinks.bin'), MiB + 5);
    const sink = new SlowCheckingSink();
    await expect(content.sendTo(sink, bytes.length)).rejects.toThrow(`the file ended after ${MiB + 5} of ${bytes.length} bytes`);
    expect(sink.destroyed).toBe(true);
    expect(sink.writableFinished).toBe(false);
    await closedEvent(content);
    expect(openDescriptorsOn(join(dir, 'shrinks.bin'))).toBe(0);
  });

  it('an empty file ends the writable at once', async () => {
    writeFileSync(join(dir, 'empty.bin'), '');
    const sink = new SlowCheckingSink();
    const finished = new Promise((resolve) => sink.on('finish', resolve));
    await (await contentOf('empty.bin', 0, -1)).sendTo(sink, 0);
    await finished;
    expect(sink.received).toEqual([]);
  });
});

describe('FileContent.sendTo with a DirectSend', () => {
  /** A DirectSend that reads the range through the descriptor it is given (what sendfile sends) into `sink`. */
  const readingInto = (sink: Buffer[], calls: Array<[number, number]>) => async (fd: number, offset: number, length: number) => {
    calls.push([offset, length]);
    const buffer = Buffer.alloc(length);
    const got = readSync(fd, buffer, 0, length, offset);
    sink.push(buffer.subarray(0, got));
    return got;
  };

  it('hands it the open file and the range, ends the writable, closes the file', async () => {
    const direct: Buffer[] = [];
    const calls: Array<[number, number]> = [];
    const sink = new SlowCheckingSink();
    const finished = new Promise((resolve) => sink.on('finish', resolve));
    const content = await contentOf('f.bin', 1000, 2 * MiB + 999);
    await content.sendTo(sink, 2 * MiB, readingInto(direct, calls));
    await finished;
    expect(calls).toEqual([[1000, 2 * MiB]]);
    expect(Buffer.concat(direct).equals(bytes.subarray(1000, 2 * MiB + 1000))).toBe(true);
    expect(sink.received).toEqual([]);
    await closedEvent(content);
    expect(openDescriptorsOn(join(dir, 'f.bin'))).toBe(0);
  });

  it("'unsupported' leaves every byte to the buffers", async () => {
    const sink = new SlowCheckingSink();
    const finished = new Promise((resolve) => sink.on('finish', resolve));
    const content = await contentOf('f.bin', 0, bytes.length - 1);
    await content.sendTo(sink, bytes.length, async () => 'unsupported');
    await finished;
    expect(Buffer.concat(sink.received).equals(bytes)).toBe(true);
    expect(sink.changedBeforeTaken).toEqual([]);
    await closedEvent(content);
  });

  it("'closed' destroys the writable and resolves; a shorter file or a failure destroys it and rejects; the file is closed each time", async () => {
    for (const [outcome, rejection] of [
      [async () => 'closed' as const, null],
      [async () => MiB, `the file ended after ${MiB} of ${bytes.length} bytes`],
      [async () => Promise.reject(new Error('sendfile failed after 0 of 5 bytes: EIO')), 'EIO'],
    ] as const) {
      const sink = new SlowCheckingSink();
      const content = await contentOf('f.bin', 0, bytes.length - 1);
      const sending = content.sendTo(sink, bytes.length, outcome);
      if (rejection === null) await expect(sending).resolves.toBeUndefined();
      else await expect(sending).rejects.toThrow(rejection);
      expect(sink.destroyed).toBe(true);
      expect(sink.writableFinished).toBe(false);
      await closedEvent(content);
      expect(openDescriptorsOn(join(dir, 'f.bin'))).toBe(0);
    }
  });
});
