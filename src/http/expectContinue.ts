/**
 * `Expect: 100-continue` (RFC 9110 §10.1.1): the client waits for a 100 (Continue) before it sends
 * its body, so that a request the server will refuse is refused before the body travels. node:http
 * sends the 100 the moment the headers arrive; keepdav sends it when a handler first reads the body,
 * so every refusal decided before that (401, 403, 409 for a missing parent, 412, 423, 507) is the
 * final answer, given without the body. Cyberduck and curl (bodies over 1 MiB) ask for it: an
 * upload of gigabytes to a locked file is then refused at once instead of after the upload.
 *
 * An answer given while the 100 is still owed closes the connection (edge.ts): the client may or
 * may not send the body after all (§10.1.1 allows both), so the connection cannot be reused.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestListener } from './edge';

/** The answers whose request asked for 100 (Continue) and has not been sent one. */
const continueOwed = new WeakMap<IncomingMessage, ServerResponse>();

/**
 * node:http's 'checkContinue' listener: hands the request to `listener` as any other, and sends the
 * 100 (Continue) when the body is first read (Readable's _read), unless an answer was given first.
 */
export function continueOnFirstRead(listener: RequestListener): RequestListener {
  return (req, res) => {
    continueOwed.set(req, res);
    const readBody = req._read;
    req._read = function readAfterContinue(this: IncomingMessage, size: number): void {
      const owed = continueOwed.get(this);
      if (owed !== undefined) {
        continueOwed.delete(this);
        if (!owed.headersSent && !owed.destroyed) owed.writeContinue();
      }
      readBody.call(this, size);
    };
    listener(req, res);
  };
}

/**
 * Called as the final answer is given: no 100 may follow it. True when one was still owed, so
 * the client may be holding its body back and the connection cannot be reused.
 */
export function forgoContinue(req: IncomingMessage): boolean {
  return continueOwed.delete(req);
}
