/**
 * Which media type an XML answer is labelled with. RFC 4918 §8.2 says clients must accept both
 * `text/xml` and `application/xml`; keepdav answers `application/xml` (RFC 7303 §9.2 prefers it),
 * but nd (libxml2's nanohttp) reads an answer's body only when it is labelled `text/xml`, and treats
 * a 207 labelled otherwise as a failure. So a request that sent its own XML as `text/xml` gets its
 * XML answer labelled `text/xml` too: the same bytes, in the media type the client itself used.
 */
const APPLICATION_XML = /^application\/xml\b/i;
const TEXT_XML = /^\s*text\/xml\b/i;

export function xmlContentTypeFor(requestContentType: string | undefined, responseContentType: string): string {
  if (requestContentType === undefined || !TEXT_XML.test(requestContentType) || !APPLICATION_XML.test(responseContentType)) return responseContentType;
  return responseContentType.replace(APPLICATION_XML, 'text/xml');
}
