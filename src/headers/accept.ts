/**
 * Just enough of Accept (RFC 9110 §12.5.1) to choose between our two error formats:
 * an XML `<D:error>` body (the default) and `application/problem+json` (RFC 9457).
 *
 *   Accept       = #( media-range [ weight ] )
 *   media-range  = ( "*\/*" / ( type "/" "*" ) / ( type "/" subtype ) ) parameters
 *   weight       = OWS ";" OWS "q=" qvalue
 */

interface MediaRange {
  type: string; // lower-cased, "*" for a wildcard
  subtype: string;
  q: number;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** qvalue, read tolerantly: "0.5", "1", also ".5" as some clients write it. */
const QVALUE = /^(?:\d+(?:\.\d*)?|\.\d+)$/;

/** One element of the list, or null when it is not a media range with a usable weight. */
function parseMediaRange(element: string): MediaRange | null {
  const [mediaType, ...parameters] = element.split(';').map((part) => part.trim());
  const slash = mediaType.indexOf('/');
  const type = mediaType.slice(0, slash).toLowerCase();
  const subtype = mediaType.slice(slash + 1).toLowerCase();
  if (slash < 0 || !TOKEN.test(type) || !TOKEN.test(subtype)) return null;
  if (type === '*' && subtype !== '*') return null;
  let q = 1;
  for (const parameter of parameters) {
    const eq = parameter.indexOf('=');
    if (eq < 0) continue;
    if (parameter.slice(0, eq).trim().toLowerCase() !== 'q') continue;
    const value = parameter.slice(eq + 1).trim();
    q = QVALUE.test(value) ? Number(value) : NaN;
    if (!(q >= 0 && q <= 1)) return null;
  }
  return { type, subtype, q };
}

/**
 * The weight the client gives `type/subtype`: that of the most specific matching range
 * (exact, then type/*, then *\/*; RFC 9110 §12.5.1), the highest if several are equally
 * specific; 0 when nothing matches.
 */
function weightOf(mediaType: string, ranges: MediaRange[]): number {
  const [type, subtype] = mediaType.split('/');
  let bestSpecificity = -1;
  let weight = 0;
  for (const range of ranges) {
    const specificity =
      range.type === type && range.subtype === subtype ? 2 : range.type === type && range.subtype === '*' ? 1 : range.type === '*' ? 0 : -1;
    if (specificity < 0 || specificity < bestSpecificity) continue;
    weight = specificity > bestSpecificity ? range.q : Math.max(weight, range.q);
    bestSpecificity = specificity;
  }
  return weight;
}

/**
 * True when the Accept header weighs `application/problem+json` or `application/json`
 * strictly higher than every XML type (`application/xml`, `text/xml`) and than `*\/*`, so that
 * an error is better sent as RFC 9457 problem details than as a DAV:error body.
 * Returns false for an absent header, a tie, or nothing JSON-specific; elements that are not
 * media ranges or carry an invalid q are ignored. Never throws.
 */
export function prefersProblemJson(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  const ranges = accept
    .split(',')
    .map((element) => parseMediaRange(element.trim()))
    .filter((range): range is MediaRange => range !== null);
  const json = Math.max(weightOf('application/problem+json', ranges), weightOf('application/json', ranges));
  const anything = Math.max(0, ...ranges.filter((r) => r.type === '*').map((r) => r.q));
  const xml = Math.max(weightOf('application/xml', ranges), weightOf('text/xml', ranges), anything);
  return json > xml;
}
