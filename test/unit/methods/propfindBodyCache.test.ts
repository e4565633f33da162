/** PropfindBodyCache: parsed PROPFIND bodies by their bytes, frozen, bounded. */
import { PropfindBodyCache } from '../../../src/methods/support/propfindBodyCache';
import type { PropfindRequest } from '../../../src/xml/requests';

const prop = (local: string): PropfindRequest => ({ kind: 'prop', names: [{ ns: 'DAV:', local }] });

test('answers a remembered body by its bytes, frozen all the way down', () => {
  const cache = new PropfindBodyCache();
  const body = Buffer.from('<propfind>getetag</propfind>');
  expect(cache.get(body)).toBeUndefined();
  const kept = cache.remember(body, prop('getetag'));
  expect(cache.get(Buffer.from(body))).toBe(kept);
  expect(kept).toEqual(prop('getetag'));
  expect(Object.isFrozen(kept)).toBe(true);
  if (kept.kind !== 'prop') throw new Error('prop expected');
  expect(Object.isFrozen(kept.names)).toBe(true);
  expect(Object.isFrozen(kept.names[0])).toBe(true);
  expect(cache.get(Buffer.from('<propfind>getetag</propfind> '))).toBeUndefined();
});

test('keeps no body over 4 KiB, and at most 64 bodies (the oldest goes first)', () => {
  const cache = new PropfindBodyCache();
  const big = Buffer.alloc(4097, 0x20);
  expect(cache.remember(big, prop('big'))).toEqual(prop('big'));
  expect(cache.get(big)).toBeUndefined();
  for (let i = 0; i < 65; i++) cache.remember(Buffer.from(`body ${i}`), prop(`p${i}`));
  expect(cache.get(Buffer.from('body 0'))).toBeUndefined();
  expect(cache.get(Buffer.from('body 1'))).toEqual(prop('p1'));
  expect(cache.get(Buffer.from('body 64'))).toEqual(prop('p64'));
});
