/**
 * The one error the XML layer throws. `kind` tells the HTTP layer which status to answer
 * (RFC 4918 §11.2, semantics.md):
 * - 'malformed'     not well-formed XML, bad encoding, namespace errors        => 400
 * - 'forbidden'     well-formed but refused on principle (DOCTYPE, entities)   => 400
 * - 'too-large'     more elements or deeper nesting than the configured limits => 413
 * - 'unprocessable' well-formed but meaningless as the request body it claims to be => 422
 *                   (the caller may choose 400 where the RFC or litmus asks for it)
 */
export type XmlErrorKind = 'malformed' | 'forbidden' | 'too-large' | 'unprocessable';

export class XmlError extends Error {
  constructor(
    readonly kind: XmlErrorKind,
    readonly detail: string,
  ) {
    super(`${kind} XML: ${detail}`);
    this.name = 'XmlError';
  }
}
