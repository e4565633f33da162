import { el, OutElement, renderXmlDocument } from '../../../src/xml/build';
import { parseXmlDocument } from '../../../src/xml/parse';
import { serializeElement } from '../../../src/xml/serialize';
import { childElements, DAV_NS, findChild, textOf, XML_NS, XmlElement } from '../../../src/xml/tree';

const DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n';

/** Returns the root element without its prefix-free text, for structural comparison. */
function shape(e: XmlElement): unknown {
  return {
    name: `{${e.ns}}${e.local}`,
    attributes: e.attributes.map((a) => `{${a.ns}}${a.local}=${a.value}`),
    children: e.children.map((c) => ('text' in c ? c.text : shape(c))),
  };
}

describe('renderXmlDocument', () => {
  test.each<[string, OutElement, Record<string, string> | undefined, string]>([
    ['empty DAV: element', el(DAV_NS, 'multistatus'), undefined, '<D:multistatus xmlns:D="DAV:"/>'],
    [
      'nested DAV: elements and text',
      el(DAV_NS, 'response', el(DAV_NS, 'href', '/a b/'), el(DAV_NS, 'status', 'HTTP/1.1 200 OK')),
      undefined,
      '<D:response xmlns:D="DAV:"><D:href>/a b/</D:href><D:status>HTTP/1.1 200 OK</D:status></D:response>',
    ],
    [
      'other namespaces get generated prefixes in order of first use, declared on the root',
      el(DAV_NS, 'prop', el('urn:b', 'x'), el('urn:a', 'y', el('urn:b', 'z'))),
      undefined,
      '<D:prop xmlns:D="DAV:" xmlns:ns1="urn:b" xmlns:ns2="urn:a"><ns1:x/><ns2:y><ns1:z/></ns2:y></D:prop>',
    ],
    [
      'prefixes chosen by the caller',
      el(DAV_NS, 'error', el('https://keepdav.dev/ns', 'code', 'E1')),
      { 'https://keepdav.dev/ns': 'k' },
      '<D:error xmlns:D="DAV:" xmlns:k="https://keepdav.dev/ns"><k:code>E1</k:code></D:error>',
    ],
    [
      'a requested prefix is not declared when its namespace is unused',
      el(DAV_NS, 'prop'),
      { 'urn:unused': 'u' },
      '<D:prop xmlns:D="DAV:"/>',
    ],
    [
      'generated prefixes skip those the caller reserved',
      el(DAV_NS, 'prop', el('urn:x', 'a'), el('urn:y', 'b')),
      { 'urn:y': 'ns1' },
      '<D:prop xmlns:D="DAV:" xmlns:ns2="urn:x" xmlns:ns1="urn:y"><ns2:a/><ns1:b/></D:prop>',
    ],
    [
      'the caller may rename DAV:',
      el(DAV_NS, 'prop'),
      { 'DAV:': 'd' },
      '<d:prop xmlns:d="DAV:"/>',
    ],
    [
      'empty namespace is unprefixed and no default namespace is declared',
      el(DAV_NS, 'prop', el('', 'plain', 'v')),
      undefined,
      '<D:prop xmlns:D="DAV:"><plain>v</plain></D:prop>',
    ],
    ['root in no namespace', el('', 'root', el('', 'a')), undefined, '<root><a/></root>'],
    [
      'escaping of text',
      el(DAV_NS, 'href', `a&b<c>d"e'f]]>g\rh`),
      undefined,
      `<D:href xmlns:D="DAV:">a&amp;b&lt;c&gt;d"e'f]]&gt;g&#13;h</D:href>`,
    ],
    [
      'escaping of attributes',
      { ns: DAV_NS, local: 'x', attrs: { a: 'q"<&>\t\n', 'xml:lang': 'en' } },
      undefined,
      '<D:x xmlns:D="DAV:" a="q&quot;&lt;&amp;&gt;&#9;&#10;" xml:lang="en"/>',
    ],
    [
      'characters XML 1.0 forbids become U+FFFD',
      el(DAV_NS, 'displayname', 'a\u0000b\u0007c\u001Fd\uD800e\uDC00f\uFFFEg\uFFFF'),
      undefined,
      '<D:displayname xmlns:D="DAV:">a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFDf\uFFFDg\uFFFD</D:displayname>',
    ],
    [
      'allowed characters are kept: tab, newline, surrogate pairs, U+FFFD',
      el(DAV_NS, 'displayname', 'a\tb\nc\u{1F600}\uFFFD'),
      undefined,
      '<D:displayname xmlns:D="DAV:">a\tb\nc\u{1F600}\uFFFD</D:displayname>',
    ],
    [
      'raw fragments are inserted verbatim',
      el(DAV_NS, 'prop', { raw: '<ns1:x xmlns:ns1="urn:x">1</ns1:x>' }),
      undefined,
      '<D:prop xmlns:D="DAV:"><ns1:x xmlns:ns1="urn:x">1</ns1:x></D:prop>',
    ],
    ['empty children list is a self-closing tag', { ns: DAV_NS, local: 'collection', children: [] }, undefined, '<D:collection xmlns:D="DAV:"/>'],
  ])('%s', (_name, root, prefixes, body) => {
    const written = renderXmlDocument(root, prefixes);
    expect(written).toBe(DECLARATION + body);
    expect(written).not.toMatch(/xmlns="/);
    expect(() => parseXmlDocument(written)).not.toThrow();
  });

  test('a multistatus reads back with the names, text and attributes written', () => {
    const written = renderXmlDocument(
      el(
        DAV_NS,
        'multistatus',
        el(
          DAV_NS,
          'response',
          el(DAV_NS, 'href', '/dir/a&b.txt'),
          el(
            DAV_NS,
            'propstat',
            el(DAV_NS, 'prop', el(DAV_NS, 'getcontentlength', '12'), { ns: 'urn:z', local: 'note', attrs: { 'xml:lang': 'en' }, children: ['x < y'] }),
            el(DAV_NS, 'status', 'HTTP/1.1 200 OK'),
          ),
        ),
      ),
    );
    const root = parseXmlDocument(written);
    expect(shape(root)).toEqual({
      name: '{DAV:}multistatus',
      attributes: [],
      children: [
        {
          name: '{DAV:}response',
          attributes: [],
          children: [
            { name: '{DAV:}href', attributes: [], children: ['/dir/a&b.txt'] },
            {
              name: '{DAV:}propstat',
              attributes: [],
              children: [
                {
                  name: '{DAV:}prop',
                  attributes: [],
                  children: [
                    { name: '{DAV:}getcontentlength', attributes: [], children: ['12'] },
                    { name: '{urn:z}note', attributes: [`{${XML_NS}}lang=en`], children: ['x < y'] },
                  ],
                },
                { name: '{DAV:}status', attributes: [], children: ['HTTP/1.1 200 OK'] },
              ],
            },
          ],
        },
      ],
    });
  });

  test('a stored dead property comes back exactly as sent inside a response', () => {
    const sent = parseXmlDocument('<x:p xmlns:x="urn:x" xmlns:D="urn:not-dav" D:a="1"><D:q>  v \u{1F600} </D:q><r xmlns="">t</r></x:p>');
    const written = renderXmlDocument(el(DAV_NS, 'prop', { raw: serializeElement(sent) }));
    const prop = parseXmlDocument(written);
    expect(childElements(prop)).toEqual([sent]);
  });

  test('a stored value that uses the prefix D for another namespace is not confused with DAV:', () => {
    const sent = parseXmlDocument('<D:p xmlns:D="urn:other"/>');
    const stored = serializeElement(sent);
    const prop = parseXmlDocument(renderXmlDocument(el(DAV_NS, 'prop', { raw: stored })));
    expect(childElements(prop)[0]).toEqual({ ns: 'urn:other', local: 'p', attributes: [], children: [] });
  });

  test.each<[string, () => string]>([
    ['prefix that is not a name', () => renderXmlDocument(el('urn:x', 'a'), { 'urn:x': '1x' })],
    ['prefix with a colon', () => renderXmlDocument(el('urn:x', 'a'), { 'urn:x': 'a:b' })],
    ['prefix starting with xml', () => renderXmlDocument(el('urn:x', 'a'), { 'urn:x': 'xmlfoo' })],
    ['prefix asked for two namespaces', () => renderXmlDocument(el('urn:x', 'a'), { 'urn:x': 'p', 'urn:y': 'p' })],
    ['attribute named xmlns', () => renderXmlDocument({ ns: '', local: 'a', attrs: { xmlns: 'urn:x' } })],
    ['attribute declaring a prefix', () => renderXmlDocument({ ns: '', local: 'a', attrs: { 'xmlns:p': 'urn:x' } })],
    ['attribute with a space', () => renderXmlDocument({ ns: '', local: 'a', attrs: { 'a b': '1' } })],
  ])('refuses: %s', (_name, render) => {
    expect(render).toThrow(TypeError);
  });

  test('a PROPFIND-sized document (15,000+ elements) renders with two namespace declarations and reads back whole', () => {
    const responses: OutElement[] = [];
    for (let i = 0; i < 1000; i++) {
      responses.push(
        el(
          DAV_NS,
          'response',
          el(DAV_NS, 'href', `/dir/file-${i}.txt`),
          el(
            DAV_NS,
            'propstat',
            el(
              DAV_NS,
              'prop',
              el(DAV_NS, 'displayname', `file ${i} & co`),
              el(DAV_NS, 'getcontentlength', String(i * 7)),
              el(DAV_NS, 'getlastmodified', 'Mon, 12 Jan 1998 09:25:56 GMT'),
              el(DAV_NS, 'getetag', `"${i}-abc"`),
              el(DAV_NS, 'resourcetype'),
              el(DAV_NS, 'creationdate', '1997-12-01T17:42:21-08:00'),
              el('http://example.com/ns', 'color', 'blue'),
              el(DAV_NS, 'getcontenttype', 'text/plain'),
              el(DAV_NS, 'supportedlock'),
            ),
            el(DAV_NS, 'status', 'HTTP/1.1 200 OK'),
          ),
        ),
      );
    }
    const root = { ns: DAV_NS, local: 'multistatus', children: responses };
    // Speed is the benchmark's business (scripts/bench.ts), never a timed unit test: this checks the large document is right.
    const written = renderXmlDocument(root);
    const parsed = parseXmlDocument(written, { maxElements: 20_000 });
    expect(childElements(parsed)).toHaveLength(1000);
    const last = childElements(parsed)[999];
    expect(textOf(findChild(last, DAV_NS, 'href') as XmlElement)).toBe('/dir/file-999.txt');
    expect(written.match(/xmlns:/g)).toHaveLength(2);
  });
});
