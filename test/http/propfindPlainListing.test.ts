/**
 * The plain-listing fast path of PROPFIND (src/methods/support/plainListing.ts) writes, for each
 * member, exactly the text the general path writes. The target's own response always takes the
 * general path, so a Depth 0 PROPFIND of a member is the reference for that member's response in
 * the Depth 1 listing of its parent.
 */
import { join } from 'node:path';
import { mkdir, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { startTestServer, type TestServer } from '../support/testServer';
import { renderedMembersOf } from '../../src/methods/support/renderedMembers';
import * as propertyValues from '../../src/methods/support/propertyValues';

const XML = { 'Content-Type': 'application/xml; charset=utf-8' };

function propfindBody(names: string[], extra = ''): string {
  return `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"${extra}><D:prop>${names.map((n) => `<${n}/>`).join('')}</D:prop></D:propfind>`;
}

const ALLPROP_BODY = '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>';

/** `text` with each lock's remaining time read out. */
const withoutTimeLeft = (text: string) => text.replace(/<D:timeout>Second-\d+<\/D:timeout>/g, '<D:timeout>Second-N</D:timeout>');

/** The <D:response> elements of a multistatus, as text. */
function responses(body: string): string[] {
  return body.match(/<D:response[ >].*?<\/D:response>/gs) ?? [];
}

describe('PROPFIND plain listing', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer();
    expect((await t.request('MKCOL', '/dir/')).status).toBe(201);
    expect((await t.request('MKCOL', '/dir/sub/')).status).toBe(201);
    expect((await t.request('PUT', '/dir/f.txt', { body: 'hello' })).status).toBe(201);
    expect((await t.request('PUT', encodeURI('/dir/a & <b> é.html'), { body: '<p/>' })).status).toBe(201);
    expect((await t.request('PUT', '/dir/empty.bin', { body: '' })).status).toBe(201);
  });
  afterAll(() => t.close());

  const APACHE = ' xmlns:A="http://apache.org/dav/props/"';
  const APPLE = ' xmlns:F="http://www.apple.com/webdav_fs/props/"';
  // Every row has its three values: jest passes a test callback more parameters than the row has as `done`.
  const cases: Array<[string, string[], string]> = [
    ['the listing properties clients ask for', ['D:getcontentlength', 'D:getlastmodified', 'D:resourcetype', 'D:getetag'], ''],
    ['every plain property', ['D:displayname', 'D:getcontenttype', 'D:creationdate', 'D:resourcetype', 'D:getcontentlength', 'D:getetag', 'D:getlastmodified'], ''],
    ['only properties a collection lacks', ['D:getcontentlength', 'D:getetag'], ''],
    // Names with no live property: always in the 404 propstat, their namespaces declared on the response.
    ["davfs2's listing", ['D:getetag', 'D:getcontentlength', 'D:creationdate', 'D:getlastmodified', 'D:resourcetype', 'A:executable'], APACHE],
    ["Finder's listing", ['D:getlastmodified', 'D:getcontentlength', 'D:resourcetype', 'F:appledoubleheader'], APPLE],
    [
      'unknown names in two namespaces, in DAV:, in none, and one namespace twice',
      ['F:appledoubleheader', 'D:getcontentlength', 'A:executable', 'D:no-such-property', 'plain', 'F:other'],
      `${APPLE}${APACHE} xmlns=""`,
    ],
  ];
  /**
   * Lists `dir` (Depth 1) and checks each member against its own Depth 0 answer; returns the
   * members' responses. `names` 'no body' sends none (allprop, as Windows Explorer lists),
   * 'allprop' an allprop body. A lock's remaining timeout is read out as `Second-N` (it may tick
   * between the two requests).
   */
  async function expectMembersAsOwnAnswers(dir: string, names: string[] | 'no body' | 'allprop', count: number, extra = ''): Promise<string[]> {
    const ask = (path: string, depth: string) =>
      t.request('PROPFIND', path, {
        headers: { ...XML, Depth: depth },
        ...(names === 'no body' ? {} : { body: names === 'allprop' ? ALLPROP_BODY : propfindBody(names, extra) }),
      });
    const listing = await ask(dir, '1');
    expect(listing.status).toBe(207);
    const members = responses(listing.text).slice(1);
    expect(members).toHaveLength(count);
    for (const member of members) {
      const href = /<D:href>(.*?)<\/D:href>/.exec(member)![1].replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
      const own = await ask(href, '0');
      expect(own.status).toBe(207);
      expect(responses(own.text).map(withoutTimeLeft)).toEqual([withoutTimeLeft(member)]);
    }
    return members;
  }

  test.each(cases)('%s: each member reads as its own Depth 0 answer', async (_, names, extra) => {
    await expectMembersAsOwnAnswers('/dir/', names, 4, extra);
    // Listed again, from the renderings kept (renderedMembers.ts): the same answers.
    await expectMembersAsOwnAnswers('/dir/', names, 4, extra);
  });

  test.each<['no body' | 'allprop']>([['no body'], ['allprop']])('allprop (%s): each member reads as its own Depth 0 answer, kept or not', async (names) => {
    await expectMembersAsOwnAnswers('/dir/', names, 4);
    await expectMembersAsOwnAnswers('/dir/', names, 4);
  });

  test('lockdiscovery and supportedlock named: each member reads as its own Depth 0 answer', async () => {
    const names = ['D:lockdiscovery', 'D:getetag', 'D:supportedlock', 'D:resourcetype'];
    await expectMembersAsOwnAnswers('/dir/', names, 4);
    await expectMembersAsOwnAnswers('/dir/', names, 4);
  });

  test('allprop takes the fast path for members no lock covers; a member locked, then unlocked, is listed as it is each time', async () => {
    const rendered = renderedMembersOf(t.server.services);
    expect((await t.request('MKCOL', '/locking/')).status).toBe(201);
    for (const name of ['a.txt', 'b.txt', 'c.txt']) expect((await t.request('PUT', `/locking/${name}`, { body: name })).status).toBe(201);
    const before = rendered.usage.members;
    const plain = await expectMembersAsOwnAnswers('/locking/', 'no body', 3);
    expect(rendered.usage.members).toBe(before + 3);
    expect(plain.join('')).toContain('<D:lockdiscovery/>');

    const lockBody = '<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>tester</D:owner></D:lockinfo>';
    const lock = await t.request('LOCK', '/locking/b.txt', { headers: { ...XML, Timeout: 'Second-600' }, body: lockBody });
    expect(lock.status).toBe(200);
    const token = lock.headers['lock-token'] as string;
    const locked = await expectMembersAsOwnAnswers('/locking/', 'no body', 3);
    const lockedB = locked.find((m) => m.includes('/locking/b.txt'))!;
    expect(lockedB).toMatch(new RegExp(`<D:locktoken><D:href>${token.slice(1, -1)}</D:href>\\s*</D:locktoken>`));
    expect(locked.filter((m) => m !== lockedB)).toEqual(plain.filter((m) => !m.includes('/locking/b.txt')));

    // A depth-infinity lock on the folder covers every member.
    expect((await t.request('UNLOCK', '/locking/b.txt', { headers: { 'Lock-Token': token } })).status).toBe(204);
    const folderLock = await t.request('LOCK', '/locking/', { headers: { ...XML, Timeout: 'Second-600', Depth: 'infinity' }, body: lockBody });
    expect(folderLock.status).toBe(200);
    const covered = await expectMembersAsOwnAnswers('/locking/', 'no body', 3);
    for (const member of covered) expect(member).toContain('<D:lockroot><D:href>/locking/</D:href></D:lockroot>');

    // Unlocked: the renderings kept before the locks are what the members are again.
    expect((await t.request('UNLOCK', '/locking/', { headers: { 'Lock-Token': folderLock.headers['lock-token'] as string } })).status).toBe(204);
    expect(await expectMembersAsOwnAnswers('/locking/', 'no body', 3)).toEqual(plain);
  });

  test('names with no live property take the fast path: its renderings are kept', async () => {
    const rendered = renderedMembersOf(t.server.services);
    expect((await t.request('MKCOL', '/mounted/')).status).toBe(201);
    for (const name of ['a.txt', 'b.txt', 'c.txt']) expect((await t.request('PUT', `/mounted/${name}`, { body: name })).status).toBe(201);
    const before = rendered.usage.members;
    const [, names, extra] = cases[3];
    await expectMembersAsOwnAnswers('/mounted/', names, 3, extra);
    expect(rendered.usage.members).toBe(before + 3);
    // Quota is not plain (it needs the volume's usage): those members go the general way, and nothing is kept for them.
    expect((await t.request('MKCOL', '/mounted2/')).status).toBe(201);
    expect((await t.request('PUT', '/mounted2/d.txt', { body: 'd' })).status).toBe(201);
    const general = rendered.usage.members;
    await expectMembersAsOwnAnswers('/mounted2/', [...names, 'D:quota-used-bytes'], 1, extra);
    expect(rendered.usage.members).toBe(general);
  });

  test("rclone's listing (vendor owncloud: oc:checksums, oc:permissions) and checksums beside a name in another namespace read as their own Depth 0 answers, by the fast path", async () => {
    expect((await t.request('MKCOL', '/synced/')).status).toBe(201);
    expect((await t.request('MKCOL', '/synced/folder/')).status).toBe(201);
    for (const name of ['a.txt', 'b.bin']) expect((await t.request('PUT', `/synced/${name}`, { body: `content of ${name}` })).status).toBe(201);
    await writeFile(join(t.root, 'synced', 'behind-its-back.txt'), 'no record, no checksums');
    const OC = ' xmlns:oc="http://owncloud.org/ns"';
    const rclone = ['D:displayname', 'D:getlastmodified', 'D:getcontentlength', 'D:resourcetype', 'oc:checksums', 'oc:permissions'];
    const general = jest.spyOn(propertyValues, 'collectProperties');
    const rendered = renderedMembersOf(t.server.services);
    const keptBefore = rendered.usage.members;
    const members = await expectMembersAsOwnAnswers('/synced/', rclone, 4, OC);
    // One general collection per Depth 0 answer, one for the listed folder: none for its members.
    expect(general).toHaveBeenCalledTimes(5);
    general.mockRestore();
    // Kept, and the same when listed again from what was kept.
    expect(rendered.usage.members).toBe(keptBefore + 4);
    expect(await expectMembersAsOwnAnswers('/synced/', rclone, 4, OC)).toEqual(members);
    const a = members.find((m) => m.includes('/synced/a.txt'))!;
    expect(a).toMatch(/<ns1:checksums><ns1:checksum>SHA1:[0-9a-f]{40} MD5:[0-9a-f]{32}<\/ns1:checksum><\/ns1:checksums>/);
    expect(members.find((m) => m.includes('behind-its-back'))).toContain('<ns1:checksums/>');
    // Found for a file, missing for the folder: the other namespace's prefix is ns2 in one and ns1 in the other.
    const mixed = await expectMembersAsOwnAnswers('/synced/', ['A:executable', 'oc:checksums', 'D:getetag'], 4, `${OC} xmlns:A="http://apache.org/dav/props/"`);
    expect(mixed.find((m) => m.includes('/synced/a.txt'))).toContain('<ns2:executable/>');
    expect(mixed.find((m) => m.includes('/synced/folder/'))).toContain('<ns1:executable/><ns2:checksums/>');
  });

  test('a member changed through the server or behind its back is listed as it is now, not as it was rendered', async () => {
    const names = cases[1][1];
    expect((await t.request('MKCOL', '/changing/')).status).toBe(201);
    for (const name of ['put.txt', 'swapped.txt', 'touched.txt', 'now-a-folder']) {
      expect((await t.request('PUT', `/changing/${name}`, { body: 'same length' })).status).toBe(201);
    }
    const before = await expectMembersAsOwnAnswers('/changing/', names, 4);
    const host = (name: string) => join(t.root, 'changing', name);
    const { mtime } = await stat(host('swapped.txt'));

    // Through the server: new content of the same length (a new recorded ETag).
    expect((await t.request('PUT', '/changing/put.txt', { body: 'SAME LENGTH' })).status).toBe(204);
    // Behind its back: another file of the same length and mtime renamed over it (only the inode differs),
    await writeFile(host('swapped.txt.new'), 'other bytes');
    await utimes(host('swapped.txt.new'), mtime, mtime);
    await rename(host('swapped.txt.new'), host('swapped.txt'));
    // one rewritten in place with a later mtime, and one replaced by a folder.
    await writeFile(host('touched.txt'), 'fresh bytes');
    await utimes(host('touched.txt'), mtime, new Date(mtime.getTime() + 5000));
    await unlink(host('now-a-folder'));
    await mkdir(host('now-a-folder'));

    const after = await expectMembersAsOwnAnswers('/changing/', names, 4);
    for (let i = 0; i < 4; i++) expect(after[i]).not.toEqual(before[i]);
    expect(after.find((m) => m.includes('now-a-folder'))).toContain('<D:collection/>');
  });

  test('a folder too large to keep keeps its first members, and pushes out no other folder', async () => {
    const rendered = renderedMembersOf(t.server.services);
    const names = cases[0][1];
    await mkdir(join(t.root, 'large'));
    // More members than one listing's share holds (about 11,000 of these).
    for (let i = 0; i < 15000; i++) await writeFile(join(t.root, 'large', `member-${String(i).padStart(5, '0')}.txt`), 'x');
    // Listed after the files were made: what is kept goes once no listing came for FORGET_AFTER_MS.
    await expectMembersAsOwnAnswers('/dir/', names, 4);
    const small = rendered.usage;
    const list = async () => {
      const res = await t.request('PROPFIND', '/large/', { headers: { ...XML, Depth: '1' }, body: propfindBody(names) });
      expect(res.status).toBe(207);
      expect(responses(res.text)).toHaveLength(15001);
      return res.text;
    };
    const first = await list();
    const kept = rendered.usage;
    expect(kept.members).toBeGreaterThan(small.members + 1000);
    expect(kept.members).toBeLessThan(small.members + 15000);
    expect(kept.bytes - small.bytes).toBeLessThanOrEqual(rendered.listingShare + 1000);
    // Listed again: the members kept are found, none added, and the small folder's stay.
    expect(await list()).toBe(first);
    expect(rendered.usage).toEqual(kept);
    await expectMembersAsOwnAnswers('/dir/', names, 4);
    expect(rendered.usage).toEqual(kept);
  });

  test("members with dead properties (Windows Explorer's Win32 ones, a displayname set) read as their own Depth 0 answers, and are not kept", async () => {
    const rendered = renderedMembersOf(t.server.services);
    expect((await t.request('MKCOL', '/explorer/')).status).toBe(201);
    for (const name of ['a.docx', 'b.txt', 'c.txt']) expect((await t.request('PUT', `/explorer/${name}`, { body: name })).status).toBe(201);
    const win32 =
      '<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop>' +
      '<Z:Win32CreationTime>Sun, 06 Dec 2026 10:00:00 GMT</Z:Win32CreationTime><Z:Win32FileAttributes>00000020</Z:Win32FileAttributes>' +
      '</D:prop></D:set></D:propertyupdate>';
    for (const name of ['a.docx', 'b.txt']) expect((await t.request('PROPPATCH', `/explorer/${name}`, { headers: XML, body: win32 })).status).toBe(207);
    const shown = '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:A="http://apache.org/dav/props/"><D:set><D:prop><D:displayname>Shown &amp; told</D:displayname><A:executable>T</A:executable></D:prop></D:set></D:propertyupdate>';
    expect((await t.request('PROPPATCH', '/explorer/b.txt', { headers: XML, body: shown })).status).toBe(207);
    const before = rendered.usage.members;
    // The members take the fast path: the general one collects the properties of the folder alone.
    const general = jest.spyOn(propertyValues, 'collectProperties');
    const listing = await t.request('PROPFIND', '/explorer/', { headers: { Depth: '1' } });
    expect(listing.status).toBe(207);
    expect(general).toHaveBeenCalledTimes(1);
    general.mockRestore();
    const all = await expectMembersAsOwnAnswers('/explorer/', 'no body', 3);
    expect(all.find((m) => m.includes('a.docx'))).toContain('Win32FileAttributes');
    expect(all.find((m) => m.includes('b.txt'))).toContain('Shown &amp; told');
    // Names in three namespaces, one of them found as a dead property (the prefixes of the rest move).
    const names = ['D:displayname', 'A:executable', 'F:appledoubleheader', 'Z:Win32FileAttributes', 'D:getcontentlength'];
    const extra = ` xmlns:A="http://apache.org/dav/props/" xmlns:F="http://www.apple.com/webdav_fs/props/" xmlns:Z="urn:schemas-microsoft-com:"`;
    const named = await expectMembersAsOwnAnswers('/explorer/', names, 3, extra);
    expect(named.find((m) => m.includes('b.txt'))).toContain('>T</ns1:executable>');
    expect(named.find((m) => m.includes('c.txt'))).toContain('<ns1:executable/>');
    // Only c.txt (no dead property) is kept, once per request.
    expect(rendered.usage.members).toBe(before + 1);
    // A property set after a listing shows in the next one.
    expect((await t.request('PROPPATCH', '/explorer/c.txt', { headers: XML, body: win32 })).status).toBe(207);
    const again = await expectMembersAsOwnAnswers('/explorer/', 'no body', 3);
    expect(again.find((m) => m.includes('c.txt'))).toContain('Win32FileAttributes');
  });

  test('a member with a dead property, and a request for lockdiscovery, are answered in full', async () => {
    const set = '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Shown name</D:displayname></D:prop></D:set></D:propertyupdate>';
    expect((await t.request('PROPPATCH', '/dir/f.txt', { headers: XML, body: set })).status).toBe(207);
    const listing = await t.request('PROPFIND', '/dir/', { headers: { ...XML, Depth: '1' }, body: propfindBody(['D:displayname', 'D:getcontentlength']) });
    expect(listing.text).toMatch(/<D:displayname[^>]*>Shown name<\/D:displayname>/);
    expect(listing.text).toContain('<D:displayname>empty.bin</D:displayname>');
    const locks = await t.request('PROPFIND', '/dir/', { headers: { ...XML, Depth: '1' }, body: propfindBody(['D:lockdiscovery']) });
    expect(responses(locks.text)).toHaveLength(5);
    expect(locks.text).toContain('<D:lockdiscovery/>');
  });
});
