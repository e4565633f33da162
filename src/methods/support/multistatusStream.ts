/**
 * A PROPFIND multistatus (RFC 4918 §9.1, §14.16) written as it is computed, so a collection of
 * 100,000 members never sits in memory as one document and no other client waits for it: the
 * directory is read a batch at a time (opendir), each batch's dead properties and ETags come from
 * one state-store lookup, every member is rendered straight into the body (or its rendering from an
 * earlier listing reused while nothing it shows changed, renderedMembers.ts), each batch goes out
 * as one buffer, and the event loop gets a turn between batches. Backpressure comes from the
 * response: a batch is read only when the previous one was taken.
 *
 * What fails before the first byte (the target, its preconditions, opening its listing) is thrown
 * as usual and answered as an error; after the first byte, a member whose properties cannot be
 * computed gets a 500 propstat (§9.1: a response per member with its own status) and the document
 * is still completed, while a listing that cannot be read further cuts the answer (never a
 * well-formed document that leaves members out).
 */
import type { Readable } from 'node:stream';
import { listingBody } from './listingBody';
import { setImmediate as turnOfEventLoop } from 'node:timers/promises';
import type { DavRequest, Services } from '../context';
import type { Resource } from './resource';
import type { PropfindRequest } from '../../xml/requests';
import type { PropertyContext } from '../../props/liveProperties';
import type { DeadProperty } from '../../props/deadPropertyStore';
import type { ActiveLock } from '../../locks/activeLock';
import { formatChecksums } from '../../headers/ocChecksum';
import type { MemberBatches } from '../../storage/listCollection';
import type { DavPath } from '../../paths/davPath';
import { collectProperties, propResponse, propstat } from './propertyValues';
import { StreamedXmlDocument, el } from '../../xml/build';
import { DAV_NS } from '../../xml/tree';
import { plainListingRenderer } from './plainListing';
import { recordedEtagsIn } from '../../versions/versionStore';
import { renderedMembersOf, bytesOf, keptBytesOf, textOf, type MemberText } from './renderedMembers';
import { derivedTag, type ResourceStat } from '../../storage/resourceStat';

const NO_DEAD_PROPERTIES: readonly DeadProperty[] = [];
const NO_LOCKS: readonly ActiveLock[] = [];

/** Members per batch: one directory read, one state-store lookup, then a turn for everyone else. */
export const LISTING_BATCH = 256;

export interface MultistatusPlan {
  target: Resource;
  /** How deep below the target to go: 0, 1 or Infinity. */
  depth: number;
  request: PropfindRequest;
  usage: PropertyContext['usage'];
}

/**
 * Renders the target's own response and opens its listing now (so their errors are ordinary
 * error answers), and returns the body that streams the rest.
 */
export async function streamMultistatus(req: DavRequest, services: Services, plan: MultistatusPlan, log: (line: string) => void = () => undefined): Promise<Readable> {
  const doc = new StreamedXmlDocument({ ns: DAV_NS, local: 'multistatus' });
  const { target, request, usage } = plan;
  const first = doc.open() + doc.fragment(propResponse(target.href, await collectProperties(services, target, request, usage)));
  const listing = plan.depth > 0 && target.stat!.isCollection ? await services.store.listInBatches(target.path, LISTING_BATCH) : null;

  const failedMember = (href: string): string => doc.fragment(el(DAV_NS, 'response', el(DAV_NS, 'href', href), propstat([], 500)));
  const plain = plainListingRenderer(request, await services.state.now());
  const rendered = renderedMembersOf(services);
  rendered.listingStarts();
  let keptBytes = 0;
  /**
   * A member's plain rendering, kept (renderedMembers.ts) or made now, without a promise per
   * member; null when it needs the general path (renderMember).
   */
  const plainText = (stat: ResourceStat, recordedEtag: string | null, dead: readonly DeadProperty[], locks: readonly ActiveLock[], checksumsOf: (stat: ResourceStat) => string | null): MemberText | null => {
    // A rendering kept from a time no lock covered the member is never used while one does.
    if (plain === null || locks.length !== 0) return null;
    // Only members without dead properties are kept: a PROPPATCH changes none of what a kept one is checked by.
    const keep = dead.length === 0;
    const checksums = plain.needsChecksums ? checksumsOf(stat) : null;
    const earlier = keep ? rendered.get(request, stat, recordedEtag, checksums) : undefined;
    if (earlier !== undefined) {
      keptBytes += earlier.cost;
      return earlier;
    }
    const member = memberOf(stat, recordedEtag);
    let text: string | null;
    try {
      text = plain.render(member, dead, checksums);
    } catch (err) {
      log(`PROPFIND ${member.href}: ${(err as Error).message}`);
      return textOf(failedMember(member.href));
    }
    if (text === null) return null;
    if (!keep || keptBytes >= rendered.listingShare) return textOf(text);
    const kept = rendered.remember(request, stat, recordedEtag, text, checksums);
    keptBytes += kept.cost;
    return kept;
  };
  const memberOf = (stat: ResourceStat, recordedEtag: string | null): Resource => ({
    path: stat.path,
    stat,
    etag: stat.isCollection ? null : (recordedEtag ?? derivedTag(stat)),
    href: req.hrefOf(stat.path, stat.isCollection),
  });
  const renderMember = async (member: Resource, dead: readonly DeadProperty[]): Promise<string> => {
    try {
      return doc.fragment(propResponse(member.href, await collectProperties(services, member, request, usage, dead)));
    } catch (err) {
      log(`PROPFIND ${member.href}: ${(err as Error).message}`);
      return failedMember(member.href);
    }
  };
  /**
   * A batch's dead properties and version records, in one lookup (the recorded ETags, and the
   * files' checksums when the plain renderer needs them), and the locks covering each member when it
   * needs those (one more); null when the state store fails (each member then answers 500).
   */
  const batchLookups = async (paths: DavPath[]) => {
    try {
      const records = await services.state.recordsOfMembers(paths);
      const locks = plain?.needsLocks ? await services.locks.coveringEach(paths) : null;
      const digestsOf = plain?.needsChecksums ? services.versions.digestsIn(records.versions) : null;
      return {
        deadOf: records.dead,
        recordedEtagOf: recordedEtagsIn(records.versions),
        locksOf: (i: number) => locks?.[i] ?? NO_LOCKS,
        /** A file's oc:checksums text when the request names it (the general path looks up its own). */
        checksumsOf: (stat: ResourceStat): string | null => {
          const digests = digestsOf === null || stat.isCollection ? null : digestsOf(stat.path, stat);
          return digests === null ? null : formatChecksums(digests);
        },
      };
    } catch (err) {
      log(`PROPFIND: looking up ${paths.length} members failed: ${(err as Error).message}`);
      return null;
    }
  };

  async function* members(batches: MemberBatches, below: number): AsyncGenerator<Buffer> {
    try {
      for (;;) {
        let batch;
        try {
          batch = await batches.next();
        } catch (err) {
          // A multistatus has no way to say "and more that could not be read": a document ended
          // here would tell a sync client the rest is gone. The answer is cut instead, which every
          // client sees as a failed transfer.
          log(`PROPFIND listing failed midway, the answer is cut: ${(err as Error).message}`);
          throw err;
        }
        if (batch === null) return;
        batch = batch.filter((m) => services.access.mayRead(req.user, m.path)); // what the user may not read is not listed
        const lookups = await batchLookups(batch.map((m) => m.path));
        let texts: MemberText[] = [];
        let whole = true;
        for (let i = 0; i < batch.length; i++) {
          const stat = batch[i];
          if (lookups === null) {
            texts.push(textOf(failedMember(req.hrefOf(stat.path, stat.isCollection))));
            continue;
          }
          const recordedEtag = stat.isCollection ? null : lookups.recordedEtagOf(stat.path, stat);
          const dead = lookups.deadOf.get(stat.path) ?? NO_DEAD_PROPERTIES;
          texts.push(plainText(stat, recordedEtag, dead, lookups.locksOf(i), lookups.checksumsOf) ?? textOf(await renderMember(memberOf(stat, recordedEtag), dead)));
          if (below > 0 && stat.isCollection) {
            yield bytesOf(texts);
            texts = [];
            whole = false;
            const inner = await services.store.listInBatches(stat.path, LISTING_BATCH).catch(() => null); // vanished meanwhile: nothing below
            if (inner) yield* members(inner, below - 1);
          }
        }
        if (texts.length !== 0) yield whole ? keptBytesOf(texts) : bytesOf(texts);
        await turnOfEventLoop();
      }
    } finally {
      await batches.close();
    }
  }

  async function* body(): AsyncGenerator<string | Buffer> {
    yield first;
    if (listing) yield* members(listing, plan.depth - 1);
    yield doc.close();
  }

  return listingBody(body(), listing, 64 * 1024);
}
