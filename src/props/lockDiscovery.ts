/**
 * The DAV:lockdiscovery and DAV:supportedlock values (RFC 4918 §15.8, §15.10, §14.1).
 */
import type { ActiveLock } from '../locks/activeLock';
import { el, type OutElement } from '../xml/build';
import { DAV_NS } from '../xml/tree';

/** "Second-N" with the seconds left, or "Infinite" (RFC 4918 §10.7). */
export function timeoutValue(lock: ActiveLock, nowMs: number): string {
  if (!Number.isFinite(lock.expiresAtMs)) return 'Infinite';
  return `Second-${Math.max(0, Math.ceil((lock.expiresAtMs - nowMs) / 1000))}`;
}

/** One DAV:activelock (RFC 4918 §14.1). `rootHref` is the href of the lock root; null leaves DAV:lockroot out. */
export function activeLockElement(lock: ActiveLock, rootHref: string | null, nowMs: number): OutElement {
  const children = [
    el(DAV_NS, 'locktype', el(DAV_NS, 'write')),
    el(DAV_NS, 'lockscope', el(DAV_NS, lock.scope)),
    el(DAV_NS, 'depth', lock.depth === 'infinity' ? 'infinity' : '0'),
    ...(lock.owner !== null ? [{ raw: lock.owner }] : []),
    el(DAV_NS, 'timeout', timeoutValue(lock, nowMs)),
    // The newline after the href is whitespace XML readers ignore; nd (0.8.2) scans the locktoken's
    // text for a space after the token and runs past the string's end without one (README, "Tolerances").
    el(DAV_NS, 'locktoken', el(DAV_NS, 'href', lock.token), '\n'),
    ...(rootHref !== null ? [el(DAV_NS, 'lockroot', el(DAV_NS, 'href', rootHref))] : []),
  ];
  return el(DAV_NS, 'activelock', ...children);
}

export function lockDiscoveryElement(locks: readonly ActiveLock[], rootHrefOf: (lock: ActiveLock) => string | null, nowMs: number): OutElement {
  return el(DAV_NS, 'lockdiscovery', ...locks.map((lock) => activeLockElement(lock, rootHrefOf(lock), nowMs)));
}

/** Exclusive and shared write locks are supported on every resource (RFC 4918 §15.10). */
export function supportedLockElement(): OutElement {
  const entry = (scope: 'exclusive' | 'shared') =>
    el(DAV_NS, 'lockentry', el(DAV_NS, 'lockscope', el(DAV_NS, scope)), el(DAV_NS, 'locktype', el(DAV_NS, 'write')));
  return el(DAV_NS, 'supportedlock', entry('exclusive'), entry('shared'));
}
