/**
 * Seeded random WebDAV requests, most of them wrong in some way: unknown methods, request-targets
 * that escape or cannot be decoded, headers with junk values (Depth, Destination, If, Lock-Token,
 * Timeout, validators, Range, X-OC-Mtime, OC-Checksum...), XML bodies mutated or cut, entity and
 * nesting bombs, and bodies shorter or longer than their Content-Length or chunked. Each request is
 * raw bytes for its own connection (`Connection: close`), so framing errors reach the server as sent.
 *
 * Usage:
 *   const next = malformedRequests(port, seed);
 *   const { raw, summary } = next();
 */
import { mulberry32 } from './seededRandom';

export interface MalformedRequest {
  raw: Buffer;
  /** The request line and headers, for a failure message. */
  summary: string;
}

const METHODS = ['GET', 'HEAD', 'PUT', 'DELETE', 'MKCOL', 'COPY', 'MOVE', 'PROPFIND', 'PROPPATCH', 'LOCK', 'UNLOCK', 'OPTIONS', 'POST', 'PATCH', 'TRACE', 'SEARCH', 'get', 'X'.repeat(50)];
const PATHS = [
  '/', '/a', '/a/', '/a/b.txt', '/d/', '/d/e/', '/d/e/f.txt', '/new', '/new/x', '/%2e%2e/outside', '/a%00b', '/%ff%fe', '/../outside', '/a/../../outside',
  '/' + 'x'.repeat(300), '/' + 'y/'.repeat(200), '/a//b', '/.keepdav-tmp-1', '/d/.keepdav-x', '/a?x=1', '/a#f', '/%E2%82%AC', '/%', '/%zz', '/a%2fb',
  '/a%5cb', '*', 'http://127.0.0.1/a', 'http://elsewhere.example/a', '/d/e/f.txt/', '/a.txt?version=1', '/d?trash', '/a b', '/a\tb',
];
const XML_BODIES = [
  '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>',
  '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:lockdiscovery/><D:quota-used-bytes/><x:y xmlns:x="urn:x"/></D:prop></D:propfind>',
  '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>',
  '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop><Z:a>1</Z:a><D:getetag>x</D:getetag></D:prop></D:set><D:remove><D:prop><Z:b/></D:prop></D:remove></D:propertyupdate>',
  '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>me</D:owner></D:lockinfo>',
  '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>',
  '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><D:propfind xmlns:D="DAV:"><D:prop>&b;</D:prop></D:propfind>',
  '<D:propfind xmlns:D="DAV:">' + '<a>'.repeat(2000) + '</D:propfind>',
  '<?xml version="1.0" encoding="ISO-8859-1"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>',
  '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x xmlns="">' + 'v'.repeat(5000) + '</x></D:prop></D:set></D:propertyupdate>',
  '', 'hello', '\u0000\u0001\u00ff', '<a', '<?xml version="1.0"?><x:y xmlns:x="DAV:"/>', '<D:propfind xmlns:D="DAV:"><D:prop xmlns:D="urn:other"/></D:propfind>',
];

export function malformedRequests(port: number, seed: number): () => MalformedRequest {
  const random = mulberry32(seed); // the same seed gives the same requests
  const pick = <T>(from: readonly T[]): T => from[Math.floor(random() * from.length)];
  const junk = (): string => {
    let s = '';
    for (let n = Math.floor(random() * 40); n > 0; n--) s += String.fromCharCode(32 + Math.floor(random() * 95));
    return s;
  };
  const token = () => `opaquelocktoken:${pick(['00000000-0000-0000-0000-000000000000', 'abc', '', 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6'])}`;
  const origin = `http://127.0.0.1:${port}`;
  const headerValues: Record<string, () => string> = {
    Depth: () => pick(['0', '1', 'infinity', 'Infinity', '2', '-1', '', junk()]),
    Destination: () => pick([origin + pick(PATHS), pick(PATHS), 'http://elsewhere.example' + pick(PATHS), 'ftp://x/', '', junk(), origin + '/%2e%2e/outside', 'http://[::1/', origin]),
    Overwrite: () => pick(['T', 'F', 't', 'x', '']),
    If: () => pick([`(<${token()}>)`, `<${origin}/a> (<${token()}> ["x"])`, '(Not <DAV:no-lock>)', '(["etag"])', '(', '<a>', '(<x> (<y>)', junk(), `(Not <${token()}> Not ["x"])`, '<>()']),
    'Lock-Token': () => pick([`<${token()}>`, token(), '<>', junk()]),
    Timeout: () => pick(['Second-100', 'Infinite', 'Second-99999999999999999', 'Second--1', 'Infinite, Second-4100000000', junk()]),
    'If-Match': () => pick(['*', '"x"', 'W/"x"', '"a", "b"', junk(), '']),
    'If-None-Match': () => pick(['*', '"x"', 'W/"x"', junk()]),
    'If-Modified-Since': () => pick(['Sun, 06 Nov 1994 08:49:37 GMT', 'Sunday, 06-Nov-94 08:49:37 GMT', junk(), 'Sat, 01 Jan 3000 00:00:00 GMT']),
    'If-Unmodified-Since': () => pick(['Sun, 06 Nov 1994 08:49:37 GMT', junk(), 'Sat, 01 Jan 3000 00:00:00 GMT']),
    'If-Range': () => pick(['"x"', 'Sun, 06 Nov 1994 08:49:37 GMT', junk()]),
    Range: () => pick(['bytes=0-1', 'bytes=-5', 'bytes=5-', 'bytes=0-0,2-3,1-1', 'bytes=9999999999999999999-', 'bytes=-0', 'bytes=3-1', 'items=1-2', 'bytes=' + '0-1,'.repeat(300), junk()]),
    'Content-Range': () => pick(['bytes 0-1/2', 'bytes */5', 'bytes 0-0/*', junk()]),
    'Content-Type': () => pick(['application/xml', 'text/xml; charset=utf-8', 'text/plain', 'application/xml; charset=latin1', 'application/json', junk()]),
    'X-OC-Mtime': () => pick(['1700000000', '0', '-5', '1e20', '99999999999999', 'abc', '1700000000.5', '']),
    'OC-Checksum': () => pick(['SHA1:da39a3ee5e6b4b0d3255bfef95601890afd80709', 'MD5:0', 'SHA256:x', junk()]),
    Accept: () => pick(['application/problem+json', 'application/json', '*/*', 'text/html', junk()]),
    Authorization: () => pick(['Basic ' + Buffer.from('a:b').toString('base64'), 'Basic !!!', 'Bearer x', 'Basic ', junk()]),
    'X-Forwarded-For': () => pick(['1.2.3.4', 'junk', '::1', '']),
    Expect: () => pick(['100-continue', 'x']),
  };
  const headerNames = Object.keys(headerValues);
  const mutated = (text: string): Buffer => {
    const bytes = Buffer.from(text);
    if (bytes.length === 0 || random() < 0.5) return bytes;
    for (let n = Math.floor(random() * 4); n > 0; n--) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
    return random() < 0.3 ? bytes.subarray(0, Math.floor(random() * bytes.length)) : bytes;
  };

  return () => {
    const method = pick(METHODS);
    const lines = [`${method} ${pick(PATHS)} ${pick(['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/x'])}`, `Host: 127.0.0.1:${port}`, 'Connection: close'];
    for (let n = Math.floor(random() * 5); n > 0; n--) {
      const name = pick(headerNames);
      lines.push(`${name}: ${headerValues[name]()}`);
    }
    let body = random() < 0.6 ? mutated(pick(XML_BODIES)) : Buffer.alloc(0);
    if (method === 'PUT' && random() < 0.5) body = Buffer.from(`file content ${random()}`);
    const framing = random();
    let raw: Buffer;
    if (framing < 0.8) {
      lines.push(`Content-Length: ${body.length}`);
      raw = Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), body]);
    } else if (framing < 0.9) {
      lines.push('Transfer-Encoding: chunked');
      const chunked = body.length === 0 ? [Buffer.from('0\r\n\r\n')] : [Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')];
      raw = Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), ...chunked]);
    } else {
      // A body shorter or longer than the Content-Length it states.
      lines.push(`Content-Length: ${Math.max(0, body.length + (random() < 0.5 ? 5 : -1))}`);
      raw = Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), body]);
    }
    return { raw, summary: [lines[0], ...lines.slice(3)].join(' | ') };
  };
}
