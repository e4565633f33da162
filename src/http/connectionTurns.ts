/**
 * Pipelined requests take turns (RFC 9112 §9.3.2). A client may send several requests on one
 * connection without waiting for the answers; node:http hands each to the server as soon as it
 * is parsed and only keeps the answers in order. Handled at once, a GET sent after a PUT could
 * answer 404, a GET after a DELETE the deleted bytes, a PUT into a folder its MKCOL has not made
 * yet 409. So a connection runs one request at a time: the next starts once the answer before it
 * is over (sent, or the connection gone). A connection that does not pipeline never waits.
 */
export class ConnectionTurns {
  /** Per connection in use, the starts of the requests waiting behind the one running. */
  private readonly waiting = new WeakMap<object, Array<() => void>>();

  /** Runs `start` now when nothing runs on `connection`, else once the requests before it there are over. */
  take(connection: object, start: () => void): void {
    const queue = this.waiting.get(connection);
    if (queue === undefined) {
      this.waiting.set(connection, []);
      start();
    } else {
      queue.push(start);
    }
  }

  /** The request running on `connection` is over: the next one waiting starts. */
  end(connection: object): void {
    const queue = this.waiting.get(connection);
    const next = queue?.shift();
    if (next === undefined) this.waiting.delete(connection);
    else next();
  }
}
