import { prefersProblemJson } from '../../../src/headers/accept';

describe('prefersProblemJson (RFC 9110 §12.5.1, RFC 9457)', () => {
  test.each<[string | undefined, boolean]>([
    [undefined, false],
    ['', false],
    ['application/problem+json', true],
    ['application/json', true],
    ['APPLICATION/JSON', true],
    ['application/json; charset=utf-8', true],
    ['application/problem+json, application/xml;q=0.5', true],
    ['application/json;q=0.9, text/xml;q=0.8, */*;q=0.1', true],
    ['application/json, application/*;q=0.5', true],
    ['application/json;q=1.0, */*;q=0.999', true],
    // ties and losses
    ['application/json, application/xml', false],
    ['application/problem+json, text/xml', false],
    ['application/json, */*', false],
    ['application/json;q=0.5, application/xml', false],
    ['application/json;q=0.5, */*;q=0.8', false],
    ['application/xml;q=0.1, */*;q=0.9, application/json;q=0.5', false],
    ['application/*', false], // covers XML just as well
    ['*/*', false],
    ['text/xml', false],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', false], // a browser
    ['application/json;q=0', false],
    ['application/json;q=0, application/problem+json;q=0', false],
    // the most specific range decides the weight of application/json
    ['application/*;q=1, application/json;q=0.5', false],
    ['application/json;q=0.5, application/*;q=0.2, text/*;q=0.1', true],
    // elements that are no media range, or carry a bad q, are ignored
    ['application/json;q=2, application/xml;q=0.1', false],
    ['application/json;q=abc', false],
    ['application/json;q=0.8, garbage, text/xml;q=0.5', true],
    ['application/json, *;q=.2', true], // Java's odd "*" is no media range
    ['application/json;q=.9, */*;q=.2', true], // q without a leading zero, tolerated
    ['json', false],
    ['*/json', false],
    ['application/json;q', true], // a "q" parameter without value is not a weight
  ])('%p -> %p', (accept, expected) => {
    expect(prefersProblemJson(accept)).toBe(expected);
  });
});
