import {
  evaluateIfHeader,
  IfEvaluationContext,
  IfHeader,
  IfResourceState,
  parseIfHeader,
  submittedLockTokens,
} from '../../../src/headers/ifHeader';
import { HeaderSyntaxError } from '../../../src/headers/headerSyntaxError';

const A = 'urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2';
const B = 'urn:uuid:58f202ac-22cf-11d1-b12d-002035b29092';
const T = 'opaquelocktoken:e71d4fae-5dec-22d6-fea5-00a0c91e6be4';
const E = '"abc-123"';
const E_BAD = '"abc-133"'; // litmus corrupts the third character from the end

const token = (t: string, not = false) => ({ not, kind: 'token' as const, token: t });
const etag = (e: string, not = false) => ({ not, kind: 'etag' as const, etag: e });

describe('parseIfHeader: RFC 4918 §10.4 examples', () => {
  test.each<[string, string, IfHeader]>([
    [
      '§10.4.6 No-tag production',
      `(<${A}> ["I am an ETag"]) (["I am another ETag"])`,
      {
        tagged: false,
        lists: [
          { resourceTag: null, conditions: [token(A), etag('"I am an ETag"')] },
          { resourceTag: null, conditions: [etag('"I am another ETag"')] },
        ],
      },
    ],
    [
      '§10.4.7 Using "Not" with No-tag production',
      `(Not <${A}> <${B}>)`,
      { tagged: false, lists: [{ resourceTag: null, conditions: [token(A, true), token(B)] }] },
    ],
    [
      '§10.4.8 Causing a condition to always evaluate to true',
      `(<${A}>) (Not <DAV:no-lock>)`,
      {
        tagged: false,
        lists: [
          { resourceTag: null, conditions: [token(A)] },
          { resourceTag: null, conditions: [token('DAV:no-lock', true)] },
        ],
      },
    ],
    [
      '§10.4.9 Tagged list If header in COPY',
      `</resource1> (<${A}> [W/"A weak ETag"]) (["strong ETag"])`,
      {
        tagged: true,
        lists: [
          { resourceTag: '/resource1', conditions: [token(A), etag('W/"A weak ETag"')] },
          { resourceTag: '/resource1', conditions: [etag('"strong ETag"')] },
        ],
      },
    ],
    [
      '§10.4.10 Matching lock tokens with collection locks',
      `<http://www.example.com/specs/> (<${A}>)`,
      { tagged: true, lists: [{ resourceTag: 'http://www.example.com/specs/', conditions: [token(A)] }] },
    ],
    [
      '§10.4.11 Matching ETags on unmapped URLs',
      '</specs/rfc2518.doc> (["4217"])',
      { tagged: true, lists: [{ resourceTag: '/specs/rfc2518.doc', conditions: [etag('"4217"')] }] },
    ],
  ])('%s', (_name, value, expected) => {
    expect(parseIfHeader(value)).toEqual(expected);
  });
});

describe('parseIfHeader: whitespace, case and shapes clients send', () => {
  test.each<[string, string, IfHeader]>([
    ['no space at all (Finder, litmus)', `(<${T}>)`, { tagged: false, lists: [{ resourceTag: null, conditions: [token(T)] }] }],
    [
      'lists and Not glued together',
      `(<${T}>)(Not<DAV:no-lock>)`,
      {
        tagged: false,
        lists: [
          { resourceTag: null, conditions: [token(T)] },
          { resourceTag: null, conditions: [token('DAV:no-lock', true)] },
        ],
      },
    ],
    [
      'generous whitespace and tabs',
      ` \t( <${T}>\t[ ${E} ] )  ( NOT  <DAV:no-lock> )\t`,
      {
        tagged: false,
        lists: [
          { resourceTag: null, conditions: [token(T), etag(E)] },
          { resourceTag: null, conditions: [token('DAV:no-lock', true)] },
        ],
      },
    ],
    ['"not" in lower case', `(not [${E}])`, { tagged: false, lists: [{ resourceTag: null, conditions: [etag(E, true)] }] }],
    ['"nOt" in mixed case', `(nOt<${T}>)`, { tagged: false, lists: [{ resourceTag: null, conditions: [token(T, true)] }] }],
    [
      'several Resource-Tags, each with lists',
      `<http://h/a> (<${A}>) (<${B}>) </b> ([${E}])`,
      {
        tagged: true,
        lists: [
          { resourceTag: 'http://h/a', conditions: [token(A)] },
          { resourceTag: 'http://h/a', conditions: [token(B)] },
          { resourceTag: '/b', conditions: [etag(E)] },
        ],
      },
    ],
    [
      'entity-tag holding "]", "(" and "<"',
      '(["a]b(c<d"])',
      { tagged: false, lists: [{ resourceTag: null, conditions: [etag('"a]b(c<d"')] }] },
    ],
    ['empty opaque tag', '([""])', { tagged: false, lists: [{ resourceTag: null, conditions: [etag('""')] }] }],
    [
      'Resource-Tag with a query',
      `</a?x=1> (<${T}>)`,
      { tagged: true, lists: [{ resourceTag: '/a?x=1', conditions: [token(T)] }] },
    ],
  ])('%s', (_name, value, expected) => {
    expect(parseIfHeader(value)).toEqual(expected);
  });

  test('absent header is null', () => {
    expect(parseIfHeader(undefined)).toBeNull();
  });
});

describe('parseIfHeader: malformed input throws HeaderSyntaxError', () => {
  test.each<[string, string]>([
    ['empty', ''],
    ['blank', '   '],
    ['empty list', '()'],
    ['empty list after a good one', `(<${T}>) ()`],
    ['unterminated (', `(<${T}>`],
    ['unterminated ( at the end', `(<${T}>) (`],
    ['unterminated <', `(<${T})`],
    ['unterminated [', `([${E})`],
    ['unterminated quote in [', '(["abc])'],
    ['unquoted entity-tag', '([abc])'],
    ['lower-case weak prefix', '([w/"abc"])'],
    ['two tags in one bracket', `([${E} ${E}])`],
    ['empty brackets', '([])'],
    ['empty <>', '(<>)'],
    ['space inside <>', '(<urn:uuid:a b>)'],
    ['State-token without a scheme', '(<locktoken>)'],
    ['Resource-Tag that is neither URI nor absolute path', `<resource1> (<${T}>)`],
    ['untagged then tagged (mixing)', `(<${T}>) </a> (<${T}>)`],
    ['Resource-Tag with no list', '</a>'],
    ['Resource-Tag followed by another tag', `</a> </b> (<${T}>)`],
    ['Resource-Tag inside a list', `(</a> <${T}>)`],
    ['Not alone', '(Not)'],
    ['Not Not', `(Not Not <${T}>)`],
    ['Not before a list', `Not (<${T}>)`],
    ['word after Not', `(Nothing <${T}>)`],
    ['stray )', `(<${T}>))`],
    ['nested (', `((<${T}>))`],
    ['bare token without list', `<${T}>`],
    ['garbage', 'hello'],
    ['garbage after a list', `(<${T}>) x`],
    ['comma between lists', `(<${T}>), (<${T}>)`],
    ['control character inside <>', '(<urn:a\u0001b>)'],
  ])('%s', (_name, value) => {
    expect(() => parseIfHeader(value)).toThrow(HeaderSyntaxError);
  });

  test('the error names the If header', () => {
    expect(() => parseIfHeader('()')).toThrow(expect.objectContaining({ header: 'If' }));
  });
});

/** A small world of resources for the evaluator. */
interface World {
  requestPath: string;
  resources: Record<string, { etag?: string; locks?: string[] }>;
}

function contextFor(world: World, asked: string[] = []): IfEvaluationContext {
  return {
    requestPath: world.requestPath,
    resolveTag(tag: string): string | null {
      const path = tag.replace(/^https?:\/\/www\.example\.com/, '').replace(/(.)\/$/, '$1');
      return path.startsWith('/') ? path : null;
    },
    stateOf(path: string): IfResourceState {
      asked.push(path);
      const r = world.resources[path];
      return { exists: r !== undefined, etag: r?.etag ?? null, lockTokens: new Set(r?.locks ?? []) };
    },
  };
}

describe('evaluateIfHeader: RFC 4918 §10.4 examples', () => {
  test.each<[string, string, World, boolean]>([
    ['§10.4.6 first list true', `(<${A}> ["I am an ETag"]) (["I am another ETag"])`,
      { requestPath: '/r', resources: { '/r': { etag: '"I am an ETag"', locks: [A] } } }, true],
    ['§10.4.6 second list true', `(<${A}> ["I am an ETag"]) (["I am another ETag"])`,
      { requestPath: '/r', resources: { '/r': { etag: '"I am another ETag"' } } }, true],
    ['§10.4.6 right etag, token not held', `(<${A}> ["I am an ETag"]) (["I am another ETag"])`,
      { requestPath: '/r', resources: { '/r': { etag: '"I am an ETag"' } } }, false],
    ['§10.4.7 not locked by A, locked by B', `(Not <${A}> <${B}>)`,
      { requestPath: '/r', resources: { '/r': { locks: [B] } } }, true],
    ['§10.4.7 locked by A and B', `(Not <${A}> <${B}>)`,
      { requestPath: '/r', resources: { '/r': { locks: [A, B] } } }, false],
    ['§10.4.7 locked by neither', `(Not <${A}> <${B}>)`,
      { requestPath: '/r', resources: { '/r': {} } }, false],
    ['§10.4.8 always true, even unlocked', `(<${A}>) (Not <DAV:no-lock>)`,
      { requestPath: '/r', resources: { '/r': {} } }, true],
    ['§10.4.8 always true, even unmapped', `(<${A}>) (Not <DAV:no-lock>)`,
      { requestPath: '/nothing', resources: {} }, true],
    ['§10.4.9 weak tag never matches, strong list decides (true)',
      `</resource1> (<${A}> [W/"A weak ETag"]) (["strong ETag"])`,
      { requestPath: '/copy-target', resources: { '/resource1': { etag: '"strong ETag"', locks: [A] } } }, true],
    ['§10.4.9 weak tag never matches even when the opaque parts are equal',
      `</resource1> (<${A}> [W/"A weak ETag"]) (["strong ETag"])`,
      { requestPath: '/copy-target', resources: { '/resource1': { etag: '"A weak ETag"', locks: [A] } } }, false],
    ['§10.4.10 token of a lock on the parent collection',
      `<http://www.example.com/specs/> (<${A}>)`,
      { requestPath: '/specs/rfc2518.doc', resources: { '/specs': { locks: [A] }, '/specs/rfc2518.doc': { locks: [A] } } }, true],
    ['§10.4.10 collection not locked with that token',
      `<http://www.example.com/specs/> (<${A}>)`,
      { requestPath: '/specs/rfc2518.doc', resources: { '/specs': { locks: [B] } } }, false],
    ['§10.4.11 ETag on an unmapped URL is false', '</specs/rfc2518.doc> (["4217"])',
      { requestPath: '/specs/rfc2518.doc', resources: {} }, false],
    ['§10.4.11 Not ETag on an unmapped URL is true', '</specs/rfc2518.doc> (Not ["4217"])',
      { requestPath: '/specs/rfc2518.doc', resources: {} }, true],
    ['§10.4.11 ETag on a mapped URL', '</specs/rfc2518.doc> (["4217"])',
      { requestPath: '/specs/rfc2518.doc', resources: { '/specs/rfc2518.doc': { etag: '"4217"' } } }, true],
  ])('%s', (_name, value, world, expected) => {
    expect(evaluateIfHeader(parseIfHeader(value) as IfHeader, contextFor(world))).toBe(expected);
  });
});

describe('evaluateIfHeader and submittedLockTokens: litmus locks suite', () => {
  const lockedWorld: World = { requestPath: '/litmus/lockme', resources: { '/litmus/lockme': { etag: E, locks: [T] } } };
  test.each<[string, string, World, boolean, boolean]>([
    // name, header, world, header true?, T submitted?
    ['cond_put (<T> [E])', `(<${T}> [${E}])`, lockedWorld, true, true],
    ['fail_cond_put (<DAV:no-lock> [E])', `(<DAV:no-lock> [${E}])`, lockedWorld, false, false],
    ['cond_put_with_not (<T>) (Not <DAV:no-lock>)', `(<${T}>) (Not <DAV:no-lock>)`, lockedWorld, true, true],
    ['cond_put_corrupt_token (<Tx>) (Not <DAV:no-lock>)', `(<${T}x>) (Not <DAV:no-lock>)`, lockedWorld, true, false],
    ['complex_cond_put', `(<${T}> [${E}]) (Not <DAV:no-lock> [${E}])`, lockedWorld, true, true],
    ['fail_complex_cond_put (<T> [Ebad]) (Not <DAV:no-lock> [Ebad])',
      `(<${T}> [${E_BAD}]) (Not <DAV:no-lock> [${E_BAD}])`, lockedWorld, false, true],
    ['fail_cond_put_unlocked (<DAV:no-lock>)', '(<DAV:no-lock>)',
      { requestPath: '/litmus/lockme', resources: { '/litmus/lockme': { etag: E } } }, false, false],
    ['a Not token still counts as submitted', `(Not <${T}>)`, lockedWorld, false, true],
    ['tagged list naming another resource only', `</litmus/other> (<${T}>)`, lockedWorld, false, true],
    ['tag that resolves to nothing makes its list false', `<ftp://elsewhere/x> (Not <DAV:no-lock>)`, lockedWorld, false, false],
  ])('%s', (_name, value, world, holds, submitted) => {
    const header = parseIfHeader(value) as IfHeader;
    expect(evaluateIfHeader(header, contextFor(world))).toBe(holds);
    expect(submittedLockTokens(header).has(T)).toBe(submitted);
  });

  test('a resource whose lockTokens contain DAV:no-lock still never matches it', () => {
    const world: World = { requestPath: '/r', resources: { '/r': { locks: ['DAV:no-lock'] } } };
    expect(evaluateIfHeader(parseIfHeader('(<DAV:no-lock>)') as IfHeader, contextFor(world))).toBe(false);
  });

  test('a resource with no ETag matches no entity-tag, and Not of it holds', () => {
    const world: World = { requestPath: '/r', resources: { '/r': {} } };
    expect(evaluateIfHeader(parseIfHeader(`([${E}])`) as IfHeader, contextFor(world))).toBe(false);
    expect(evaluateIfHeader(parseIfHeader(`(Not [${E}])`) as IfHeader, contextFor(world))).toBe(true);
  });

  test('stateOf is asked once per path, and only for paths the lists name', () => {
    const asked: string[] = [];
    const world: World = { requestPath: '/r', resources: { '/a': { etag: E }, '/b': {} } };
    const header = parseIfHeader(`</a> ([${E_BAD}]) (Not [${E}]) </b> ([${E}]) <ftp://x/y> ([${E}])`) as IfHeader;
    expect(evaluateIfHeader(header, contextFor(world, asked))).toBe(false);
    expect(asked).toEqual(['/a', '/b']);
  });

  test('evaluation stops at the first true list', () => {
    const asked: string[] = [];
    const world: World = { requestPath: '/r', resources: { '/a': { etag: E } } };
    const header = parseIfHeader(`</a> ([${E}]) </b> ([${E}])`) as IfHeader;
    expect(evaluateIfHeader(header, contextFor(world, asked))).toBe(true);
    expect(asked).toEqual(['/a']);
  });
});

describe('submittedLockTokens', () => {
  test.each<[string | undefined, string[]]>([
    [undefined, []],
    [`([${E}])`, []],
    [`(<${A}>) (Not <${B}> [${E}])`, [A, B]],
    [`</a> (<${A}>) </b> (<${A}> <DAV:no-lock>)`, [A, 'DAV:no-lock']],
  ])('%p -> %p', (value, expected) => {
    expect([...submittedLockTokens(parseIfHeader(value))].sort()).toEqual([...expected].sort());
  });
});
