/** ParsedBodyCache: parsed request bodies by their bytes, frozen, bounded. */
import { ParsedBodyCache, parsedBody } from '../../../src/methods/support/parsedBodyCache';
import type { Services } from '../../../src/methods/context';
import type { PropfindRequest } from '../../../src/xml/requests';

const prop = (local: string): PropfindRequest => ({ kind: 'prop', names: [{ ns: 'DAV:', local }] });

test('answers a remembered body by its bytes, frozen all the way down', () => {
  const cache = new ParsedBodyCache<PropfindRequest>();
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
  const cache = new ParsedBodyCache<PropfindRequest>();
  const big = Buffer.alloc(4097, 0x20);
  expect(cache.remember(big, prop('big'))).toEqual(prop('big'));
  expect(cache.get(big)).toBeUndefined();
  for (let i = 0; i < 65; i++) cache.remember(Buffer.from(`body ${i}`), prop(`p${i}`));
  expect(cache.get(Buffer.from('body 0'))).toBeUndefined();
  expect(cache.get(Buffer.from('body 1'))).toEqual(prop('p1'));
  expect(cache.get(Buffer.from('body 64'))).toEqual(prop('p64'));
});

test('parsedBody parses each body once per server and method', () => {
  const services = {} as Services;
  const other = {} as Services;
  const calls: string[] = [];
  const parse = (label: string) => (body: Buffer) => (calls.push(label), { label, text: body.toString() });
  const body = Buffer.from('<lockinfo/>');
  const first = parsedBody(services, 'LOCK', body, parse('lock'));
  expect(parsedBody(services, 'LOCK', Buffer.from(body), parse('lock again'))).toBe(first);
  expect(parsedBody(services, 'PROPFIND', body, parse('propfind'))).toEqual({ label: 'propfind', text: '<lockinfo/>' });
  expect(parsedBody(other, 'LOCK', body, parse('other server'))).toEqual({ label: 'other server', text: '<lockinfo/>' });
  expect(calls).toEqual(['lock', 'propfind', 'other server']);
  expect(Object.isFrozen(first)).toBe(true);
});

test('parsedBody keeps nothing of a body that did not parse', () => {
  const services = {} as Services;
  const refuse = (): never => {
    throw new Error('malformed');
  };
  expect(() => parsedBody(services, 'LOCK', Buffer.from('<bad'), refuse)).toThrow('malformed');
  expect(parsedBody(services, 'LOCK', Buffer.from('<bad'), () => 'parsed now')).toBe('parsed now');
});
