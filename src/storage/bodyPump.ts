/**
 * Reading a request body into a sink (the temporary file, or memory for a small upload) with the
 * body's failures told apart from the sink's, and the errors both sinks give a body whose length
 * is not the announced one.
 */
import type { Readable, Writable } from 'node:stream';
import type { DavPath } from '../paths/davPath';
import { IncompleteBodyError } from './storageErrors';

/** The body went past its announced length (the write is refused before the extra bytes land). */
export function bodyTooLong(path: DavPath, limit: number): IncompleteBodyError {
  return new IncompleteBodyError(path, `${path}: body longer than the expected ${limit} bytes`);
}

/** The body ended before its announced length. */
export function bodyEndedEarly(path: DavPath, bytes: number, limit: number): IncompleteBodyError {
  return new IncompleteBodyError(path, `${path}: body ended after ${bytes} of ${limit} bytes`);
}

/**
 * Pipes `body` into `sink` until the sink has finished. Rejects with IncompleteBodyError when
 * the body fails, is aborted or closes before its end; with the sink's error otherwise. On
 * rejection the body is unpiped and paused (not destroyed) and the sink is closed.
 */
export function pumpBody(body: NodeJS.ReadableStream, sink: Writable, path: DavPath): Promise<void> {
  const readable = body as Partial<Readable> & NodeJS.ReadableStream;
  if (readable.destroyed === true && readable.readableEnded !== true) {
    return Promise.reject(new IncompleteBodyError(path, `${path}: the body was already closed`));
  }
  return new Promise<void>((resolve, reject) => {
    let ended = false;
    let settled = false;
    const onEnd = () => { ended = true; };
    const onBodyError = (err: unknown) =>
      fail(new IncompleteBodyError(path, `${path}: upload failed: ${(err as Error)?.message ?? err}`, { cause: err }));
    const onAborted = () => fail(new IncompleteBodyError(path, `${path}: upload aborted`));
    const onBodyClose = () => {
      if (!ended) fail(new IncompleteBodyError(path, `${path}: upload closed before its end`));
    };
    const onSinkError = (err: unknown) => fail(err);
    const onFinish = () => {
      if (settled) return;
      settled = true;
      detach();
      resolve();
    };
    const listeners: Array<[NodeJS.EventEmitter, string, (arg?: unknown) => void]> = [
      [body, 'end', onEnd], [body, 'error', onBodyError], [body, 'aborted', onAborted], [body, 'close', onBodyClose],
      [sink, 'error', onSinkError], [sink, 'finish', onFinish],
    ];
    const detach = () => {
      for (const [emitter, event, listener] of listeners) emitter.removeListener(event, listener);
      // Keep a listener on the sink so a late error cannot become an uncaught exception.
      sink.on('error', () => {});
    };
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      detach();
      body.unpipe(sink);
      body.pause();
      // A body failing once may emit 'error' again later; with nobody listening that would crash.
      body.on('error', () => {});
      if (sink.closed) reject(err);
      else {
        sink.once('close', () => reject(err));
        sink.destroy();
      }
    };
    for (const [emitter, event, listener] of listeners) emitter.on(event, listener);
    body.pipe(sink);
  });
}
