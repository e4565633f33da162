/**
 * A folder's listing read as it arrives. keepdav streams a Depth 1 PROPFIND (RFC 4918 §9.1) a
 * batch of members at a time; the page reads the body in chunks and parses each run of complete
 * <response> elements on its own (wrapped in the document's own root start tag, so namespaces
 * resolve as in the whole document). The first rows show after the first chunk, the document is
 * never held whole (neither as text nor as a DOM), and the caller sees the count grow.
 */
import { entriesOf, pathOfHref, problemOf, propfindInit, requestUrl, sameHref, type Entry } from './dav.js';

/** Parse the first run early (first rows on screen soon), later runs in larger slices. */
const FIRST_SLICE = 16 * 1024;
const LARGEST_SLICE = 512 * 1024;
/**
 * A turn for the rest of the page after each parsed run: while the network is ahead of the parser,
 * every read resolves at once (a chain of microtasks), and without this the page would neither
 * paint its first rows nor answer clicks until the whole listing was read.
 */
const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
const ROOT_START = /<([A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)(?:\s[^>]*)?>/;

export interface ListingProgress {
  entries: number;
  bytes: number;
}

/** Reads the members of `dirHref`, handing over each parsed batch; resolves when the listing is complete. */
export async function streamListing(dirHref: string, onBatch: (members: Entry[], progress: ListingProgress) => void, signal: AbortSignal): Promise<void> {
  const res = await fetch(requestUrl(dirHref), propfindInit('1', signal));
  if (res.status !== 207) throw await problemOf(res);
  if (!res.body) throw new Error('the listing came without a body');
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const self = pathOfHref(dirHref);
  const progress: ListingProgress = { entries: 0, bytes: 0 };
  let buffer = '';
  let rootStart: string | null = null;
  let rootEnd = '';
  let responseEnd = '';
  let slice = FIRST_SLICE;

  const emit = (xml: string): boolean => {
    const doc = new DOMParser().parseFromString(`${rootStart}${xml}${rootEnd}`, 'application/xml');
    if (doc.getElementsByTagName('parsererror').length > 0) return false;
    const members = entriesOf(doc.documentElement, Date.now()).filter((e) => !sameHref(e.href, self));
    progress.entries += members.length;
    onBatch(members, progress);
    return true;
  };

  for (;;) {
    const { value, done } = await reader.read();
    if (value) {
      buffer += value;
      progress.bytes += value.length;
    }
    if (rootStart === null) {
      const m = ROOT_START.exec(buffer);
      if (m) {
        rootStart = m[0].endsWith('/>') ? `${m[0].slice(0, -2)}>` : m[0];
        rootEnd = `</${m[1]}>`;
        const colon = m[1].indexOf(':');
        responseEnd = `</${colon >= 0 ? m[1].slice(0, colon + 1) : ''}response>`;
        buffer = m[0].endsWith('/>') ? '' : buffer.slice(m.index + m[0].length);
      }
    }
    if (done) {
      if (rootStart === null) throw new Error('the listing was not a multistatus document');
      const end = buffer.lastIndexOf(rootEnd);
      if (!emit(end >= 0 ? buffer.slice(0, end) : buffer)) throw new Error('the listing could not be read');
      return;
    }
    if (rootStart !== null && buffer.length >= slice) {
      const cut = buffer.lastIndexOf(responseEnd);
      // A run that does not parse (an end tag inside a lock owner's XML) waits for more text.
      if (cut > 0 && emit(buffer.slice(0, cut + responseEnd.length))) {
        buffer = buffer.slice(cut + responseEnd.length);
        slice = Math.min(slice * 2, LARGEST_SLICE);
        await nextTask();
      } else {
        slice = buffer.length + FIRST_SLICE;
      }
    }
  }
}
