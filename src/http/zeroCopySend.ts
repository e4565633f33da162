/**
 * Large downloads straight from the page cache to the client's connection: sendfile(2), run on a
 * thread of its own by a native helper (native/zeroCopySend.c, built by `npm install` as
 * build/Release/zero_copy_send.node). Reading a file into a buffer and writing the buffer out
 * passes every byte through the process twice; sendfile hands the kernel's own pages to the
 * socket.
 *
 * Only an answer that is alone on a plain TCP connection goes this way (TLS encrypts in the
 * process, so it cannot), only from ZERO_COPY_MIN_BYTES on (below that starting a thread costs
 * more than the copies), and at most MAX_ZERO_COPY_TRANSFERS at once, each on a thread that lives
 * as long as its client takes. Anything else, or a missing helper, takes FileContent's buffers.
 *
 * While the helper sends, Node.js does not see the connection move, so its idle timeout is
 * suspended; the helper applies the same one itself (a client that takes nothing for that long
 * is cut off, as before). The bytes it sends are added to the access log's count.
 *
 * Usage (edge.ts): body.sendTo(res, length, directSendFor(res, length))
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import { loadNativeHelper, nativeHelperPath } from '../nativeHelpers';
import type { DirectSend } from '../storage/resourceStore';
import { countWrittenBeside } from './accessEntry';

export const ZERO_COPY_SEND_BINARY = nativeHelperPath('zero_copy_send');

/** Downloads of at least this many bytes go by sendfile. */
export const ZERO_COPY_MIN_BYTES = 1024 * 1024;

/** At most this many sendfile transfers at once. */
export const MAX_ZERO_COPY_TRANSFERS = 4;

/** The idle timeout when the connection has none of its own. */
const DEFAULT_IDLE_MS = 120_000;

/** Errors that mean the connection ended first (the client left, or stopped reading). */
const CONNECTION_ENDED = new Set(['EPIPE', 'ECONNRESET', 'ECANCELED', 'ETIMEDOUT', 'ENOTCONN', 'ESHUTDOWN']);
/** Errors that mean this file cannot be sent so, when nothing was sent yet: the buffers then take over. */
const UNSUPPORTED = new Set(['EINVAL', 'ENOSYS', 'EOPNOTSUPP']);

interface Transfer {
  cancel(): void;
}

interface ZeroCopyBinding {
  start(socketFd: number, fileFd: number, offset: number, length: number, idleMs: number, done: (errno: number, sent: number) => void): Transfer;
}

let binaryPath: string | null = ZERO_COPY_SEND_BINARY;
let binding: ZeroCopyBinding | null | undefined;
let running = 0;
let started = 0;

function loaded(): ZeroCopyBinding | null {
  // Not built (no compiler at install): the buffers it is.
  if (binding === undefined) binding = binaryPath === null ? null : loadNativeHelper<ZeroCopyBinding>(binaryPath);
  return binding;
}

/**
 * How `res` may send `length` bytes of a file without copying them, or null when it must take the
 * ordinary way (too small, TLS, not yet alone on its connection, too many transfers running, no
 * helper).
 */
export function directSendFor(res: ServerResponse, length: number): DirectSend | null {
  if (!(length >= ZERO_COPY_MIN_BYTES) || running >= MAX_ZERO_COPY_TRANSFERS) return null;
  const socket = res.socket;
  // An answer to a pipelined request has no socket of its own until those before it are done.
  if (!socket || res.destroyed || (socket as Socket & { encrypted?: boolean }).encrypted || descriptorOf(socket) === null) return null;
  const native = loaded();
  if (!native) return null;
  return (fileFd, offset, count) => send(native, res, socket, fileFd, offset, count);
}

/** The descriptor of a live plain socket, or null. */
function descriptorOf(socket: Socket): number | null {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
  return !socket.destroyed && typeof fd === 'number' && fd >= 0 ? fd : null;
}

async function send(native: ZeroCopyBinding, res: ServerResponse, socket: Socket, fileFd: number, offset: number, length: number): Promise<number | 'closed' | 'unsupported'> {
  running++;
  started++;
  const idleMs = socket.timeout ?? 0;
  try {
    // The header first, through Node.js, and wait until the kernel has it: the bytes must follow it.
    res.flushHeaders();
    if (!(await handedToKernel(socket))) return 'closed';
    // Taken now, in the same turn as start() duplicates it: a descriptor Node.js has closed since
    // could already name another file.
    const socketFd = descriptorOf(socket);
    if (socketFd === null || res.destroyed) return 'closed';
    socket.setTimeout(0);
    const outcome = await new Promise<{ errno: number; sent: number } | null>((resolve) => {
      let transfer: Transfer;
      try {
        transfer = native.start(socketFd, fileFd, offset, length, idleMs > 0 ? idleMs : DEFAULT_IDLE_MS, (code, count) => {
          res.off('close', cancel);
          resolve({ errno: code, sent: count });
        });
      } catch {
        return resolve(null); // no thread to be had: nothing was sent
      }
      const cancel = (): void => transfer.cancel();
      res.once('close', cancel);
    });
    if (outcome === null) return 'unsupported';
    const { errno, sent } = outcome;
    countWrittenBeside(socket, sent);
    if (errno === 0) return sent;
    const code = errnoName(errno);
    if (CONNECTION_ENDED.has(code)) {
      socket.destroy();
      return 'closed';
    }
    if (sent === 0 && UNSUPPORTED.has(code)) return 'unsupported';
    throw Object.assign(new Error(`sendfile failed after ${sent} of ${length} bytes: ${code}`), { code });
  } finally {
    running--;
    if (!socket.destroyed) socket.setTimeout(idleMs);
  }
}

/** Resolves true once every write on `socket` so far has reached the kernel, false when it closed first. */
function handedToKernel(socket: Socket): Promise<boolean> {
  return new Promise((resolve) => socket.write(Buffer.alloc(0), (err) => resolve(!err && !socket.destroyed)));
}

function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(osConstants.errno)) if (value === errno) return name;
  return `errno ${errno}`;
}

/** For tests: whether sendfile may be used (the helper is loaded again when turned back on), how many transfers run, and how many ever started. */
export const zeroCopySendForTests = {
  use(on: boolean): void {
    binaryPath = on ? ZERO_COPY_SEND_BINARY : null;
    binding = undefined;
  },
  available: (): boolean => loaded() !== null,
  running: (): number => running,
  started: (): number => started,
};
