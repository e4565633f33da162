/**
 * The contract every StateStore implementation must pass (src/state/stateStore.ts). An
 * implementation's test file calls `describeStateStoreContract(name, open)`, where `open` gives a
 * fresh, empty store whose clock (`now()`) is driven by `clock` (advance it to expire locks).
 */
import type { StateStore, NewLock, RetentionRow, VersionRecord, ActiveLock, LockDepth, LockScope, PathClaim } from '../../src/state/stateStore';
import { OperationInProgressError } from '../../src/state/stateStore';
import type { TestClock } from '../support/testClock';
import { retryWhile } from '../support/retryWhile';

export interface ContractSubject {
  store: StateStore;
  clock: TestClock;
  close(): Promise<void>;
}

let tokenCounter = 0;
function newLock(text: string, timeoutSeconds = 600, extra: Partial<NewLock> = {}): NewLock {
  // 'x0:/a' = exclusive depth 0 on /a, 'si:/a' = shared depth infinity
  const match = /^([xs])([0i]):(\/.*)$/.exec(text);
  if (!match) throw new Error(`bad lock spec ${text}`);
  tokenCounter += 1;
  return {
    token: `urn:uuid:00000000-0000-4000-8000-${String(tokenCounter).padStart(12, '0')}`,
    root: match[3],
    scope: (match[1] === 'x' ? 'exclusive' : 'shared') as LockScope,
    depth: (match[2] === '0' ? '0' : 'infinity') as LockDepth,
    owner: null,
    timeoutSeconds,
    ...extra,
  };
}

function roots(locks: readonly ActiveLock[]): string[] {
  return locks.map((l) => l.root).sort();
}

function row(id: string, path: string, extra: Partial<RetentionRow> = {}): RetentionRow {
  return {
    id, path, retainedAtMs: 1000, size: 10, etag: `"${id}"`, mtimeMs: 500, reason: 'overwrite', storage: `st/${id}`,
    pendingReason: null, sourceIno: null, pendingKind: null, intentId: null, properties: null, ...extra,
  };
}

function record(etag: string, ino = 1): VersionRecord {
  return { etag, ino, size: 3, mtimeMs: 1234.5, sha1: null, md5: null };
}

/** Paths that a bytewise subtree of /a must not include. */
const NEIGHBOURS = ['/A/x', '/\u00e1/y', '/ab', '/a0', '/a.b'];

/** Holds `claims` (with `operation`: as a running operation) until `end()`; resolves once they are held. */
async function holdClaims(store: StateStore, claims: PathClaim[], operation?: { id: string; method: string; path: string }): Promise<{ end(): Promise<void> }> {
  let finish!: () => void;
  let held!: () => void;
  const isHeld = new Promise<void>((resolve) => { held = resolve; });
  const running = store.claims.run(claims, () => new Promise<void>((resolve) => { finish = resolve; held(); }), operation);
  await isHeld;
  return {
    async end() {
      finish();
      await running;
    },
  };
}

export function describeStateStoreContract(name: string, open: () => Promise<ContractSubject>): void {
  describe(`StateStore contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: StateStore;
    beforeEach(async () => {
      subject = await open();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.close();
    });
    const deadOf = async (paths: string[]) => (await store.recordsOfMembers(paths)).dead;
    const versionsOf = async (paths: string[]) => (await store.recordsOfMembers(paths)).versions;

    describe('locks', () => {
      const conflicts: Array<[string, string[], string, string | null]> = [
        ['exclusive vs exclusive, same resource', ['x0:/a'], 'x0:/a', '/a'],
        ['exclusive blocks a shared request', ['x0:/a'], 's0:/a', '/a'],
        ['shared blocks an exclusive request', ['s0:/a'], 'x0:/a', '/a'],
        ['shared locks coexist', ['s0:/a', 'si:/a'], 'si:/a', null],
        ['depth 0 does not cover a member', ['x0:/a'], 'x0:/a/b', null],
        ['depth-infinity ancestor covers a member', ['xi:/a'], 's0:/a/b/c', '/a'],
        ['new depth infinity meets a lock below', ['x0:/a/b'], 'xi:/', '/a/b'],
        ['new depth 0 ignores locks below', ['x0:/a/b'], 'x0:/', null],
        ['a name prefix is not an ancestor (below)', ['x0:/ab'], 'xi:/a', null],
        ['a name prefix is not an ancestor (above)', ['xi:/a'], 'x0:/ab', null],
        ['case and accents differ bytewise', ['xi:/A', 'xi:/\u00e1'], 'xi:/a', null],
        ['root infinity covers everything', ['xi:/'], 's0:/z/y', '/'],
      ];
      /**
       * insertUnlessClaimedOrConflicting once a claim that was in the way has ended: a store may give
       * a claim up a moment after run() resolved (PostgreSQL does not wait for the unlock to land).
       */
      const onceClaimEnds = (lock: NewLock, claims: Array<{ path: string; tree: boolean }>) =>
        retryWhile(() => store.locks.insertUnlessClaimedOrConflicting(lock, claims), (outcome) => 'claimed' in outcome, 5_000, 10);

      test('insertUnlessClaimedOrConflicting: nothing stored while a write claim meeting it is held; granted beside it and after it', async () => {
        const held = await holdClaims(store, [{ path: '/a/b', tree: false }]);
        const claim = (path: string, tree = false) => [{ path, tree }];
        // Meeting it: the same path; a tree holding it.
        expect(await store.locks.insertUnlessClaimedOrConflicting(newLock('x0:/a/b'), claim('/a/b'))).toEqual({ claimed: true });
        expect(await store.locks.insertUnlessClaimedOrConflicting(newLock('xi:/a'), claim('/a', true))).toEqual({ claimed: true });
        expect(await store.locks.insertUnlessClaimedOrConflicting(newLock('xi:/'), claim('/', true))).toEqual({ claimed: true });
        expect(await store.locks.within('/')).toEqual([]);
        // Beside it: a sibling, a name it is a prefix of.
        for (const text of ['x0:/a/c', 'x0:/a/bc']) {
          const path = text.slice(3);
          expect((await store.locks.insertUnlessClaimedOrConflicting(newLock(text), claim(path))).granted?.root).toBe(path);
        }
        await held.end();
        const granted = (await onceClaimEnds(newLock('x0:/a/b'), claim('/a/b'))).granted!;
        expect(await store.locks.byToken(granted.token)).toEqual(granted);
        // A conflicting lock is answered as insertUnlessConflicting answers it.
        const conflict = await store.locks.insertUnlessClaimedOrConflicting(newLock('s0:/a/b'), claim('/a/b'));
        expect(conflict.conflict?.token).toBe(granted.token);
        expect(roots(await store.locks.within('/'))).toEqual(['/a/b', '/a/bc', '/a/c']);
      });

      test('insertUnlessClaimedOrConflicting: nothing stored over a running operation', async () => {
        const operation = await holdClaims(store, [{ path: '/t', tree: true }], { id: 'op1', method: 'MOVE', path: '/t' });
        expect(await store.locks.insertUnlessClaimedOrConflicting(newLock('x0:/t/x'), [{ path: '/t/x', tree: false }])).toEqual({ claimed: true });
        await operation.end();
        expect((await onceClaimEnds(newLock('x0:/t/x'), [{ path: '/t/x', tree: false }])).granted).toBeDefined();
      });

      test.each(conflicts)('insertUnlessConflicting: %s', async (_name, existing, requested, conflictRoot) => {
        for (const text of existing) expect((await store.locks.insertUnlessConflicting(newLock(text))).granted).toBeDefined();
        const wanted = newLock(requested);
        const outcome = await store.locks.insertUnlessConflicting(wanted);
        if (conflictRoot === null) {
          expect(outcome.granted?.token).toBe(wanted.token);
          expect(outcome.conflict).toBeUndefined();
        } else {
          expect(outcome.granted).toBeUndefined();
          expect(outcome.conflict?.root).toBe(conflictRoot);
          expect(await store.locks.byToken(wanted.token)).toBeNull();
        }
        expect(await store.locks.within('/')).toHaveLength(existing.length + (conflictRoot === null ? 1 : 0));
      });

      test('a granted lock is stamped by the store clock and read back whole', async () => {
        const start = await store.now();
        const lock = newLock('xi:/a', 100, { owner: '<D:owner xmlns:D="DAV:">me</D:owner>', principal: 'alice' });
        const { granted } = await store.locks.insertUnlessConflicting(lock);
        expect(granted).toEqual({ ...lock, createdAtMs: start, expiresAtMs: start + 100_000 });
        expect(await store.locks.byToken(lock.token)).toEqual(granted);
        const anonymous = newLock('s0:/b', Infinity);
        const second = (await store.locks.insertUnlessConflicting(anonymous)).granted!;
        expect(second.expiresAtMs).toBe(Infinity);
        expect(second.timeoutSeconds).toBe(Infinity);
        expect(second.principal ?? null).toBeNull();
        expect(await store.locks.byToken('urn:uuid:unknown')).toBeNull();
      });

      test('covering is outermost first, within lists the subtree bytewise', async () => {
        for (const text of ['si:/a', 's0:/a/b/c', 's0:/a/b', 'x0:/ab', 'xi:/A/x', 'x0:/\u00e1/y', 'si:/d']) {
          await store.locks.insertUnlessConflicting(newLock(text));
        }
        expect((await store.locks.covering('/a/b')).map((l) => l.root)).toEqual(['/a', '/a/b']);
        expect((await store.locks.covering('/a/b/c/d')).map((l) => l.root)).toEqual(['/a']);
        expect(await store.locks.covering('/ab/c')).toEqual([]);
        // Several paths in one step: each answer is what covering() says for that path.
        const each = ['/a/b', '/a', '/a/b/c/d', '/ab/c', '/ab', '/A/x/y', '/\u00e1', '/\u00e1/y', '/'];
        const answers = await store.locks.coveringEach(each);
        expect(answers).toHaveLength(each.length);
        for (const [i, path] of each.entries()) expect(answers[i]).toEqual(await store.locks.covering(path));
        expect(answers.map((locks) => locks.length)).toEqual([2, 1, 1, 0, 1, 1, 0, 1, 0]);
        expect(await store.locks.coveringEach([])).toEqual([]);
        expect(roots(await store.locks.within('/a'))).toEqual(['/a', '/a/b', '/a/b/c']);
        expect((await store.locks.within('/a'))[0].root).toBe('/a');
        expect(await store.locks.within('/x')).toEqual([]);
        expect(await store.locks.within('/')).toHaveLength(7);
      });

      test('a depth-infinity lock on the root covers everything, once', async () => {
        const root = (await store.locks.insertUnlessConflicting(newLock('si:/'))).granted!;
        expect(await store.locks.covering('/')).toEqual([root]);
        expect(await store.locks.covering('/a/b')).toEqual([root]);
        expect(await store.locks.coveringEach(['/', '/a', '/a/b'])).toEqual([[root], [root], [root]]);
        expect(await store.locks.within('/')).toEqual([root]);
        expect((await store.locks.insertUnlessConflicting(newLock('x0:/a'))).conflict).toEqual(root);
        const below = (await store.locks.insertUnlessConflicting(newLock('s0:/a'))).granted!;
        expect(await store.locks.within('/')).toEqual([root, below]);
        expect((await store.locks.insertUnlessConflicting(newLock('xi:/'))).conflict).toEqual(root);
        expect(await store.locks.releaseOwned(root.token, '/a', root.principal ?? null)).toEqual(root);
        expect((await store.locks.insertUnlessConflicting(newLock('xi:/'))).conflict).toEqual(below);
      });

      test('expiry is judged by the store clock; refresh restarts the timeout', async () => {
        const short = (await store.locks.insertUnlessConflicting(newLock('x0:/a', 60))).granted!;
        const long = (await store.locks.insertUnlessConflicting(newLock('x0:/b', 600))).granted!;
        subject.clock.advance(59_000);
        const refreshed = await store.locks.refresh(short.token, 120);
        expect(refreshed).toMatchObject({ token: short.token, root: '/a', timeoutSeconds: 120, expiresAtMs: (await store.now()) + 120_000, createdAtMs: short.createdAtMs });
        subject.clock.advance(119_999);
        expect(await store.locks.byToken(short.token)).not.toBeNull();
        subject.clock.advance(1);
        expect(await store.locks.byToken(short.token)).toBeNull();
        expect(await store.locks.covering('/a')).toEqual([]);
        expect(await store.locks.refresh(short.token, 60)).toBeNull();
        expect(await store.locks.release(short.token)).toBeNull();
        // the expired lock no longer conflicts
        expect((await store.locks.insertUnlessConflicting(newLock('x0:/a'))).granted).toBeDefined();
        subject.clock.advance(600_000);
        expect(await store.locks.byToken(long.token)).toBeNull();
        expect(await store.locks.purgeExpired()).toBeGreaterThanOrEqual(0);
        expect(await store.locks.within('/')).toEqual([]);
      });

      test('purgeExpired removes exactly the expired locks', async () => {
        await store.locks.insertUnlessConflicting(newLock('x0:/a', 60));
        const keep = (await store.locks.insertUnlessConflicting(newLock('x0:/b', 600))).granted!;
        subject.clock.advance(60_000);
        await store.locks.purgeExpired();
        expect(await store.locks.within('/')).toEqual([keep]);
      });

      test('release removes one lock and returns it', async () => {
        const a = (await store.locks.insertUnlessConflicting(newLock('s0:/a'))).granted!;
        const b = (await store.locks.insertUnlessConflicting(newLock('s0:/a'))).granted!;
        expect(await store.locks.release(a.token)).toEqual(a);
        expect(await store.locks.release(a.token)).toBeNull();
        expect(await store.locks.covering('/a')).toEqual([b]);
      });

      test('releaseOwned removes only a lock that covers the path and was taken by that principal', async () => {
        const tree = (await store.locks.insertUnlessConflicting(newLock('xi:/a', 600, { principal: 'ann' }))).granted!;
        const plain = (await store.locks.insertUnlessConflicting(newLock('x0:/b'))).granted!;
        const short = (await store.locks.insertUnlessConflicting(newLock('x0:/c', 60))).granted!;
        expect(await store.locks.releaseOwned(tree.token, '/a/x/y', 'bob')).toBeNull(); // another user
        expect(await store.locks.releaseOwned(tree.token, '/a/x/y', null)).toBeNull(); // anonymous
        expect(await store.locks.releaseOwned(tree.token, '/ab', 'ann')).toBeNull(); // not covered (bytewise neighbour)
        expect(await store.locks.releaseOwned(plain.token, '/b/z', null)).toBeNull(); // depth 0 covers its root only
        expect(await store.locks.releaseOwned(plain.token, '/b', 'ann')).toBeNull(); // taken anonymously, named by a user
        expect(await store.locks.within('/')).toHaveLength(3);
        expect(await store.locks.releaseOwned(tree.token, '/a/x/y', 'ann')).toEqual(tree);
        expect(await store.locks.releaseOwned(plain.token, '/b', null)).toEqual(plain);
        expect(await store.locks.releaseOwned(plain.token, '/b', null)).toBeNull(); // gone
        subject.clock.advance(60_000);
        expect(await store.locks.releaseOwned(short.token, '/c', null)).toBeNull(); // expired
        expect(await store.locks.within('/')).toEqual([]);
      });

      test('removeWithin removes the subtree only, bytewise', async () => {
        for (const text of ['x0:/a', 'x0:/a/b', 'xi:/a/c/d', ...NEIGHBOURS.map((p) => `x0:${p}`)]) {
          await store.locks.insertUnlessConflicting(newLock(text));
        }
        expect(await store.locks.removeWithin('/a')).toBe(3);
        expect(roots(await store.locks.within('/'))).toEqual([...NEIGHBOURS].sort());
        expect(await store.locks.removeWithin('/nothing')).toBe(0);
      });

      test('of many concurrent exclusive requests exactly one is granted', async () => {
        for (const text of ['x0:/f', 'xi:/', 'xi:/d/e']) {
          const outcomes = await Promise.all(Array.from({ length: 40 }, () => store.locks.insertUnlessConflicting(newLock(text))));
          expect(outcomes.filter((o) => o.granted)).toHaveLength(1);
          expect(outcomes.filter((o) => o.conflict)).toHaveLength(39);
          await store.locks.removeWithin('/');
        }
        const mixed = await Promise.all(['xi:/m', 'x0:/m/n', 's0:/m', 'xi:/m/n/o'].flatMap((t) => [t, t, t]).map((t) => store.locks.insertUnlessConflicting(newLock(t))));
        const granted = mixed.filter((o) => o.granted).map((o) => o.granted!);
        // whatever won, no two granted locks conflict
        for (const a of granted) for (const b of granted) if (a !== b) expect(a.scope === 'shared' && b.scope === 'shared' || !overlapping(a, b)).toBe(true);
      });

      test('locks survive inside a committed transaction and vanish with a rolled-back one', async () => {
        const kept = newLock('x0:/t1');
        await store.transaction(async (tx) => {
          expect((await tx.locks.insertUnlessConflicting(kept)).granted).toBeDefined();
        });
        const lost = newLock('x0:/t2');
        await expect(store.transaction(async (tx) => {
          await tx.locks.insertUnlessConflicting(lost);
          await tx.locks.release(kept.token);
          throw new Error('boom');
        })).rejects.toThrow('boom');
        expect(await store.locks.byToken(lost.token)).toBeNull();
        expect(await store.locks.byToken(kept.token)).not.toBeNull();
        expect((await store.locks.insertUnlessConflicting(newLock('x0:/t2'))).granted).toBeDefined();
        expect((await store.locks.insertUnlessConflicting(newLock('x0:/t1'))).conflict?.token).toBe(kept.token);
      });
    });

    describe('dead properties', () => {
      const p = (local: string, value = local) => ({ ns: 'urn:x', local, xml: `<x:${local} xmlns:x="urn:x">${value}</x:${local}>` });

      test('apply sets and removes in order, list answers in order, [] when none', async () => {
        expect(await store.properties.list('/f')).toEqual([]);
        await store.properties.apply('/f', [{ op: 'set', property: p('a') }, { op: 'set', property: p('b') }, { op: 'remove', ns: 'urn:x', local: 'zz' }]);
        expect(await store.properties.list('/f')).toEqual([p('a'), p('b')]);
        await store.properties.apply('/f', [{ op: 'remove', ns: 'urn:x', local: 'a' }, { op: 'set', property: p('b', 'two') }]);
        expect(await store.properties.list('/f')).toEqual([p('b', 'two')]);
      });

      test('apply is all or nothing inside a failing transaction', async () => {
        await store.properties.apply('/f', [{ op: 'set', property: p('a') }]);
        await expect(store.transaction(async (tx) => {
          await tx.properties.apply('/f', [{ op: 'set', property: p('b') }, { op: 'remove', ns: 'urn:x', local: 'a' }]);
          throw new Error('refused');
        })).rejects.toThrow('refused');
        expect(await store.properties.list('/f')).toEqual([p('a')]);
      });

      test('recordsOfMembers answers a batch\'s dead properties; paths without properties are absent', async () => {
        await store.properties.apply('/a', [{ op: 'set', property: p('x') }]);
        await store.properties.apply('/b', [{ op: 'set', property: p('y') }, { op: 'set', property: p('z') }]);
        const many = await deadOf(['/a', '/b', '/c']);
        expect(many.get('/a')).toEqual([p('x')]);
        expect(many.get('/b')).toEqual([p('y'), p('z')]);
        expect(many.has('/c')).toBe(false);
      });

      test('recordsOfMembers finds dead properties of members of one collection, in other branches, and none beside rows of neighbours', async () => {
        for (const path of ['/d', '/d/deep/m', '/e/one', ...NEIGHBOURS]) await store.properties.apply(path, [{ op: 'set', property: p('n', path) }]);
        expect([...(await deadOf(['/d/deep/k', '/d/deep/m'])).keys()]).toEqual(['/d/deep/m']);
        expect([...(await deadOf(['/d/deep/k', '/d/deep/l'])).keys()]).toEqual([]);
        expect([...(await deadOf(['/d/k', '/d/l'])).keys()]).toEqual([]);
        expect([...(await deadOf(['/d/k', '/e/one', '/d'])).keys()].sort()).toEqual(['/d', '/e/one']);
        expect([...(await deadOf(['/e/one'])).keys()]).toEqual(['/e/one']);
        expect((await deadOf([])).size).toBe(0);
      });

      test('recordsOfMembers sees one moment: a transaction changing both kinds, begun as it reads, is seen whole or not at all', async () => {
        await store.properties.apply('/s', [{ op: 'set', property: p('v', 'old') }]);
        await store.versions.put('/s', record('"old"'));
        // The transaction is asked for first: it begins while the read is under way.
        const writer = store.transaction(async (tx) => {
          await tx.properties.apply('/s', [{ op: 'set', property: p('v', 'new') }]);
          await tx.versions.put('/s', record('"new"'));
        });
        const reader = store.recordsOfMembers(['/s']);
        const [seen] = await Promise.all([reader, writer]);
        const newProperty = seen.dead.get('/s')![0].xml.includes('new');
        const newVersion = seen.versions.get('/s')!.etag === '"new"';
        expect(newProperty).toBe(newVersion);
      });

      test('recordsOfMembers answers both kinds at once, properties in the order set (a replaced one counts as set anew), and inside a transaction its own writes', async () => {
        await store.properties.apply('/m/a', [{ op: 'set', property: p('x') }, { op: 'set', property: p('y') }]);
        await store.versions.put('/m/a', { etag: '"a"', ino: 1, size: 2, mtimeMs: 3, sha1: 's', md5: 'm' });
        await store.versions.put('/m/b', { etag: '"b"', ino: 4, size: 5, mtimeMs: 6, sha1: null, md5: null });
        await store.properties.apply('/m/a', [{ op: 'set', property: p('x', 'again') }]);
        await store.properties.apply('/m/c', [{ op: 'set', property: p('z') }]);
        const records = await store.recordsOfMembers(['/m/a', '/m/b', '/m/c', '/m/none']);
        expect(records.dead).toEqual(new Map([['/m/a', [p('y'), p('x', 'again')]], ['/m/c', [p('z')]]]));
        expect(records.versions).toEqual(new Map([
          ['/m/a', { etag: '"a"', ino: 1, size: 2, mtimeMs: 3, sha1: 's', md5: 'm' }],
          ['/m/b', { etag: '"b"', ino: 4, size: 5, mtimeMs: 6, sha1: null, md5: null }],
        ]));
        await store.transaction(async (tx) => {
          await tx.properties.apply('/m/b', [{ op: 'set', property: p('w') }]);
          await tx.versions.forgetSubtree('/m/a');
          const seen = await tx.recordsOfMembers(['/m/a', '/m/b']);
          expect([...seen.dead.keys()]).toEqual(['/m/a', '/m/b']);
          expect([...seen.versions.keys()]).toEqual(['/m/b']);
        });
        const empty = await store.recordsOfMembers([]);
        expect([empty.dead.size, empty.versions.size]).toEqual([0, 0]);
      });

      test('move, copy and forget of a subtree stay inside it (bytewise)', async () => {
        for (const path of ['/a', '/a/x', '/a/x/y', ...NEIGHBOURS]) await store.properties.apply(path, [{ op: 'set', property: p('n', path) }]);
        await store.properties.apply('/b/old', [{ op: 'set', property: p('stale') }]);
        await store.properties.copySubtree('/a', '/c', '0');
        expect(await store.properties.list('/c')).toEqual([p('n', '/a')]);
        expect(await store.properties.list('/c/x')).toEqual([]);
        await store.properties.copySubtree('/a', '/d', 'infinity');
        expect(await store.properties.list('/d/x/y')).toEqual([p('n', '/a/x/y')]);
        expect(await store.properties.list('/a/x/y')).toEqual([p('n', '/a/x/y')]);
        await store.properties.moveSubtree('/a', '/b');
        expect(await store.properties.list('/a')).toEqual([]);
        expect(await store.properties.list('/a/x')).toEqual([]);
        expect(await store.properties.list('/b')).toEqual([p('n', '/a')]);
        expect(await store.properties.list('/b/x/y')).toEqual([p('n', '/a/x/y')]);
        expect(await store.properties.list('/b/old')).toEqual([]);
        for (const path of NEIGHBOURS) expect(await store.properties.list(path)).toEqual([p('n', path)]);
        await store.properties.forgetSubtree('/b');
        expect(await store.properties.list('/b/x')).toEqual([]);
        for (const path of NEIGHBOURS) expect(await store.properties.list(path)).toEqual([p('n', path)]);
      });
    });

    describe('version records', () => {
      test('put, putFingerprint keeps digests, get and recordsOfMembers; null when none', async () => {
        expect(await store.versions.get('/f')).toBeNull();
        await store.versions.put('/f', { ...record('"1"'), sha1: 'aa', md5: 'bb' });
        expect(await store.versions.get('/f')).toEqual({ ...record('"1"'), sha1: 'aa', md5: 'bb' });
        await store.versions.putFingerprint('/f', '"1"', { ino: 9, size: 3, mtimeMs: 99 });
        expect(await store.versions.get('/f')).toEqual({ etag: '"1"', ino: 9, size: 3, mtimeMs: 99, sha1: 'aa', md5: 'bb' });
        await store.versions.putFingerprint('/g', '"2"', { ino: 2, size: 0, mtimeMs: 1 });
        expect(await store.versions.get('/g')).toEqual({ etag: '"2"', ino: 2, size: 0, mtimeMs: 1, sha1: null, md5: null });
        await store.versions.put('/f', record('"3"'));
        expect((await store.versions.get('/f'))?.sha1).toBeNull();
        const many = await versionsOf(['/f', '/g', '/h']);
        expect([...many.keys()].sort()).toEqual(['/f', '/g']);
        expect(many.get('/g')?.etag).toBe('"2"');
        expect((await store.versions.paths()).sort()).toEqual(['/f', '/g']);
      });

      test('completeDigests sets the missing digests only on that very version, keeping one already recorded', async () => {
        const f = { ino: 4, size: 10, mtimeMs: 1234.5 };
        const read = { sha1: 'a2', md5: 'bb' };
        await store.versions.put('/big', { etag: '"v1"', ...f, sha1: 'aa', md5: null });
        expect(await store.versions.completeDigests('/big', '"v0"', f, read)).toBe(false); // another version
        expect(await store.versions.completeDigests('/big', '"v1"', { ...f, ino: 5 }, read)).toBe(false); // other bytes
        expect(await store.versions.completeDigests('/big', '"v1"', { ...f, mtimeMs: 1234.6 }, read)).toBe(false);
        expect(await store.versions.completeDigests('/other', '"v1"', f, read)).toBe(false);
        expect((await store.versions.get('/big'))?.md5).toBeNull();
        expect(await store.versions.completeDigests('/big', '"v1"', f, read)).toBe(true);
        expect(await store.versions.get('/big')).toEqual({ etag: '"v1"', ...f, sha1: 'aa', md5: 'bb' }); // the recorded SHA-1 stays
        expect(await store.versions.completeDigests('/big', '"v1"', f, { sha1: 'cc', md5: 'cc' })).toBe(false); // set once
        expect((await store.versions.get('/big'))?.md5).toBe('bb');
        // a large upload nobody claimed a checksum for: both read back
        await store.versions.put('/nosha', { etag: '"v1"', ...f, sha1: null, md5: null });
        expect(await store.versions.completeDigests('/nosha', '"v0"', f, read)).toBe(false);
        expect(await store.versions.completeDigests('/nosha', '"v1"', f, read)).toBe(true);
        expect(await store.versions.get('/nosha')).toEqual({ etag: '"v1"', ...f, sha1: 'a2', md5: 'bb' });
        // a store that answers from a cache (getFor) shows the completed digests
        await store.versions.put('/cached', { etag: '"c"', ...f, sha1: null, md5: null });
        expect((await (store.versions.getFor?.('/cached', f) ?? store.versions.get('/cached')))?.sha1).toBeNull();
        expect(await store.versions.completeDigests('/cached', '"c"', f, { sha1: 'dd', md5: 'ee' })).toBe(true);
        const cached = await (store.versions.getFor?.('/cached', f) ?? store.versions.get('/cached'));
        expect([cached?.sha1, cached?.md5]).toEqual(['dd', 'ee']);
      });

      test('recordsOfMembers finds version records of members of one collection, in other branches, and none beside records of neighbours', async () => {
        for (const path of ['/d/deep/m', '/e/one', ...NEIGHBOURS]) await store.versions.put(path, record(`"${path}"`));
        expect([...(await versionsOf(['/d/deep/k', '/d/deep/m'])).keys()]).toEqual(['/d/deep/m']);
        expect([...(await versionsOf(['/d/deep/k', '/d/deep/l'])).keys()]).toEqual([]);
        expect([...(await versionsOf(['/d/k', '/e/one'])).keys()]).toEqual(['/e/one']);
        expect((await versionsOf([])).size).toBe(0);
      });

      test('move and forget of a subtree stay inside it (bytewise)', async () => {
        for (const path of ['/a', '/a/x', ...NEIGHBOURS]) await store.versions.put(path, record(`"${path}"`));
        await store.versions.put('/b/old', record('"old"'));
        await store.versions.moveSubtree('/a', '/b');
        expect(await store.versions.get('/a')).toBeNull();
        expect((await store.versions.get('/b/x'))?.etag).toBe('"/a/x"');
        expect(await store.versions.get('/b/old')).toBeNull();
        for (const path of NEIGHBOURS) expect((await store.versions.get(path))?.etag).toBe(`"${path}"`);
        await store.versions.forgetSubtree('/b');
        expect((await store.versions.paths()).sort()).toEqual([...NEIGHBOURS].sort());
      });
    });

    describe('intent journal', () => {
      test('record, pending oldest first, complete', async () => {
        expect(await store.journal.pending()).toEqual([]);
        const a = await store.journal.record({ op: 'move', src: '/a', dst: '/b', depth: 'infinity', mtime_ms: null });
        const b = await store.journal.record({ op: 'touch', src: '/c', dst: null, depth: '0', mtime_ms: 1234.5 });
        expect(b).toBeGreaterThan(a);
        expect(await store.journal.pending()).toEqual([
          { id: a, op: 'move', src: '/a', dst: '/b', depth: 'infinity', mtime_ms: null },
          { id: b, op: 'touch', src: '/c', dst: null, depth: '0', mtime_ms: 1234.5 },
        ]);
        await store.journal.complete(a);
        await store.journal.complete(a);
        expect((await store.journal.pending()).map((i) => i.id)).toEqual([b]);
      });
    });

    describe('retention index', () => {
      test('a pending row is invisible until committed; remove returns it', async () => {
        await store.retention.insert(row('v1', '/f', { reason: 'pending', pendingReason: 'restore', pendingKind: 'file', sourceIno: 7 }));
        expect(await store.retention.list('/f')).toEqual([]);
        expect((await store.retention.get('v1'))?.reason).toBe('pending');
        expect(await store.retention.pending()).toHaveLength(1);
        expect(await store.retention.totals()).toEqual({ count: 0, bytes: 10 });
        expect(await store.retention.keptBytes()).toBe(10);
        expect(await store.retention.commit('v1')).toBe(true);
        expect(await store.retention.commit('v1')).toBe(false);
        expect(await store.retention.list('/f')).toEqual([row('v1', '/f', { reason: 'restore' })]);
        expect(await store.retention.totals()).toEqual({ count: 1, bytes: 10 });
        expect(await store.retention.remove('v1')).toEqual(row('v1', '/f', { reason: 'restore' }));
        expect(await store.retention.remove('v1')).toBeNull();
        expect(await store.retention.get('v1')).toBeNull();
        expect(await store.retention.totals()).toEqual({ count: 0, bytes: 0 });
      });

      test('a tree row is replaced by its files in one step', async () => {
        await store.retention.insert(row('t', '/d', { reason: 'pending', pendingReason: 'delete', pendingKind: 'tree', intentId: 4, size: 0 }));
        expect((await store.retention.pendingOfIntent(4)).map((r) => r.id)).toEqual(['t']);
        expect(await store.retention.pendingOfIntent(5)).toEqual([]);
        await store.retention.replace('t', [row('t', '/d/x', { reason: 'delete' }), row('t-1', '/d/y', { reason: 'delete', size: 5 })]);
        expect(await store.retention.pending()).toEqual([]);
        expect((await store.retention.listUnder('/d')).map((r) => r.path)).toEqual(['/d/x', '/d/y']);
        expect(await store.retention.totals()).toEqual({ count: 2, bytes: 15 });
        expect(await store.retention.storagePaths()).toEqual(new Set(['st/t', 'st/t-1']));
      });

      test('a file row keeps the dead properties it is given, through replace, get, list and moveSubtree', async () => {
        const kept = JSON.stringify([{ ns: 'urn:z', local: 'tag', xml: '<Z:tag xmlns:Z="urn:z">keep \u00e9</Z:tag>' }]);
        await store.retention.insert(row('p', '/e', { reason: 'pending', pendingReason: 'delete', pendingKind: 'tree', intentId: 9, size: 0 }));
        await store.retention.replace('p', [row('p', '/e/x', { reason: 'delete', properties: kept }), row('p-1', '/e/y', { reason: 'delete' })]);
        expect((await store.retention.get('p'))?.properties).toBe(kept);
        expect((await store.retention.get('p-1'))?.properties).toBeNull();
        expect((await store.retention.list('/e/x'))[0].properties).toBe(kept);
        await store.retention.moveSubtree('/e', '/g');
        expect((await store.retention.list('/g/x'))[0].properties).toBe(kept);
      });

      test('ordering, selections for pruning, listUnder and moveSubtree (bytewise)', async () => {
        await store.retention.insert(row('old', '/a', { retainedAtMs: 100 }));
        await store.retention.insert(row('new', '/a', { retainedAtMs: 300 }));
        await store.retention.insert(row('mid', '/a/x', { retainedAtMs: 200 }));
        await store.retention.insert(row('tie', '/a', { retainedAtMs: 300 }));
        for (const [i, path] of NEIGHBOURS.entries()) await store.retention.insert(row(`n${i}`, path, { retainedAtMs: 50 + i }));
        await store.retention.insert(row('p', '/a', { reason: 'pending', pendingKind: 'file', pendingReason: 'overwrite', retainedAtMs: 1 }));
        expect((await store.retention.list('/a')).map((r) => r.id)).toEqual(['tie', 'new', 'old']);
        expect((await store.retention.listUnder('/a')).map((r) => r.id)).toEqual(['tie', 'new', 'old', 'mid']);
        expect((await store.retention.listAll()).map((r) => r.id)).toEqual(['old', 'new', 'mid', 'tie', ...NEIGHBOURS.map((_, i) => `n${i}`)]);
        expect((await store.retention.listedPaths()).sort()).toEqual(['/a', '/a/x', ...NEIGHBOURS].sort());
        expect((await store.retention.idsOlderThan(200)).sort()).toEqual(['n0', 'n1', 'n2', 'n3', 'n4', 'old']);
        expect((await store.retention.oldest(7)).map((r) => r.id)).toEqual(['n0', 'n1', 'n2', 'n3', 'n4', 'old', 'mid']);
        await store.retention.moveSubtree('/a', '/b');
        expect((await store.retention.listUnder('/b')).map((r) => r.path)).toEqual(['/b', '/b', '/b', '/b/x']);
        expect((await store.retention.get('p'))?.path).toBe('/b');
        expect(await store.retention.listUnder('/a')).toEqual([]);
        for (const path of NEIGHBOURS) expect(await store.retention.list(path)).toHaveLength(1);
        expect(await store.retention.totals()).toEqual({ count: 4 + NEIGHBOURS.length, bytes: 10 * (5 + NEIGHBOURS.length) });
      });

      test('removeBeyondNewest removes and returns what lies past the newest kept, nothing pending or elsewhere', async () => {
        await store.retention.insert(row('old', '/a', { retainedAtMs: 100, size: 1 }));
        await store.retention.insert(row('new', '/a', { retainedAtMs: 300, size: 2 }));
        await store.retention.insert(row('mid', '/a', { retainedAtMs: 200, size: 4 }));
        await store.retention.insert(row('tie', '/a', { retainedAtMs: 300, size: 8 }));
        await store.retention.insert(row('p', '/a', { reason: 'pending', pendingKind: 'file', pendingReason: 'overwrite', retainedAtMs: 1, size: 16 }));
        await store.retention.insert(row('below', '/a/x', { retainedAtMs: 50, size: 32 }));
        for (const [i, path] of NEIGHBOURS.entries()) await store.retention.insert(row(`n${i}`, path, { retainedAtMs: 50 + i, size: 64 }));
        expect(await store.retention.removeBeyondNewest('/a', 4)).toEqual([]);
        // list() order: tie, new, mid, old: keeping 2 removes mid and old.
        expect((await store.retention.removeBeyondNewest('/a', 2)).map((r) => [r.id, r.size]).sort()).toEqual([['mid', 4], ['old', 1]]);
        expect((await store.retention.list('/a')).map((r) => r.id)).toEqual(['tie', 'new']);
        expect(await store.retention.get('old')).toBeNull();
        expect((await store.retention.get('p'))?.reason).toBe('pending');
        expect(await store.retention.totals()).toEqual({ count: 3 + NEIGHBOURS.length, bytes: 2 + 8 + 16 + 32 + 64 * NEIGHBOURS.length });
        expect(await store.retention.keptBytes()).toBe(2 + 8 + 16 + 32 + 64 * NEIGHBOURS.length);
        expect((await store.retention.removeBeyondNewest('/a', 0)).map((r) => r.id).sort()).toEqual(['new', 'tie']);
        expect(await store.retention.list('/a')).toEqual([]);
        expect((await store.retention.list('/a/x')).map((r) => r.id)).toEqual(['below']);
        for (const path of NEIGHBOURS) expect(await store.retention.list(path)).toHaveLength(1);
      });

      test('newestUnder pages the paths of a subtree by their newest version, then bytewise', async () => {
        await store.retention.insert(row('a1', '/a', { retainedAtMs: 100 }));
        await store.retention.insert(row('a2', '/a', { retainedAtMs: 400 }));
        await store.retention.insert(row('x', '/a/x', { retainedAtMs: 300 }));
        await store.retention.insert(row('y', '/a/y', { retainedAtMs: 300 }));
        await store.retention.insert(row('z', '/a/z/\u00e9', { retainedAtMs: 300 }));
        await store.retention.insert(row('w', '/a/w', { retainedAtMs: 200 }));
        await store.retention.insert(row('pend', '/a/p', { reason: 'pending', pendingKind: 'file', pendingReason: 'overwrite', retainedAtMs: 900 }));
        for (const [i, path] of NEIGHBOURS.entries()) await store.retention.insert(row(`n${i}`, path, { retainedAtMs: 500 + i }));
        const all = [
          { path: '/a', retainedAtMs: 400 }, { path: '/a/x', retainedAtMs: 300 }, { path: '/a/y', retainedAtMs: 300 },
          { path: '/a/z/\u00e9', retainedAtMs: 300 }, { path: '/a/w', retainedAtMs: 200 },
        ];
        expect(await store.retention.newestUnder('/a', 10)).toEqual(all);
        expect(await store.retention.newestUnder('/a', 2)).toEqual(all.slice(0, 2));
        expect(await store.retention.newestUnder('/a', 2, all[1])).toEqual(all.slice(2, 4));
        expect(await store.retention.newestUnder('/a', 2, all[3])).toEqual(all.slice(4));
        expect(await store.retention.newestUnder('/a', 2, all[4])).toEqual([]);
        expect(await store.retention.newestUnder('/a/x', 10)).toEqual([all[1]]);
        expect((await store.retention.newestUnder('/', 100)).map((p) => p.path).sort()).toEqual([...all.map((p) => p.path), ...NEIGHBOURS].sort());
      });

      test('totals follow a rolled-back transaction', async () => {
        await store.retention.insert(row('a', '/a'));
        await expect(store.transaction(async (tx) => {
          await tx.retention.insert(row('b', '/b', { size: 1000 }));
          await tx.retention.remove('a');
          expect(await tx.retention.totals()).toEqual({ count: 1, bytes: 1000 });
          expect(await tx.retention.keptBytes()).toBe(1000);
          throw new Error('undo');
        })).rejects.toThrow('undo');
        expect(await store.retention.totals()).toEqual({ count: 1, bytes: 10 });
        expect(await store.retention.keptBytes()).toBe(10);
        expect(await store.retention.get('b')).toBeNull();
      });
    });

    describe('refusals and recent deletions', () => {
      test('recorded with the store clock, re-armed, settled, forgotten by age', async () => {
        expect(await store.refusals.refusalOf('/f', 'c1')).toBeNull();
        await store.refusals.recordRefusal('/f', 'c1', { code: 'stale-version', status: 409 });
        const at = await store.now();
        expect(await store.refusals.refusalOf('/f', 'c1')).toEqual({ code: 'stale-version', status: 409, atMs: at });
        expect(await store.refusals.refusalOf('/f', 'c2')).toBeNull();
        subject.clock.advance(5000);
        await store.refusals.rearmRefusal('/f', 'c1');
        await store.refusals.rearmRefusal('/g', 'c1');
        expect((await store.refusals.refusalOf('/f', 'c1'))?.atMs).toBe(at + 5000);
        expect(await store.refusals.refusalOf('/g', 'c1')).toBeNull();
        await store.refusals.recordDeletion('/f', 'c1', { etag: '"e"', mtimeMs: 7, size: 3 });
        expect(await store.refusals.deletionOf('/f', 'c1')).toEqual({ etag: '"e"', mtimeMs: 7, size: 3, atMs: at + 5000 });
        await store.refusals.settle('/f', 'c1');
        expect(await store.refusals.refusalOf('/f', 'c1')).toBeNull();
        expect(await store.refusals.deletionOf('/f', 'c1')).toBeNull();
        await store.refusals.recordRefusal('/old', 'c', { code: 'locked', status: 423 });
        subject.clock.advance(10_000);
        await store.refusals.recordDeletion('/new', 'c', { etag: null, mtimeMs: 1, size: 0 });
        expect(await store.refusals.forgetBefore((await store.now()) - 1)).toBe(1);
        expect(await store.refusals.refusalOf('/old', 'c')).toBeNull();
        expect(await store.refusals.deletionOf('/new', 'c')).not.toBeNull();
      });
    });

    describe('transactions', () => {
      test('commit makes every member visible; a throw rolls back every member', async () => {
        await store.transaction(async (tx) => {
          await tx.properties.apply('/c', [{ op: 'set', property: { ns: 'n', local: 'l', xml: '<l xmlns="n"/>' } }]);
          await tx.versions.put('/c', record('"c"'));
        });
        expect(await store.versions.get('/c')).not.toBeNull();
        const error = new Error('rolled back');
        await expect(store.transaction(async (tx) => {
          await tx.properties.forgetSubtree('/c');
          await tx.versions.forgetSubtree('/c');
          await tx.versions.put('/d', record('"d"'));
          await tx.journal.record({ op: 'delete', src: '/c', dst: null, depth: 'infinity', mtime_ms: null });
          await tx.retention.insert(row('r', '/c'));
          await tx.refusals.recordRefusal('/c', 'c', { code: 'x', status: 409 });
          expect(await tx.versions.get('/d')).not.toBeNull();
          throw error;
        })).rejects.toBe(error);
        expect(await store.properties.list('/c')).toHaveLength(1);
        expect(await store.versions.get('/c')).not.toBeNull();
        expect(await store.versions.get('/d')).toBeNull();
        expect(await store.journal.pending()).toEqual([]);
        expect(await store.retention.get('r')).toBeNull();
        expect(await store.refusals.refusalOf('/c', 'c')).toBeNull();
      });

      test('returns what work returns; others never see a half-done transaction', async () => {
        let release!: () => void;
        let opened!: () => void;
        const paused = new Promise<void>((resolve) => { release = resolve; });
        const isOpen = new Promise<void>((resolve) => { opened = resolve; });
        const inside = store.transaction(async (tx) => {
          await tx.versions.put('/x', record('"half"'));
          opened();
          await paused;
          await tx.versions.put('/y', record('"whole"'));
          return 42;
        });
        // A reader and a writer from outside, started while the transaction is open.
        await isOpen;
        const reader = versionsOf(['/x', '/y']);
        const writer = store.versions.put('/x', record('"after"'));
        await new Promise((resolve) => setImmediate(resolve));
        release();
        expect(await inside).toBe(42);
        const seen = await reader;
        expect(seen.size === 0 || seen.size === 2).toBe(true);
        await writer;
        expect((await store.versions.get('/x'))?.etag).toBe('"after"');
        expect((await store.versions.get('/y'))?.etag).toBe('"whole"');
      });

      test('concurrent transactions serialize (no lost update)', async () => {
        await store.versions.put('/n', record('0'));
        await Promise.all(Array.from({ length: 20 }, () => store.transaction(async (tx) => {
          const current = Number((await tx.versions.get('/n'))!.etag);
          await new Promise((resolve) => setImmediate(resolve));
          await tx.versions.put('/n', record(String(current + 1)));
        })));
        expect((await store.versions.get('/n'))?.etag).toBe('20');
      });

      test('a nested transaction rolls back alone', async () => {
        await store.transaction(async (tx) => {
          await tx.versions.put('/outer', record('"o"'));
          await expect(tx.transaction(async (inner) => {
            await inner.versions.put('/inner', record('"i"'));
            throw new Error('inner');
          })).rejects.toThrow('inner');
          await tx.transaction(async (inner) => inner.versions.put('/inner2', record('"i2"')));
        });
        expect(await store.versions.get('/outer')).not.toBeNull();
        expect(await store.versions.get('/inner')).toBeNull();
        expect(await store.versions.get('/inner2')).not.toBeNull();
      });
    });

    describe('write claims', () => {
      test('overlapping claims run one after the other; disjoint ones at once', async () => {
        const order: string[] = [];
        let releaseFirst!: () => void;
        let firstStarted!: () => void;
        const started = new Promise<void>((resolve) => { firstStarted = resolve; });
        const first = store.claims.run([{ path: '/a', tree: true }], async () => {
          order.push('first start');
          const released = new Promise<void>((resolve) => { releaseFirst = resolve; });
          firstStarted();
          await released;
          order.push('first end');
        });
        await started; // the first claim is held (a store may need a round trip for it)
        const overlapping = store.claims.run([{ path: '/a/b', tree: false }], async () => { order.push('overlapping'); });
        const disjoint = store.claims.run([{ path: '/ab', tree: true }, { path: '/A/b', tree: false }], async () => { order.push('disjoint'); });
        await disjoint;
        releaseFirst();
        await Promise.all([first, overlapping]);
        expect(order).toEqual(['first start', 'disjoint', 'first end', 'overlapping']);
      });

      test('a claim overlapping a running operation is refused at once; claims end however the action ends', async () => {
        const operation = await holdClaims(store, [{ path: '/t', tree: true }], { id: 'op1', method: 'MOVE', path: '/t' });
        const listed = await store.claims.running();
        expect(listed).toEqual([{ id: 'op1', method: 'MOVE', path: '/t', startedAtMs: await store.now() }]);
        const refused = store.claims.run([{ path: '/t/x', tree: false }], async () => 'ran');
        await expect(refused).rejects.toBeInstanceOf(OperationInProgressError);
        await expect(refused).rejects.toMatchObject({ operation: { id: 'op1', method: 'MOVE', path: '/t' } });
        expect(await store.claims.run([{ path: '/tt', tree: false }], async () => 'ran')).toBe('ran');
        await operation.end();
        expect(await store.claims.running()).toEqual([]);
        await expect(store.claims.run([{ path: '/t', tree: true }], async () => { throw new Error('failed'); })).rejects.toThrow('failed');
        expect(await store.claims.run([{ path: '/t/x', tree: false }], async () => 'ran')).toBe('ran');
      });
    });

    test('probeWrite resolves on a working store', async () => {
      await expect(store.probeWrite()).resolves.toBeUndefined();
    });
  });
}

function overlapping(a: ActiveLock, b: ActiveLock): boolean {
  const inside = (p: string, root: string) => root === '/' || p === root || p.startsWith(root + '/');
  return a.root === b.root || (a.depth === 'infinity' && inside(b.root, a.root)) || (b.depth === 'infinity' && inside(a.root, b.root));
}
