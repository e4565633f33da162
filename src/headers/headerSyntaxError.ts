/**
 * Thrown by every parser in src/headers when a request header is present but malformed.
 * The HTTP layer answers 400 (Bad Request) and may show `header` and `detail` to the client.
 */
export class HeaderSyntaxError extends Error {
  constructor(
    readonly header: string,
    readonly detail: string,
  ) {
    super(`malformed ${header} header: ${detail}`);
    this.name = 'HeaderSyntaxError';
  }
}
