/** RenderedMembers: a member's plain-listing text, reused only while everything it shows is unchanged. */
import { RenderedMembers, bytesOf, keptBytesOf, textOf, BUDGET_BYTES, FORGET_AFTER_MS } from '../../../src/methods/support/renderedMembers';
import type { PropfindRequest } from '../../../src/xml/requests';
import type { ResourceStat } from '../../../src/storage/resourceStat';
import type { DavPath } from '../../../src/paths/davPath';

const request: PropfindRequest = Object.freeze({ kind: 'prop', names: [{ ns: 'DAV:', local: 'getetag' }] });
const stat = (path: string, changes: Partial<ResourceStat> = {}): ResourceStat => ({
  path: path as DavPath,
  isCollection: false,
  size: 5,
  mtimeMs: 1_700_000_000_123.5,
  ctimeMs: 1_700_000_000_456.25,
  birthtimeMs: 1_700_000_000_000,
  ino: 42,
  dev: 7,
  ...changes,
});

test('answers the text kept for the same request, stat fields and recorded ETag', () => {
  const rendered = new RenderedMembers();
  expect(rendered.get(request, stat('/a'), null)).toBeUndefined();
  const kept = rendered.remember(request, stat('/a'), null, '<D:response>a</D:response>');
  expect(kept).toMatchObject({ text: '<D:response>a</D:response>', byteLength: 26 });
  expect(rendered.get(request, stat('/a'), null)).toMatchObject({ text: '<D:response>a</D:response>', byteLength: 26 });
  // The device is not shown (nor in the derived ETag): a change of it alone does not matter.
  expect(rendered.get(request, stat('/a', { dev: 8 }), null)?.text).toBe('<D:response>a</D:response>');
});

test.each<[string, Partial<ResourceStat>]>([
  ['size', { size: 6 }],
  ['modification time', { mtimeMs: 1_700_000_000_124.5 }],
  ['change time', { ctimeMs: 1_700_000_001_456.25 }],
  ['creation time', { birthtimeMs: 1 }],
  ['inode (another file put in its place)', { ino: 43 }],
  ['kind (a collection now)', { isCollection: true, size: 0 }],
])('a changed %s is a miss', (_, changes) => {
  const rendered = new RenderedMembers();
  rendered.remember(request, stat('/a'), null, 'text');
  expect(rendered.get(request, stat('/a', changes), null)).toBeUndefined();
});

test('other checksums (an MD5 recorded after the upload, a file that had none) are a miss', () => {
  const rendered = new RenderedMembers();
  rendered.remember(request, stat('/a'), '"e1"', 'text', 'SHA1:aa');
  expect(rendered.get(request, stat('/a'), '"e1"', 'SHA1:aa')?.text).toBe('text');
  expect(rendered.get(request, stat('/a'), '"e1"', 'SHA1:aa MD5:bb')).toBeUndefined();
  expect(rendered.get(request, stat('/a'), '"e1"')).toBeUndefined();
  rendered.remember(request, stat('/b'), '"e2"', 'text b');
  expect(rendered.get(request, stat('/b'), '"e2"', 'SHA1:cc')).toBeUndefined();
});

test('another request (even one asking the same), or another recorded ETag, is a miss', () => {
  const rendered = new RenderedMembers();
  rendered.remember(request, stat('/a'), '"e1"', 'text');
  expect(rendered.get({ kind: 'prop', names: [{ ns: 'DAV:', local: 'getetag' }] }, stat('/a'), '"e1"')).toBeUndefined();
  expect(rendered.get(request, stat('/a'), '"e2"')).toBeUndefined();
  expect(rendered.get(request, stat('/a'), null)).toBeUndefined();
  expect(rendered.get(request, stat('/a'), '"e1"')?.text).toBe('text');
});

test('one entry per path: a new rendering replaces the old one and its bytes', () => {
  const rendered = new RenderedMembers();
  rendered.remember(request, stat('/a'), null, 'old text');
  const once = rendered.usage;
  rendered.remember(request, stat('/a', { size: 9 }), null, 'new text');
  expect(rendered.usage).toEqual(once);
  expect(rendered.get(request, stat('/a'), null)).toBeUndefined();
  expect(rendered.get(request, stat('/a', { size: 9 }), null)?.text).toBe('new text');
});

test('stays within its budget: past it, the oldest go until three quarters are left', () => {
  const rendered = new RenderedMembers(10_000);
  expect(rendered.listingShare).toBe(5_000);
  expect(new RenderedMembers().listingShare).toBe(BUDGET_BYTES / 2);
  const text = 'x'.repeat(300);
  const cost = rendered.remember(request, stat('/f000'), null, text).cost;
  expect(cost).toBeGreaterThan(300);
  const fit = Math.floor(10_000 / cost);
  for (let i = 1; i < fit; i++) rendered.remember(request, stat(`/f${String(i).padStart(3, '0')}`), null, text);
  expect(rendered.usage).toEqual({ members: fit, bytes: fit * cost });
  rendered.remember(request, stat(`/f${String(fit).padStart(3, '0')}`), null, text);
  expect(rendered.usage.members).toBe(Math.floor(7_500 / cost));
  expect(rendered.get(request, stat('/f000'), null)).toBeUndefined();
  expect(rendered.get(request, stat(`/f${String(fit).padStart(3, '0')}`), null)?.text).toBe(text);
  for (let i = 0; i < 1_000; i++) rendered.remember(request, stat(`/g${i}`), null, text);
  expect(rendered.usage.bytes).toBeLessThanOrEqual(10_000);
  expect(rendered.get(request, stat('/g999'), null)?.text).toBe(text);
});

test('bytesOf writes the texts one after another in UTF-8', () => {
  const texts = [textOf('<a>é</a>'), textOf(''), textOf('<b>€ and 😀</b>')];
  expect(texts[0].byteLength).toBe(9);
  expect(bytesOf(texts).toString('utf8')).toBe('<a>é</a><b>€ and 😀</b>');
  expect(bytesOf([]).length).toBe(0);
});

describe('a batch\'s bytes (keptBytesOf)', () => {
  test('are the same buffer while the batch is written from the very same kept texts, and anew when one changed', () => {
    const rendered = new RenderedMembers();
    const texts = ['/a', '/b', '/c'].map((p) => rendered.remember(request, stat(p), null, `<r>${p} é</r>`));
    const first = keptBytesOf(texts);
    expect(first.toString()).toBe('<r>/a é</r><r>/b é</r><r>/c é</r>');
    expect(keptBytesOf([...texts])).toBe(first); // another array of the same texts: a listing read again
    const changed = [texts[0], rendered.remember(request, stat('/b', { size: 6 }), null, '<r>/b changed</r>'), texts[2]];
    const second = keptBytesOf(changed);
    expect(second).not.toBe(first);
    expect(second.toString()).toBe('<r>/a é</r><r>/b changed</r><r>/c é</r>');
    expect(keptBytesOf(changed)).toBe(second);
    // Fewer texts (a user who may not read one of them): its own bytes.
    expect(keptBytesOf([texts[0], texts[2]]).toString()).toBe('<r>/a é</r><r>/c é</r>');
  });

  test('are not kept when a text was not kept (a member rendered for this answer only)', () => {
    const rendered = new RenderedMembers();
    const texts = [rendered.remember(request, stat('/a'), null, '<r>a</r>'), textOf('<r>once</r>')];
    const first = keptBytesOf(texts);
    expect(first.toString()).toBe('<r>a</r><r>once</r>');
    expect(keptBytesOf(texts)).not.toBe(first);
    expect(keptBytesOf([])).toEqual(Buffer.alloc(0));
  });
});

test('lets everything go once no listing started for FORGET_AFTER_MS, and keeps it while listings come', () => {
  let now = 0;
  const rendered = new RenderedMembers(BUDGET_BYTES, FORGET_AFTER_MS, () => now);
  rendered.listingStarts();
  rendered.remember(request, stat('/a'), null, 'text');
  now = FORGET_AFTER_MS - 1;
  rendered.forgetIfUnused();
  expect(rendered.usage.members).toBe(1);
  rendered.listingStarts();
  now += FORGET_AFTER_MS - 1;
  rendered.forgetIfUnused();
  expect(rendered.get(request, stat('/a'), null)?.text).toBe('text');
  now += 1;
  rendered.forgetIfUnused();
  expect(rendered.usage).toEqual({ members: 0, bytes: 0 });
  expect(rendered.get(request, stat('/a'), null)).toBeUndefined();
});
