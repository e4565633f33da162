import { parseXmlDocument } from '../../../src/xml/parse';
import { parseLockinfo, parsePropfind, parseProppatch, PropfindRequest } from '../../../src/xml/requests';
import { serializeElement } from '../../../src/xml/serialize';
import { XmlError, XmlErrorKind } from '../../../src/xml/xmlError';

const D = 'xmlns:D="DAV:"';

function kindOf(run: () => unknown): XmlErrorKind | 'no error' | 'other error' {
  try {
    run();
    return 'no error';
  } catch (err) {
    return err instanceof XmlError ? err.kind : 'other error';
  }
}

describe('parsePropfind', () => {
  test('no body means allprop (RFC 4918 §9.1)', () => {
    expect(parsePropfind(null)).toEqual({ kind: 'allprop', include: [] });
  });

  test.each<[string, string, PropfindRequest]>([
    ['allprop', `<D:propfind ${D}><D:allprop/></D:propfind>`, { kind: 'allprop', include: [] }],
    ['propname', `<propfind xmlns="DAV:"><propname/></propfind>`, { kind: 'propname' }],
    [
      'prop with names in several namespaces',
      `<D:propfind ${D} xmlns:Z="http://ns.example.com/z/"><D:prop><D:getetag/><Z:Author/><nons xmlns=""/></D:prop></D:propfind>`,
      {
        kind: 'prop',
        names: [
          { ns: 'DAV:', local: 'getetag' },
          { ns: 'http://ns.example.com/z/', local: 'Author' },
          { ns: '', local: 'nons' },
        ],
      },
    ],
    [
      'repeated names are returned once',
      `<D:propfind ${D}><D:prop><D:getetag/><D:displayname/><D:getetag/></D:prop></D:propfind>`,
      { kind: 'prop', names: [{ ns: 'DAV:', local: 'getetag' }, { ns: 'DAV:', local: 'displayname' }] },
    ],
    ['empty prop asks for nothing', `<D:propfind ${D}><D:prop/></D:propfind>`, { kind: 'prop', names: [] }],
    [
      'allprop with include (§14.8)',
      `<D:propfind ${D}><D:allprop/><D:include><D:supported-live-property-set/><D:supported-report-set/></D:include></D:propfind>`,
      {
        kind: 'allprop',
        include: [{ ns: 'DAV:', local: 'supported-live-property-set' }, { ns: 'DAV:', local: 'supported-report-set' }],
      },
    ],
    [
      'unknown elements and text are ignored (§17)',
      `<D:propfind ${D} xmlns:X="urn:x"> <X:hint/><D:future/><D:propname/>text</D:propfind>`,
      { kind: 'propname' },
    ],
    [
      'prop in another namespace is not DAV:prop',
      `<D:propfind ${D} xmlns:X="urn:x"><X:prop><X:a/></X:prop><D:allprop/></D:propfind>`,
      { kind: 'allprop', include: [] },
    ],
    [
      'names with prototype-like local parts',
      `<D:propfind ${D}><D:prop><__proto__/><constructor/></D:prop></D:propfind>`,
      { kind: 'prop', names: [{ ns: '', local: '__proto__' }, { ns: '', local: 'constructor' }] },
    ],
  ])('%s', (_name, body, expected) => {
    expect(parsePropfind(parseXmlDocument(body))).toEqual(expected);
  });

  test.each([
    ['wrong root element', `<D:propertyupdate ${D}><D:allprop/></D:propertyupdate>`],
    ['propfind in no namespace', `<propfind><allprop/></propfind>`],
    ['propfind in another namespace', `<X:propfind xmlns:X="urn:x"><X:allprop/></X:propfind>`],
    ['empty propfind', `<D:propfind ${D}/>`],
    ['prop and allprop', `<D:propfind ${D}><D:prop><D:getetag/></D:prop><D:allprop/></D:propfind>`],
    ['propname and allprop', `<D:propfind ${D}><D:propname/><D:allprop/></D:propfind>`],
    ['prop and propname', `<D:propfind ${D}><D:prop/><D:propname/></D:propfind>`],
    ['two props', `<D:propfind ${D}><D:prop><D:a/></D:prop><D:prop><D:b/></D:prop></D:propfind>`],
    ['include without allprop', `<D:propfind ${D}><D:prop/><D:include><D:a/></D:include></D:propfind>`],
    ['include alone', `<D:propfind ${D}><D:include/></D:propfind>`],
  ])('unprocessable: %s', (_name, body) => {
    expect(kindOf(() => parsePropfind(parseXmlDocument(body)))).toBe('unprocessable');
  });
});

describe('parseProppatch', () => {
  test('operations come in document order across several set and remove', () => {
    const body = `<?xml version="1.0" encoding="utf-8" ?>
      <D:propertyupdate ${D} xmlns:Z="http://ns.example.com/z/">
        <D:set><D:prop><Z:Authors><Z:Author>Jim Whitehead</Z:Author><Z:Author>Roy Fielding</Z:Author></Z:Authors></D:prop></D:set>
        <D:remove><D:prop><Z:Copyright-Owner/></D:prop></D:remove>
        <D:set><D:prop><Z:a>1</Z:a><Z:b x="y"/></D:prop></D:set>
        <D:remove><D:prop><Z:a/><Z:b/></D:prop></D:remove>
      </D:propertyupdate>`;
    const ops = parseProppatch(parseXmlDocument(body));
    expect(ops.map((o) => `${o.op} ${o.name.local}`)).toEqual([
      'set Authors',
      'remove Copyright-Owner',
      'set a',
      'set b',
      'remove a',
      'remove b',
    ]);
    expect(ops.every((o) => o.name.ns === 'http://ns.example.com/z/')).toBe(true);
    const first = ops[0];
    if (first.op !== 'set') throw new Error('expected set');
    expect(serializeElement(first.value)).toBe(
      '<ns1:Authors xmlns:ns1="http://ns.example.com/z/"><ns1:Author>Jim Whitehead</ns1:Author><ns1:Author>Roy Fielding</ns1:Author></ns1:Authors>',
    );
    const fourth = ops[3];
    if (fourth.op !== 'set') throw new Error('expected set');
    expect(fourth.value.attributes).toEqual([{ ns: '', local: 'x', value: 'y' }]);
  });

  test('set value keeps text exactly, including whitespace and high Unicode', () => {
    const ops = parseProppatch(
      parseXmlDocument(`<D:propertyupdate ${D}><D:set><D:prop><x xmlns="urn:x">  a\n&amp;\u{1F600} </x></D:prop></D:set></D:propertyupdate>`),
    );
    expect(ops).toEqual([
      { op: 'set', name: { ns: 'urn:x', local: 'x' }, value: { ns: 'urn:x', local: 'x', attributes: [], children: [{ text: '  a\n&\u{1F600} ' }] } },
    ]);
  });

  test.each([
    ['on prop', `<D:propertyupdate ${D}><D:set><D:prop xml:lang="fr"><x/></D:prop></D:set></D:propertyupdate>`, 'fr'],
    ['on set', `<D:propertyupdate ${D}><D:set xml:lang="de"><D:prop><x/></D:prop></D:set></D:propertyupdate>`, 'de'],
    ['on propertyupdate', `<D:propertyupdate ${D} xml:lang="en"><D:set><D:prop><x/></D:prop></D:set></D:propertyupdate>`, 'en'],
    ['innermost wins', `<D:propertyupdate ${D} xml:lang="en"><D:set><D:prop xml:lang="fr"><x/></D:prop></D:set></D:propertyupdate>`, 'fr'],
    ['own xml:lang wins', `<D:propertyupdate ${D} xml:lang="en"><D:set><D:prop><x xml:lang="ja"/></D:prop></D:set></D:propertyupdate>`, 'ja'],
    ['none in scope', `<D:propertyupdate ${D}><D:set><D:prop><x/></D:prop></D:set></D:propertyupdate>`, undefined],
  ])('xml:lang in scope is kept with the value (§4.3): %s', (_name, body, lang) => {
    const [op] = parseProppatch(parseXmlDocument(body));
    if (op.op !== 'set') throw new Error('expected set');
    const found = op.value.attributes.filter((a) => a.ns === 'http://www.w3.org/XML/1998/namespace' && a.local === 'lang');
    expect(found.map((a) => a.value)).toEqual(lang === undefined ? [] : [lang]);
  });

  test('unknown elements are ignored (§17)', () => {
    const body = `<D:propertyupdate ${D} xmlns:X="urn:x"><X:set><D:prop><a/></D:prop></X:set><D:future/><D:remove><X:note/><D:prop><b/></D:prop></D:remove></D:propertyupdate>`;
    expect(parseProppatch(parseXmlDocument(body))).toEqual([{ op: 'remove', name: { ns: '', local: 'b' } }]);
  });

  test.each([
    ['no set or remove', `<D:propertyupdate ${D}/>`],
    ['only unknown children', `<D:propertyupdate ${D}><D:frobnicate/></D:propertyupdate>`],
  ])('%s is an empty update (hdav sends one; Apache answers 207)', (_name, body) => {
    expect(parseProppatch(parseXmlDocument(body))).toEqual([]);
  });

  test.each([
    ['wrong root element', `<D:propfind ${D}><D:set><D:prop><a/></D:prop></D:set></D:propfind>`],
    ['set without prop', `<D:propertyupdate ${D}><D:set/></D:propertyupdate>`],
    ['remove without prop', `<D:propertyupdate ${D}><D:remove><a/></D:remove></D:propertyupdate>`],
    ['empty prop in set', `<D:propertyupdate ${D}><D:set><D:prop/></D:set></D:propertyupdate>`],
    ['empty prop in remove', `<D:propertyupdate ${D}><D:remove><D:prop> </D:prop></D:remove></D:propertyupdate>`],
    ['prop with only text', `<D:propertyupdate ${D}><D:set><D:prop>value</D:prop></D:set></D:propertyupdate>`],
    ['an empty prop after a good one', `<D:propertyupdate ${D}><D:set><D:prop><a/></D:prop></D:set><D:remove><D:prop/></D:remove></D:propertyupdate>`],
  ])('unprocessable: %s', (_name, body) => {
    expect(kindOf(() => parseProppatch(parseXmlDocument(body)))).toBe('unprocessable');
  });
});

describe('parseLockinfo', () => {
  test.each([
    ['exclusive without owner', `<D:lockinfo ${D}><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`, 'exclusive', null],
    [
      'shared with href owner',
      `<D:lockinfo ${D}><D:locktype><D:write/></D:locktype><D:lockscope><D:shared/></D:lockscope><D:owner><D:href>http://example.org/~ejw/contact.html</D:href></D:owner></D:lockinfo>`,
      'shared',
      '<D:owner xmlns:D="DAV:"><D:href>http://example.org/~ejw/contact.html</D:href></D:owner>',
    ],
    [
      'owner as plain text',
      `<D:lockinfo ${D}><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>litmus test suite</D:owner></D:lockinfo>`,
      'exclusive',
      '<D:owner xmlns:D="DAV:">litmus test suite</D:owner>',
    ],
    [
      'owner with whitespace kept (Apple WebDAVFS style)',
      `<?xml version="1.0" encoding="utf-8"?>\n<D:lockinfo ${D}>\n<D:lockscope><D:exclusive/></D:lockscope>\n<D:locktype><D:write/></D:locktype>\n<D:owner>\n<D:href>http://www.apple.com/webdav_fs/</D:href>\n</D:owner>\n</D:lockinfo>`,
      'exclusive',
      '<D:owner xmlns:D="DAV:">\n<D:href>http://www.apple.com/webdav_fs/</D:href>\n</D:owner>',
    ],
    [
      'owner with foreign markup and inherited xml:lang',
      `<lockinfo xmlns="DAV:" xml:lang="en"><lockscope><exclusive/></lockscope><locktype><write/></locktype><owner><x:name xmlns:x="urn:x" x:id="7">Jane &amp; co</x:name></owner></lockinfo>`,
      'exclusive',
      '<D:owner xmlns:D="DAV:" xmlns:ns1="urn:x" xml:lang="en"><ns1:name ns1:id="7">Jane &amp; co</ns1:name></D:owner>',
    ],
    [
      'whitespace and unknown siblings ignored (§17)',
      `<D:lockinfo ${D} xmlns:X="urn:x">\n  <X:extra/>\n  <D:lockscope>\n <D:exclusive/>\n </D:lockscope>\n  <D:locktype> <D:write/> </D:locktype>\n</D:lockinfo>`,
      'exclusive',
      null,
    ],
  ])('%s', (_name, body, scope, owner) => {
    const request = parseLockinfo(parseXmlDocument(body));
    expect(request.scope).toBe(scope);
    expect(request.owner === null ? null : serializeElement(request.owner)).toBe(owner);
  });

  test.each([
    ['wrong root element', `<D:propfind ${D}><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:propfind>`],
    ['no lockscope', `<D:lockinfo ${D}><D:locktype><D:write/></D:locktype></D:lockinfo>`],
    ['no locktype', `<D:lockinfo ${D}><D:lockscope><D:exclusive/></D:lockscope></D:lockinfo>`],
    ['empty lockinfo', `<D:lockinfo ${D}/>`],
    ['empty lockscope', `<D:lockinfo ${D}><D:lockscope/><D:locktype><D:write/></D:locktype></D:lockinfo>`],
    ['both scopes', `<D:lockinfo ${D}><D:lockscope><D:exclusive/><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`],
    ['unknown scope', `<D:lockinfo ${D}><D:lockscope><D:partial/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`],
    ['scope in another namespace', `<D:lockinfo ${D}><D:lockscope><exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`],
    ['text as scope', `<D:lockinfo ${D}><D:lockscope>exclusive</D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`],
    ['read lock type', `<D:lockinfo ${D}><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:read/></D:locktype></D:lockinfo>`],
    ['write in another namespace', `<D:lockinfo ${D}><D:lockscope><D:exclusive/></D:lockscope><D:locktype><write xmlns="urn:x"/></D:locktype></D:lockinfo>`],
    ['empty locktype', `<D:lockinfo ${D}><D:lockscope><D:exclusive/></D:lockscope><D:locktype/></D:lockinfo>`],
    ['two lockscopes', `<D:lockinfo ${D}><D:lockscope><D:exclusive/></D:lockscope><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`],
    ['two owners', `<D:lockinfo ${D}><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>a</D:owner><D:owner>b</D:owner></D:lockinfo>`],
  ])('unprocessable: %s', (_name, body) => {
    expect(kindOf(() => parseLockinfo(parseXmlDocument(body)))).toBe('unprocessable');
  });
});
