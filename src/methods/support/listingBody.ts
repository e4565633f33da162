/**
 * The body of an answer that streams a collection's listing (PROPFIND, the HTML index): the text
 * or bytes `chunks` yields, and `listing` closed when the body closes, however it ends.
 * The generator's own finally does not cover a body destroyed before it started (a client that
 * left at once): a generator that never ran never runs its finally, and the listing would stay
 * open on the listing thread (storage/listingThread.ts).
 */
import { Readable } from 'node:stream';
import type { MemberBatches } from '../../storage/listCollection';

export function listingBody(chunks: AsyncIterable<string | Buffer>, listing: MemberBatches | null, highWaterMark?: number): Readable {
  const body = Readable.from(chunks, { objectMode: false, ...(highWaterMark === undefined ? {} : { highWaterMark }) });
  if (listing) body.once('close', () => void listing.close());
  return body;
}
