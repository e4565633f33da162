import { parseXmlDocument } from '../../../src/xml/parse';
import { serializeElement } from '../../../src/xml/serialize';
import { DAV_NS, XML_NS, XMLNS_NS, XmlElement, XmlNode } from '../../../src/xml/tree';

function E(ns: string, local: string, children: XmlNode[] = [], attributes: XmlElement['attributes'] = []): XmlElement {
  return { ns, local, attributes, children };
}

describe('serializeElement round-trips parsed trees', () => {
  const documents: Array<[string, string]> = [
    ['empty element in no namespace', '<a/>'],
    ['DAV: property', '<D:displayname xmlns:D="DAV:">Report</D:displayname>'],
    ['default namespace input', '<author xmlns="http://example.com/ns"><name>Jane</name></author>'],
    [
      'no-namespace child under a default-namespace parent',
      '<a xmlns="urn:a"><b xmlns=""><c>t</c></b></a>',
    ],
    [
      'mixed namespaces, attributes and xml:lang',
      '<x:p xmlns:x="urn:x" xmlns:y="urn:y" xml:lang="de" y:attr="v" plain="w"><y:q>1</y:q><x:r/>tail</x:p>',
    ],
    ['namespace used only deep inside', '<a><b><c xmlns="urn:deep"><d/></c></b><e xmlns:p="urn:p" p:x="1"/></a>'],
    ['prefix rebound to another namespace', '<p:a xmlns:p="urn:1"><p:b xmlns:p="urn:2"><p:c/></p:b></p:a>'],
    ['the prefixes we generate, used for other namespaces', '<D:a xmlns:D="urn:not-dav" xmlns:ns1="DAV:"><ns1:b/></D:a>'],
    ['whitespace and high Unicode text', '<a>  \n\t x \u{1F600} 中  </a>'],
    ['markup characters in text', '<a>&lt;b&gt; &amp;amp; ]]&gt; "q" \'s\'</a>'],
    ['CR in text', '<a>x&#13;y&#13;&#10;z</a>'],
    ['tabs, newlines, quotes and < in attributes', '<a b="x&#9;y&#10;z&#13;&quot;&lt;&amp;&apos;"/>'],
    ['CDATA content', '<a><![CDATA[<not-an-element attr="&amp;">]]></a>'],
    ['prototype-like names', '<__proto__ constructor="1"><toString>x</toString><hasOwnProperty/></__proto__>'],
    ['namespace URI needing escape', '<p:a xmlns:p="urn:x?a=1&amp;b=&quot;2&quot;"/>'],
    ['litmus-style property value', '<valnspace xmlns="http://example.com/alpha"><foo xmlns="http://bar">bar</foo></valnspace>'],
  ];
  test.each(documents)('%s', (_name, input) => {
    const tree = parseXmlDocument(input);
    const written = serializeElement(tree);
    expect(parseXmlDocument(written)).toEqual(tree);
    // Serializing is stable: the same tree always gives the same text.
    expect(serializeElement(parseXmlDocument(written))).toBe(written);
  });
});

describe('serializeElement output shape', () => {
  test.each<[string, XmlElement, string]>([
    ['no namespace: unprefixed, no declaration', E('', 'a', [{ text: 'x' }]), '<a>x</a>'],
    ['DAV: as D, declared on the element', E(DAV_NS, 'owner'), '<D:owner xmlns:D="DAV:"/>'],
    [
      'every namespace declared once on the outermost element',
      E(DAV_NS, 'owner', [E('urn:x', 'href', [E('urn:x', 'x')]), E('urn:y', 'y')]),
      '<D:owner xmlns:D="DAV:" xmlns:ns1="urn:x" xmlns:ns2="urn:y"><ns1:href><ns1:x/></ns1:href><ns2:y/></D:owner>',
    ],
    [
      'no-namespace child of a namespaced element stays unprefixed',
      E('urn:x', 'a', [E('', 'b')]),
      '<ns1:a xmlns:ns1="urn:x"><b/></ns1:a>',
    ],
    [
      'xml: attributes use the predefined prefix, never declared',
      E('', 'a', [], [{ ns: XML_NS, local: 'lang', value: 'en' }]),
      '<a xml:lang="en"/>',
    ],
    [
      'namespaced attribute gets a prefix, plain one does not',
      E('', 'a', [], [
        { ns: 'urn:x', local: 'b', value: '1' },
        { ns: '', local: 'c', value: '2' },
      ]),
      '<a xmlns:ns1="urn:x" ns1:b="1" c="2"/>',
    ],
    [
      'characters XML cannot carry become U+FFFD',
      E('', 'a', [{ text: 'x\u0001y\uD800z\uFFFF' }], [{ ns: '', local: 'b', value: '\u0000' }]),
      '<a b="\uFFFD">x\uFFFDy\uFFFDz\uFFFD</a>',
    ],
    ['escaping of text', E('', 'a', [{ text: '<&>]]>\r' }]), '<a>&lt;&amp;&gt;]]&gt;&#13;</a>'],
    ['adjacent text nodes are written in order', E('', 'a', [{ text: 'x' }, { text: 'y' }]), '<a>xy</a>'],
  ])('%s', (_name, tree, expected) => {
    const written = serializeElement(tree);
    expect(written).toBe(expected);
    expect(written).not.toMatch(/xmlns="/);
    expect(() => parseXmlDocument(written)).not.toThrow();
  });

  test.each<[string, XmlElement]>([
    ['element local name with a colon', E('', 'a:b')],
    ['empty local name', E('urn:x', '')],
    ['attribute name with a space', E('', 'a', [], [{ ns: '', local: 'b c', value: '' }])],
    ['element in the xmlns namespace', E(XMLNS_NS, 'a')],
  ])('refuses a tree it cannot write: %s', (_name, tree) => {
    expect(() => serializeElement(tree)).toThrow(TypeError);
  });
});
