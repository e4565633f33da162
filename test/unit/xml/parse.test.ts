import { parseXmlDocument } from '../../../src/xml/parse';
import { childElements, DAV_NS, findChild, isElement, textOf, XML_NS, XmlElement, XmlNode } from '../../../src/xml/tree';
import { XmlError, XmlErrorKind } from '../../../src/xml/xmlError';

/** Builds an expected element. */
function E(ns: string, local: string, children: XmlNode[] = [], attributes: XmlElement['attributes'] = []): XmlElement {
  return { ns, local, attributes, children };
}
const T = (text: string): XmlNode => ({ text });

function kindOf(run: () => unknown): XmlErrorKind | 'no error' | 'other error' {
  try {
    run();
    return 'no error';
  } catch (err) {
    return err instanceof XmlError ? err.kind : 'other error';
  }
}

describe('parseXmlDocument accepts and resolves namespaces', () => {
  const cases: Array<[string, string, XmlElement]> = [
    ['unprefixed, no namespace', '<a/>', E('', 'a')],
    ['prefixed DAV:', '<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>', E(DAV_NS, 'propfind', [E(DAV_NS, 'allprop')])],
    ['default namespace applies to children', '<propfind xmlns="DAV:"><prop/></propfind>', E(DAV_NS, 'propfind', [E(DAV_NS, 'prop')])],
    [
      'default namespace does not apply to unprefixed attributes',
      '<a xmlns="urn:x" b="1"/>',
      E('urn:x', 'a', [], [{ ns: '', local: 'b', value: '1' }]),
    ],
    [
      'prefixed attribute takes its prefix namespace',
      '<a xmlns:p="urn:p" p:b="1"/>',
      E('', 'a', [], [{ ns: 'urn:p', local: 'b', value: '1' }]),
    ],
    ['xmlns="" undeclares the default', '<a xmlns="urn:x"><b xmlns=""><c/></b></a>', E('urn:x', 'a', [E('', 'b', [E('', 'c')])])],
    [
      'inner declaration shadows outer prefix',
      '<p:a xmlns:p="urn:1"><p:b xmlns:p="urn:2"/><p:c/></p:a>',
      E('urn:1', 'a', [E('urn:2', 'b'), E('urn:1', 'c')]),
    ],
    [
      'same namespace under two prefixes is one namespace',
      '<x:a xmlns:x="DAV:" xmlns:y="DAV:"><y:b/></x:a>',
      E(DAV_NS, 'a', [E(DAV_NS, 'b')]),
    ],
    ['xml: prefix is predefined', '<a xml:lang="en"/>', E('', 'a', [], [{ ns: XML_NS, local: 'lang', value: 'en' }])],
    ['declaring xml: to its own name is allowed', `<a xmlns:xml="${XML_NS}" xml:space="preserve"/>`, E('', 'a', [], [{ ns: XML_NS, local: 'space', value: 'preserve' }])],
    [
      'names like Object.prototype members are ordinary names',
      '<__proto__ constructor="1" __proto__="2" toString="3"><constructor/><toString>x</toString><hasOwnProperty/><prototype/><valueOf/></__proto__>',
      E(
        '',
        '__proto__',
        [E('', 'constructor'), E('', 'toString', [T('x')]), E('', 'hasOwnProperty'), E('', 'prototype'), E('', 'valueOf')],
        [
          { ns: '', local: 'constructor', value: '1' },
          { ns: '', local: '__proto__', value: '2' },
          { ns: '', local: 'toString', value: '3' },
        ],
      ),
    ],
    ['prefixed __proto__', '<p:__proto__ xmlns:p="urn:p"/>', E('urn:p', '__proto__')],
    ['text keeps whitespace', '<a>  \n\t x  </a>', E('', 'a', [T('  \n\t x  ')])],
    ['whitespace-only text between elements is kept', '<a>\n  <b/>\n</a>', E('', 'a', [T('\n  '), E('', 'b'), T('\n')])],
    ['&amp; decoded exactly once', '<a>&amp;lt;&amp;amp;</a>', E('', 'a', [T('&lt;&amp;')])],
    ['the five predefined entities', '<a>&lt;&gt;&amp;&quot;&apos;</a>', E('', 'a', [T('<>&"\'')])],
    ['numeric references', '<a>&#65;&#x42;&#x1F600;&#128512;</a>', E('', 'a', [T('AB\u{1F600}\u{1F600}')])],
    ['high Unicode kept', '<a>\u{1F600}é中</a>', E('', 'a', [T('\u{1F600}é中')])],
    ['CDATA becomes literal text', '<a><![CDATA[&amp; <b>]]></a>', E('', 'a', [T('&amp; <b>')])],
    ['CDATA next to text merges', '<a>x<![CDATA[y]]>z</a>', E('', 'a', [T('xyz')])],
    ['empty CDATA adds nothing', '<a><![CDATA[]]></a>', E('', 'a')],
    ['comments and PIs dropped, text merged', '<a>x<!-- c --><?pi data?>y</a>', E('', 'a', [T('xy')])],
    ['CRLF becomes LF (XML 1.0 §2.11)', '<a>x\r\ny\rz</a>', E('', 'a', [T('x\ny\nz')])],
    ['&#13; survives as CR', '<a>x&#13;y</a>', E('', 'a', [T('x\ry')])],
    [
      'attribute whitespace normalized, references kept (XML 1.0 §3.3.3)',
      '<a b="x\ty\nz&#10;&#9;&amp;"/>',
      E('', 'a', [], [{ ns: '', local: 'b', value: 'x y z\n\t&' }]),
    ],
    ["single-quoted attribute with > and \"", `<a b='1>"2'/>`, E('', 'a', [], [{ ns: '', local: 'b', value: '1>"2' }])],
    [
      'declaration, comments and whitespace around the root',
      '<?xml version="1.0" encoding="utf-8"?>\n<!-- before --><a/>\n<!-- after -->\n',
      E('', 'a'),
    ],
    ['end tag with space', '<a>t</a >', E('', 'a', [T('t')])],
    ['attribute order kept', '<a z="1" a="2" m="3"/>', E('', 'a', [], [
      { ns: '', local: 'z', value: '1' },
      { ns: '', local: 'a', value: '2' },
      { ns: '', local: 'm', value: '3' },
    ])],
    ['"DOCTYPE" inside CDATA is just text', '<a><![CDATA[<!DOCTYPE x>]]></a>', E('', 'a', [T('<!DOCTYPE x>')])],
    ['a U+FEFF character in a string is a BOM', '\uFEFF<a/>', E('', 'a')],
  ];
  test.each(cases)('%s', (_name, input, expected) => {
    expect(parseXmlDocument(input)).toEqual(expected);
  });

  test('parsing prototype names pollutes nothing', () => {
    parseXmlDocument('<__proto__><polluted>yes</polluted></__proto__>');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('parseXmlDocument decodes bytes', () => {
  const cases: Array<[string, Buffer, XmlElement]> = [
    ['UTF-8', Buffer.from('<a>\u{1F600}é</a>', 'utf8'), E('', 'a', [T('\u{1F600}é')])],
    ['UTF-8 with BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<a>é</a>')]), E('', 'a', [T('é')])],
    ['UTF-16LE with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<a>\u{1F600}</a>', 'utf16le')]), E('', 'a', [T('\u{1F600}')])],
    [
      'UTF-16BE with BOM',
      Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('<a>é</a>', 'utf16le').swap16()]),
      E('', 'a', [T('é')]),
    ],
    [
      'declared ISO-8859-1',
      Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><a>\u00e9</a>', 'latin1'),
      E('', 'a', [T('é')]),
    ],
    ['declared UTF-8 in capitals', Buffer.from("<?xml version='1.0' encoding='UTF-8'?><a>é</a>"), E('', 'a', [T('é')])],
  ];
  test.each(cases)('%s', (_name, input, expected) => {
    expect(parseXmlDocument(input)).toEqual(expected);
  });
});

describe('parseXmlDocument refuses', () => {
  const deep = (n: number) => '<a>'.repeat(n) + '</a>'.repeat(n);
  const wide = (n: number) => '<r>' + '<b/>'.repeat(n - 1) + '</r>';
  const cases: Array<[string, string | Buffer, XmlErrorKind]> = [
    ['empty string', '', 'malformed'],
    ['whitespace only', ' \n\t', 'malformed'],
    ['empty buffer', Buffer.alloc(0), 'malformed'],
    ['comment only', '<!-- nothing -->', 'malformed'],
    ['unclosed element', '<a>', 'malformed'],
    ['truncated tag', '<a', 'malformed'],
    ['mismatched end tag', '<a></b>', 'malformed'],
    ['overlapping elements', '<a><b></a></b>', 'malformed'],
    ['two root elements', '<a/><b/>', 'malformed'],
    ['text after root', '<a/>text', 'malformed'],
    ['text after root, after a comment', '<a/><!-- c -->x', 'malformed'],
    ['a root after a comment after the root', '<a/><!-- c --><b></b>', 'malformed'],
    ['a reference after root', '<a/>&amp;', 'malformed'],
    ['text before root', 'text<a/>', 'malformed'],
    ['CDATA after root', '<a/><![CDATA[x]]>', 'malformed'],
    ['unquoted attribute', '<a b=c/>', 'malformed'],
    ['attribute without value', '<a b/>', 'malformed'],
    ['repeated attribute', '<a b="1" b="2"/>', 'malformed'],
    ['< in attribute value', '<a b="<"/>', 'malformed'],
    ['unterminated attribute value', '<a b="x/>', 'malformed'],
    [']]> in text', '<a>]]></a>', 'malformed'],
    ['-- inside comment', '<a><!-- x -- y --></a>', 'malformed'],
    ['---> ending a comment', '<a><!-- x ---></a>', 'malformed'],
    ['unterminated comment', '<a><!-- x </a>', 'malformed'],
    ['unterminated CDATA', '<a><![CDATA[x</a>', 'malformed'],
    ['unterminated PI', '<a><?pi x</a>', 'malformed'],
    ['unknown markup declaration', '<a><!FOO></a>', 'malformed'],
    ['lower-case doctype', '<!doctype a><a/>', 'malformed'],
    ['misplaced XML declaration', ' <?xml version="1.0"?><a/>', 'malformed'],
    ['bare &', '<a>a & b</a>', 'malformed'],
    ['& at end', '<a>a&</a>', 'malformed'],
    ['reference without ;', '<a>&amp</a>', 'malformed'],
    ['&;', '<a>&;</a>', 'malformed'],
    ['&#;', '<a>&#;</a>', 'malformed'],
    ['&#x;', '<a>&#x;</a>', 'malformed'],
    ['bad hex reference', '<a>&#xZZ;</a>', 'malformed'],
    ['reference to NUL', '<a>&#0;</a>', 'malformed'],
    ['reference to a control char', '<a>&#x1;</a>', 'malformed'],
    ['reference to a surrogate', '<a>&#xD800;</a>', 'malformed'],
    ['reference to U+FFFF', '<a>&#xFFFF;</a>', 'malformed'],
    ['reference beyond Unicode', '<a>&#x110000;</a>', 'malformed'],
    ['huge decimal reference', '<a>&#99999999999999999999;</a>', 'malformed'],
    ['bare & in attribute', '<a b="x & y"/>', 'malformed'],
    ['raw control character', '<a>\u0001</a>', 'malformed'],
    ['raw NUL', '<a>\u0000</a>', 'malformed'],
    ['raw U+FFFE', '<a>\uFFFE</a>', 'malformed'],
    ['lone surrogate in string input', '<a>\uD800</a>', 'malformed'],
    ['invalid UTF-8', Buffer.from([0x3c, 0x61, 0x3e, 0xc3, 0x28, 0x3c, 0x2f, 0x61, 0x3e]), 'malformed'],
    ['overlong UTF-8', Buffer.concat([Buffer.from('<a>'), Buffer.from([0xc0, 0xbc]), Buffer.from('</a>')]), 'malformed'],
    ['truncated UTF-8', Buffer.concat([Buffer.from('<a>'), Buffer.from([0xf0, 0x9f, 0x98])]), 'malformed'],
    ['invalid UTF-16', Buffer.from([0xff, 0xfe, 0x3c, 0x00, 0x00, 0xd8]), 'malformed'],
    ['unsupported declared encoding', Buffer.from('<?xml version="1.0" encoding="Shift_JIS"?><a/>'), 'malformed'],
    ['non-ASCII in US-ASCII document', Buffer.from('<?xml version="1.0" encoding="us-ascii"?><a>é</a>'), 'malformed'],
    ['bad element name', '<1a/>', 'malformed'],
    ['two colons in a name', '<a:b:c xmlns:a="urn:a"/>', 'malformed'],
    ['empty prefix', '<:a/>', 'malformed'],
    ['empty local part', '<a: xmlns:a="urn:a"/>', 'malformed'],
    ['undeclared element prefix', '<p:a/>', 'malformed'],
    ['undeclared attribute prefix', '<a p:b="1"/>', 'malformed'],
    ['prefix used outside its scope', '<a><b xmlns:p="urn:p"/><p:c/></a>', 'malformed'],
    ['xmlns:p="" (empty prefixed namespace)', '<a xmlns:p=""><p:b/></a>', 'malformed'],
    ['xmlns:p="" even unused', '<a xmlns:p=""/>', 'malformed'],
    ['element with xmlns prefix', '<xmlns:a/>', 'malformed'],
    ['declaring the xmlns prefix', '<a xmlns:xmlns="urn:x"/>', 'malformed'],
    ['rebinding xml', '<a xmlns:xml="urn:x"/>', 'malformed'],
    ['binding the XML namespace to another prefix', `<a xmlns:p="${XML_NS}"/>`, 'malformed'],
    ['binding the xmlns namespace', '<a xmlns:p="http://www.w3.org/2000/xmlns/"/>', 'malformed'],
    ['default namespace set to the XML namespace', `<a xmlns="${XML_NS}"/>`, 'malformed'],
    ['same expanded attribute twice', '<a xmlns:p="urn:x" xmlns:q="urn:x" p:b="1" q:b="2"/>', 'malformed'],
    ['DOCTYPE', '<!DOCTYPE a><a/>', 'forbidden'],
    ['DOCTYPE with internal subset', '<!DOCTYPE a [<!ELEMENT a ANY>]><a/>', 'forbidden'],
    [
      'billion laughs',
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><lolz>&lol2;</lolz>',
      'forbidden',
    ],
    ['ENTITY declaration inside element', '<a><!ENTITY x "y"></a>', 'forbidden'],
    ['DOCTYPE inside element', '<a><!DOCTYPE x></a>', 'forbidden'],
    ['undeclared entity in text', '<a>&nbsp;</a>', 'forbidden'],
    ['undeclared entity in attribute', '<a b="&foo;"/>', 'forbidden'],
    ['external entity reference', '<a>&xxe;</a>', 'forbidden'],
    ['too deep (65)', deep(65), 'too-large'],
    ['too many elements (10,001)', wide(10_001), 'too-large'],
  ];
  test.each(cases)('%s => %s', (_name, input, kind) => {
    expect(kindOf(() => parseXmlDocument(input))).toBe(kind);
  });

  test('limits are inclusive: depth 64 and 10,000 elements pass', () => {
    expect(kindOf(() => parseXmlDocument(deep(64)))).toBe('no error');
    expect(kindOf(() => parseXmlDocument(wide(10_000)))).toBe('no error');
  });

  test.each([
    ['maxDepth 3 refuses depth 4', deep(4), { maxDepth: 3 }, 'too-large'],
    ['maxDepth 3 accepts depth 3', deep(3), { maxDepth: 3 }, 'no error'],
    ['maxElements 5 refuses 6', wide(6), { maxElements: 5 }, 'too-large'],
    ['maxElements 5 accepts 5', wide(5), { maxElements: 5 }, 'no error'],
    ['self-closing children are one level deeper', '<a><b/><b/><b/></a>', { maxDepth: 1 }, 'too-large'],
    ['self-closing siblings do not add up', '<a><b/><b/><b/></a>', { maxDepth: 2 }, 'no error'],
    ['end tags bring the depth back', '<a><b><c/></b><b><c/></b></a>', { maxDepth: 3 }, 'no error'],
    ['too deep under a later sibling', '<a><b/><b><c><d/></c></b></a>', { maxDepth: 3 }, 'too-large'],
    ['a deep document beyond fast-xml-parser defaults', deep(150), { maxDepth: 200 }, 'no error'],
  ] as const)('%s', (_name, input, limits, kind) => {
    expect(kindOf(() => parseXmlDocument(input, limits))).toBe(kind);
  });

  test('errors carry a detail and are Error instances', () => {
    try {
      parseXmlDocument('<p:a/>');
      throw new Error('expected a failure');
    } catch (err) {
      expect(err).toBeInstanceOf(Error);
      expect(err).toBeInstanceOf(XmlError);
      expect((err as XmlError).detail).toMatch(/prefix "p"/);
    }
  });
});

describe('tree helpers', () => {
  const root = parseXmlDocument(
    '<D:prop xmlns:D="DAV:" xmlns:x="urn:x"> lead <x:a>one<x:b>two</x:b></x:a><D:a>three</D:a><x:a>four</x:a></D:prop>',
  );
  test('isElement tells text from elements', () => {
    expect(root.children.map(isElement)).toEqual([false, true, true, true]);
  });
  test('childElements drops text and keeps order', () => {
    expect(childElements(root).map((e) => `${e.ns}|${e.local}|${textOf(e)}`)).toEqual([
      'urn:x|a|onetwo',
      'DAV:|a|three',
      'urn:x|a|four',
    ]);
  });
  test.each([
    ['DAV:', 'a', 'three'],
    ['urn:x', 'a', 'onetwo'],
    ['urn:y', 'a', undefined],
    ['DAV:', 'b', undefined],
  ])('findChild(%s, %s) finds the first match only among children', (ns, local, text) => {
    const found = findChild(root, ns, local);
    expect(found === undefined ? undefined : textOf(found)).toBe(text);
  });
  test('textOf concatenates the whole subtree', () => {
    expect(textOf(root)).toBe(' lead onetwothreefour');
  });
});
