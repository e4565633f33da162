/**
 * Frees the spent buffers of request bodies early. node:http reads a body into buffers of up to
 * 64 KiB allocated outside the JavaScript heap, and each is freed only when the garbage collector
 * finds its Buffer object dead. Those objects are small, so they hardly fill the young generation,
 * and V8 collects for the buffers' own sake only once they add up to about 64 MiB: during a
 * 512 MiB PUT the process held 35-50 MiB of spent buffers (peak RSS 114 MiB, 63 idle). A minor
 * collection after every COLLECT_EVERY_BYTES body bytes (all uploads together) frees them at once:
 * peak 92-94 MiB, 73 for a chunked body hashed in place, and the upload no slower (1.47-1.77 s
 * against 1.56-1.88, three PUTs each). A minor collection of the small young generation
 * bin/keepdav.js asks for (4 MiB semi-spaces) takes about a millisecond; 4 MiB of body takes 8-12
 * ms to arrive.
 *
 * Every 4 MiB, not 8: V8 counts memory allocated outside its heap since its last full collection
 * against the old generation's limit, which --heap-growing-percent=50 keeps close above a small
 * heap. With 8 MiB of spent buffers between collections and 4 MiB of batches waiting to be hashed
 * (hashingThread.ts), a 512 MiB PUT on a server that had answered small PUTs for a while ran 29-31
 * full collections (0.92-1.03 s, 1.24-1.35 s of CPU); with 4 MiB and 2 batches, 0-1 (0.76-0.85 s,
 * 0.85-0.96 s of CPU), and its peak RSS was 89-91 MiB against 95.
 *
 * It needs the `gc` function of node's --expose-gc, which bin/keepdav.js, `npm start`, `npm run
 * dev`, the Dockerfile and the bench pass; without it bodies are collected as V8 decides, as before.
 */

/** Body bytes between two collections. */
export const COLLECT_EVERY_BYTES = 4 * 1024 * 1024;

type ExposedGc = (options: { type: 'minor' | 'major' }) => void;

/** A minor collection, when node was started with --expose-gc; else null. */
function minorCollection(): (() => void) | null {
  const gc = (globalThis as { gc?: ExposedGc }).gc;
  return typeof gc === 'function' ? () => gc({ type: 'minor' }) : null;
}

/** Counts body bytes as they pass and runs `collect` after every `every` of them. */
export function spentBufferCollector(collect: (() => void) | null, every = COLLECT_EVERY_BYTES): (bytes: number) => void {
  if (collect === null) return () => undefined;
  let sinceCollection = 0;
  return (bytes) => {
    sinceCollection += bytes;
    if (sinceCollection < every) return;
    sinceCollection = 0;
    collect();
  };
}

/** The process's counter: call it with the size of each part of a request body once it is written. */
export const bodyBytesPassed = spentBufferCollector(minorCollection());
