import { escapeAttribute, isNcName } from './chars';
import { DAV_NS, XML_NS, XMLNS_NS } from './tree';

/**
 * Chooses the prefixes an output document declares. DAV: is `D` unless told otherwise, the XML
 * namespace is always the predefined `xml`, the empty namespace has no prefix (we never declare a
 * default namespace, so an unprefixed name is always in no namespace), and any other namespace
 * gets the prefix asked for or the first free `ns1`, `ns2`...
 */
export class PrefixTable {
  private readonly byNamespace = new Map<string, string>();
  private readonly taken = new Set<string>();
  private readonly wanted: Map<string, string>;
  private counter = 0;

  /**
   * `preferred` maps namespace name => prefix. Throws TypeError for a prefix that is not an
   * NCName, starts with "xml", or is asked for twice.
   */
  constructor(preferred?: Record<string, string>) {
    this.wanted = new Map([[DAV_NS, 'D']]);
    const asked = new Set<string>();
    for (const [ns, prefix] of Object.entries(preferred ?? {})) {
      if (!isNcName(prefix) || prefix.toLowerCase().startsWith('xml')) {
        throw new TypeError(`unusable namespace prefix "${prefix}"`);
      }
      if (asked.has(prefix)) throw new TypeError(`prefix "${prefix}" asked for two namespaces`);
      asked.add(prefix);
      this.wanted.set(ns, prefix);
    }
    // A wanted prefix is reserved even before its namespace shows up, so no generated one takes it.
    for (const prefix of this.wanted.values()) this.taken.add(prefix);
  }

  /**
   * Returns the prefix for `ns` ('' for the empty namespace), assigning one on first use.
   * Throws TypeError for the xmlns namespace, which no name may use.
   */
  prefixFor(ns: string): string {
    if (ns === '') return '';
    if (ns === XML_NS) return 'xml';
    const known = this.byNamespace.get(ns);
    if (known !== undefined) return known;
    if (ns === XMLNS_NS) throw new TypeError('no element or attribute may be in the xmlns namespace');
    let prefix = this.wanted.get(ns);
    if (prefix === undefined) {
      do prefix = `ns${++this.counter}`;
      while (this.taken.has(prefix));
      this.taken.add(prefix);
    }
    this.byNamespace.set(ns, prefix);
    return prefix;
  }

  /** Returns ` xmlns:p="ns"` for every namespace assigned so far (but `except`), in order of first use. */
  declarations(except?: ReadonlySet<string>): string {
    let out = '';
    for (const [ns, prefix] of this.byNamespace) if (!except?.has(ns)) out += ` xmlns:${prefix}="${escapeAttribute(ns)}"`;
    return out;
  }
}

/** Returns `local` prefixed by `prefix` when there is one. */
export function qualify(prefix: string, local: string): string {
  return prefix === '' ? local : `${prefix}:${local}`;
}
