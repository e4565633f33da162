/**
 * Lingering close (RFC 9112 §9.6): an answer given before the request's body was read (a 409 for
 * a missing parent, a 423, a 412, a write that failed part-way) closes the connection, but the
 * client may still be sending that body. Closing the socket with its bytes unread makes the
 * kernel reset the connection, and a client that sends the whole body before it reads (neon, so
 * cadaver and davfs2; many others) then reports "connection closed by server" instead of the
 * answer, which the reset may even discard unread. So the server half-closes instead: it sends its
 * answer and its FIN, keeps reading and discarding what still arrives, and closes once the client
 * has closed its side, or after a bound, as Apache and nginx do.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/** The longest a closing connection keeps discarding a body (nginx's lingering_time). */
export const LINGER_TOTAL_MS = 30_000;
/** The longest it waits for the client's next bytes or its close (nginx's lingering_timeout). */
export const LINGER_IDLE_MS = 5_000;

/**
 * Arms lingering close on the connection of a request whose body is not read to its end: when
 * node:http closes it after the answer (socket.destroySoon, called for an answer that does not
 * keep the connection), it half-closes and drains instead of closing at once. A body a failed
 * write left paused is let flow, to nowhere, so the draining can reach its end.
 */
export function lingerOnClose(req: IncomingMessage): void {
  const socket = req.socket as Socket | null;
  if (!socket || socket.destroyed) return;
  socket.destroySoon = lingeringDestroySoon;
  req.resume();
}

function lingeringDestroySoon(this: Socket): void {
  closeLingering(this);
}

/**
 * Ends the socket's sending side (after what was written: the answer) and closes it once the client
 * has closed its side, after LINGER_IDLE_MS without a byte from it, or after LINGER_TOTAL_MS in
 * all; what arrives meanwhile is read and dropped by node:http's parser.
 */
export function closeLingering(socket: Socket): void {
  if (socket.writable) socket.end();
  if (socket.readableEnded) {
    // The client closed its side already (a body cut short): nothing is left to drain.
    if (socket.writableFinished) socket.destroy();
    else socket.once('finish', () => socket.destroy());
    return;
  }
  const close = (): void => {
    clearTimeout(deadline);
    socket.destroy();
  };
  const deadline = setTimeout(close, LINGER_TOTAL_MS);
  deadline.unref();
  socket.once('close', () => clearTimeout(deadline));
  // The client read the answer and closed its side: nothing is left unread, so closing sends no reset.
  socket.once('end', close);
  // The server's own idle timeout (server.setTimeout) destroys the socket too; this one is shorter.
  socket.setTimeout(LINGER_IDLE_MS, close);
  // A socket whose reading was stopped (the body's consumer fell behind) must read again to drain.
  socket.resume();
}
