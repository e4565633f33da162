import type { LockDepth } from '../../../src/locks/activeLock';
import { acquireSpec, newManager } from './lockTestKit';

describe('LockManager.blockingLock (RFC 4918 §7, §7.4, §7.5)', () => {
  // locks by label, path, depth, submitted labels ('?' = a token nobody holds), expected label
  const cases: Array<[string, Record<string, string>, string, LockDepth, string[], string | null]> = [
    ['no locks, no block', {}, '/a', '0', [], null],
    ['exclusive lock without its token', { A: 'x0:/a' }, '/a', '0', [], 'A'],
    ['exclusive lock with its token', { A: 'x0:/a' }, '/a', '0', ['A'], null],
    ['exclusive lock with a wrong token', { A: 'x0:/a' }, '/a', '0', ['?'], 'A'],
    ['new member of a depth-infinity locked collection', { A: 'xi:/c' }, '/c/new', '0', [], 'A'],
    ['new member, token submitted', { A: 'xi:/c' }, '/c/new', '0', ['A'], null],
    ['depth-0 collection lock does not cover the member itself', { A: 'x0:/c' }, '/c/new', '0', [], null],
    ['shared locks, none submitted', { S1: 's0:/f', S2: 's0:/f' }, '/f', '0', [], 'S1'],
    ['shared locks, the second submitted', { S1: 's0:/f', S2: 's0:/f' }, '/f', '0', ['S2'], null],
    ['shared locks, the first submitted', { S1: 's0:/f', S2: 's0:/f' }, '/f', '0', ['S1'], null],
    ['inherited shared satisfied by a direct shared', { S1: 'si:/', S2: 's0:/c' }, '/c', '0', ['S2'], null],
    ['...but not for the members of /c', { S1: 'si:/', S2: 's0:/c' }, '/c', 'infinity', ['S2'], 'S1'],
    ['...the inherited one satisfies /c and its members', { S1: 'si:/', S2: 's0:/c' }, '/c', 'infinity', ['S1'], null],
    ['exclusive lock deep below, depth 0', { E: 'x0:/c/d/f' }, '/c', '0', [], null],
    ['exclusive lock deep below, depth infinity', { E: 'x0:/c/d/f' }, '/c', 'infinity', [], 'E'],
    ['exclusive lock deep below, token submitted', { E: 'x0:/c/d/f' }, '/c', 'infinity', ['E'], null],
    ['two exclusive locks below, one token', { E1: 'x0:/a/x', E2: 'x0:/a/y' }, '/a', 'infinity', ['E1'], 'E2'],
    ['two exclusive locks below, both tokens', { E1: 'x0:/a/x', E2: 'x0:/a/y' }, '/a', 'infinity', ['E1', 'E2'], null],
    ['shared lock below, depth infinity', { S: 's0:/a/x' }, '/a', 'infinity', [], 'S'],
    ['name prefix is not below', { A: 'x0:/ab' }, '/a', 'infinity', [], null],
    ['lock on an ancestor with depth 0 does not block a member', { A: 'x0:/a' }, '/a/b', 'infinity', [], null],
  ];
  test.each(cases)('%s', async (_name, locks, path, depth, submittedLabels, expected) => {
    const { manager } = newManager();
    const tokens = new Map<string, string>();
    const labels = new Map<string, string>();
    for (const [label, text] of Object.entries(locks)) {
      const lock = (await acquireSpec(manager, text));
      tokens.set(label, lock.token);
      labels.set(lock.token, label);
    }
    const submitted = new Set(submittedLabels.map((label) => tokens.get(label) ?? 'urn:uuid:00000000-0000-4000-8000-000000000000'));
    const blocking = (await manager.blockingLock(path, depth, submitted));
    expect(blocking === null ? null : labels.get(blocking.token)).toBe(expected);
  });

  const membership: Array<[string, Record<string, string>, string, string[], string | null]> = [
    ['depth-0 lock on the parent blocks creating a member', { A: 'x0:/c' }, '/c/new', [], 'A'],
    ['...unless its token is submitted', { A: 'x0:/c' }, '/c/new', ['A'], null],
    ['depth-infinity lock on the grandparent', { A: 'xi:/c' }, '/c/d/new', [], 'A'],
    ['a lock on the member itself is not a membership lock', { A: 'x0:/c/new' }, '/c/new', [], null],
    ['a lock on a sibling is not either', { A: 'x0:/c/other' }, '/c/new', [], null],
    ['the root has no parent', { A: 'xi:/' }, '/', [], null],
    ['members of the root: lock on the root', { A: 'x0:/' }, '/new', [], 'A'],
    ['shared lock on the parent', { S: 's0:/c' }, '/c/new', [], 'S'],
  ];
  test.each(membership)('membership: %s', async (_name, locks, path, submittedLabels, expected) => {
    const { manager } = newManager();
    const tokens = new Map<string, string>();
    const labels = new Map<string, string>();
    for (const [label, text] of Object.entries(locks)) {
      const lock = (await acquireSpec(manager, text));
      tokens.set(label, lock.token);
      labels.set(lock.token, label);
    }
    const submitted = new Set(submittedLabels.map((label) => tokens.get(label) as string));
    const blocking = (await manager.blockingLockForChanges([], [path], submitted));
    expect(blocking === null ? null : labels.get(blocking.token)).toBe(expected);
  });
});
