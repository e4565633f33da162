import {
  ConditionalHeaders,
  ConditionalOutcome,
  evaluateConditionalHeaders,
  parseEntityTagList,
  ResourceVersion,
} from '../../../src/headers/conditionalRequest';
import { HeaderSyntaxError } from '../../../src/headers/headerSyntaxError';

describe('parseEntityTagList (RFC 9110 §13.1.1-13.1.2)', () => {
  test.each<[string | undefined, '*' | string[] | undefined]>([
    [undefined, undefined],
    ['*', '*'],
    [' * ', '*'],
    ['"abc"', ['"abc"']],
    ['W/"abc"', ['W/"abc"']],
    ['"a", W/"b" ,"c"', ['"a"', 'W/"b"', '"c"']],
    ['"a",,"b",', ['"a"', '"b"']],
    [', "a"', ['"a"']],
    ['""', ['""']],
    ['"a,b"', ['"a,b"']],
    ['"with space"', ['"with space"']],
  ])('%p -> %p', (value, expected) => {
    expect(parseEntityTagList(value)).toEqual(expected);
  });

  test.each([
    '',
    '   ',
    ',',
    'abc',
    '"abc',
    'abc"',
    'w/"abc"',
    'W/abc',
    '*, "a"',
    '"a", *',
    '"a" "b"',
    '"a""b"',
    '"a";"b"',
    '"a\u0001"',
  ])('%p throws', (value) => {
    expect(() => parseEntityTagList(value)).toThrow(HeaderSyntaxError);
  });

  test('the error names the header it was given', () => {
    expect(() => parseEntityTagList('abc', 'If-None-Match')).toThrow(expect.objectContaining({ header: 'If-None-Match' }));
  });
});

const T0 = Date.UTC(2023, 10, 14, 22, 13, 20); // Tue, 14 Nov 2023 22:13:20 GMT
const AT_T0 = 'Tue, 14 Nov 2023 22:13:20 GMT';
const BEFORE_T0 = 'Tue, 14 Nov 2023 22:13:19 GMT';
const AFTER_T0 = 'Tue, 14 Nov 2023 22:13:21 GMT';

const FILE: ResourceVersion = { exists: true, etag: '"v1"', lastModifiedMs: T0 + 500 };
const MISSING: ResourceVersion = { exists: false, etag: null, lastModifiedMs: null };
const NO_DATE: ResourceVersion = { exists: true, etag: '"v1"', lastModifiedMs: null };

const PROCEED: ConditionalOutcome = { kind: 'proceed' };
const NOT_MODIFIED: ConditionalOutcome = { kind: 'not-modified' };
const failed = (header: 'If-Match' | 'If-None-Match' | 'If-Unmodified-Since'): ConditionalOutcome => ({
  kind: 'precondition-failed',
  header,
});

describe('evaluateConditionalHeaders (RFC 9110 §13.2.2 order)', () => {
  test.each<[string, ConditionalHeaders, ResourceVersion, string, ConditionalOutcome]>([
    ['no conditions', {}, FILE, 'PUT', PROCEED],
    // step 1: If-Match, strong comparison
    ['If-Match current tag', { ifMatch: '"v1"' }, FILE, 'PUT', PROCEED],
    ['If-Match one of several', { ifMatch: '"v0", "v1"' }, FILE, 'PUT', PROCEED],
    ['If-Match stale tag', { ifMatch: '"v0"' }, FILE, 'PUT', failed('If-Match')],
    ['If-Match weak tag never matches', { ifMatch: 'W/"v1"' }, FILE, 'PUT', failed('If-Match')],
    ['If-Match against a weak current tag', { ifMatch: '"v1"' }, { ...FILE, etag: 'W/"v1"' }, 'PUT', failed('If-Match')],
    ['If-Match * on existing', { ifMatch: '*' }, FILE, 'PUT', PROCEED],
    ['If-Match * on missing', { ifMatch: '*' }, MISSING, 'PUT', failed('If-Match')],
    ['If-Match tag on missing', { ifMatch: '"v1"' }, MISSING, 'PUT', failed('If-Match')],
    ['If-Match on a resource without ETag', { ifMatch: '"v1"' }, { ...FILE, etag: null }, 'PUT', failed('If-Match')],
    ['If-Match false on GET is 412 too', { ifMatch: '"v0"' }, FILE, 'GET', failed('If-Match')],
    // step 2: If-Unmodified-Since only without If-Match
    ['If-Unmodified-Since same second', { ifUnmodifiedSince: AT_T0 }, FILE, 'PUT', PROCEED],
    ['If-Unmodified-Since later', { ifUnmodifiedSince: AFTER_T0 }, FILE, 'PUT', PROCEED],
    ['If-Unmodified-Since earlier', { ifUnmodifiedSince: BEFORE_T0 }, FILE, 'PUT', failed('If-Unmodified-Since')],
    ['If-Unmodified-Since ignored under If-Match', { ifMatch: '"v1"', ifUnmodifiedSince: BEFORE_T0 }, FILE, 'PUT', PROCEED],
    ['If-Unmodified-Since invalid date ignored', { ifUnmodifiedSince: 'yesterday' }, FILE, 'PUT', PROCEED],
    ['If-Unmodified-Since on missing ignored', { ifUnmodifiedSince: BEFORE_T0 }, MISSING, 'PUT', PROCEED],
    ['If-Unmodified-Since without a date ignored', { ifUnmodifiedSince: BEFORE_T0 }, NO_DATE, 'PUT', PROCEED],
    // step 3: If-None-Match, weak comparison
    ['If-None-Match * on missing (create only)', { ifNoneMatch: '*' }, MISSING, 'PUT', PROCEED],
    ['If-None-Match * on existing PUT', { ifNoneMatch: '*' }, FILE, 'PUT', failed('If-None-Match')],
    ['If-None-Match * on existing LOCK', { ifNoneMatch: '*' }, FILE, 'lock', failed('If-None-Match')],
    ['If-None-Match * on existing GET', { ifNoneMatch: '*' }, FILE, 'GET', NOT_MODIFIED],
    ['If-None-Match current tag GET', { ifNoneMatch: '"v1"' }, FILE, 'GET', NOT_MODIFIED],
    ['If-None-Match current tag HEAD', { ifNoneMatch: '"v1"' }, FILE, 'HEAD', NOT_MODIFIED],
    ['If-None-Match current tag lower-case get', { ifNoneMatch: '"v1"' }, FILE, 'get', NOT_MODIFIED],
    ['If-None-Match weak form matches weakly', { ifNoneMatch: 'W/"v1"' }, FILE, 'GET', NOT_MODIFIED],
    ['If-None-Match current tag DELETE', { ifNoneMatch: '"v1"' }, FILE, 'DELETE', failed('If-None-Match')],
    ['If-None-Match other tag', { ifNoneMatch: '"v0"' }, FILE, 'GET', PROCEED],
    ['If-None-Match tag on missing', { ifNoneMatch: '"v1"' }, MISSING, 'PUT', PROCEED],
    ['If-Match passes, If-None-Match fails', { ifMatch: '"v1"', ifNoneMatch: '"v1"' }, FILE, 'PUT', failed('If-None-Match')],
    ['If-Match fails before If-None-Match', { ifMatch: '"v0"', ifNoneMatch: '"v1"' }, FILE, 'GET', failed('If-Match')],
    ['If-Unmodified-Since fails before If-None-Match', { ifUnmodifiedSince: BEFORE_T0, ifNoneMatch: '"v1"' }, FILE, 'GET', failed('If-Unmodified-Since')],
    // step 4: If-Modified-Since, GET/HEAD only, only without If-None-Match
    ['If-Modified-Since same second', { ifModifiedSince: AT_T0 }, FILE, 'GET', NOT_MODIFIED],
    ['If-Modified-Since later', { ifModifiedSince: AFTER_T0 }, FILE, 'HEAD', NOT_MODIFIED],
    ['If-Modified-Since earlier', { ifModifiedSince: BEFORE_T0 }, FILE, 'GET', PROCEED],
    ['If-Modified-Since ignored on PUT', { ifModifiedSince: AFTER_T0 }, FILE, 'PUT', PROCEED],
    ['If-Modified-Since ignored on PROPFIND', { ifModifiedSince: AFTER_T0 }, FILE, 'PROPFIND', PROCEED],
    ['If-Modified-Since invalid date ignored', { ifModifiedSince: '2023-11-14' }, FILE, 'GET', PROCEED],
    ['If-Modified-Since on missing ignored', { ifModifiedSince: AFTER_T0 }, MISSING, 'GET', PROCEED],
    ['If-Modified-Since ignored under If-None-Match', { ifNoneMatch: '"v0"', ifModifiedSince: AFTER_T0 }, FILE, 'GET', PROCEED],
    ['Finder: GET with If-Modified-Since of Last-Modified', { ifModifiedSince: AT_T0 }, { ...FILE, lastModifiedMs: T0 }, 'GET', NOT_MODIFIED],
  ])('%s', (_name, headers, version, method, expected) => {
    expect(evaluateConditionalHeaders(headers, version, method)).toEqual(expected);
  });

  test.each<[string, ConditionalHeaders]>([
    ['malformed If-Match', { ifMatch: 'v1' }],
    ['malformed If-None-Match', { ifNoneMatch: '"v1' }],
    ['malformed If-None-Match even when If-Match already fails', { ifMatch: '"v0"', ifNoneMatch: 'v1' }],
    ['empty If-Match', { ifMatch: '' }],
  ])('%s throws HeaderSyntaxError', (_name, headers) => {
    expect(() => evaluateConditionalHeaders(headers, FILE, 'PUT')).toThrow(HeaderSyntaxError);
  });
});
