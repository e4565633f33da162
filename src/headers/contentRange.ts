/**
 * True when a Content-Range header is present with a non-blank value. A PUT carrying one asks
 * for a partial update, which we do not support: RFC 9110 §14.4 says an origin server that
 * does not support partial PUT MUST answer 400 rather than store the part as the whole.
 */
export function hasContentRange(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== '';
}
