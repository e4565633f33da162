/**
 * What one request did, for the access log and the metrics, computed in one place: request id,
 * client address, user, bytes in and out, duration, the stable keepdav code of an error answer.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

export interface AccessEntry {
  reqId: string;
  client: string;
  /** The authenticated user, when authentication is configured. */
  user?: string;
  method: string;
  /** The request-target as sent (path and query), cut at 1024 characters. */
  path: string;
  status: number;
  /** Bytes received for this request, request line and headers included (Apache's %I). */
  bytesIn: number;
  /** Bytes sent for this answer, status line and headers included (Apache's %O). */
  bytesOut: number;
  durationMs: number;
  userAgent?: string;
  /** The stable keepdav code of an error answer (README, "Error codes"). */
  code?: string;
  /** The connection closed before the whole answer was sent. */
  aborted?: boolean;
}

/** A client's X-Request-Id when it is a sane token (so logs cannot be forged with it), else a fresh UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[A-Za-z0-9._:@+=/-]{1,128}$/.test(given) ? given : randomUUID();
}

/** Socket byte counters as of the end of the previous answer on that connection (keep-alive). */
const counted = new WeakMap<Socket, { read: number; written: number }>();

/** Bytes written to a connection past Node.js's own counter (sendfile, zeroCopySend.ts), in total. */
const writtenBeside = new WeakMap<Socket, number>();

/** Counts `bytes` written to `socket` other than through it (bytesOfExchange adds them). */
export function countWrittenBeside(socket: Socket, bytes: number): void {
  writtenBeside.set(socket, (writtenBeside.get(socket) ?? 0) + bytes);
}

/** Bytes read and written on the request's connection since the previous answer on it ended. */
export function bytesOfExchange(socket: Socket | null | undefined): { bytesIn: number; bytesOut: number } {
  if (!socket) return { bytesIn: 0, bytesOut: 0 };
  const before = counted.get(socket) ?? { read: 0, written: 0 };
  const now = { read: socket.bytesRead ?? 0, written: (socket.bytesWritten ?? 0) + (writtenBeside.get(socket) ?? 0) };
  counted.set(socket, now);
  return { bytesIn: Math.max(0, now.read - before.read), bytesOut: Math.max(0, now.written - before.written) };
}
