import { HeaderSyntaxError } from './headerSyntaxError';
import { IfToken, tokenizeIfHeader } from './ifHeaderLexer';
import { hasUriScheme } from './uriSyntax';

export { evaluateIfHeader, submittedLockTokens } from './ifHeaderEvaluation';
export type { IfEvaluationContext, IfResourceState } from './ifHeaderEvaluation';

/**
 * The WebDAV If header (RFC 4918 §10.4), parsed strictly into an OR of lists, each an AND of
 * conditions. The grammar, with implied linear whitespace between all elements:
 *
 *   If             = "If" ":" ( 1*No-tag-list | 1*Tagged-list )
 *   No-tag-list    = List
 *   Tagged-list    = Resource-Tag 1*List
 *   List           = "(" 1*Condition ")"
 *   Condition      = ["Not"] (State-token | "[" entity-tag "]")
 *   State-token    = Coded-URL
 *   Coded-URL      = "<" absolute-URI ">"
 *   Resource-Tag   = "<" Simple-ref ">"       ; Simple-ref = absolute-URI | absolute path
 */

/** One condition of a List; `not` negates it. */
export type IfCondition =
  | { not: boolean; kind: 'token'; token: string } // the State-token's Coded-URL without the brackets
  | { not: boolean; kind: 'etag'; etag: string }; // the entity-tag exactly as written: "\"abc\"", "W/\"x\""

/** One List: true when all its conditions are. */
export interface IfList {
  /** The raw URI or path of the Tagged-list this List belongs to; null for a No-tag-list. */
  resourceTag: string | null;
  conditions: IfCondition[];
}

/** A whole If header: true when at least one of its lists is. */
export interface IfHeader {
  /** True for `1*Tagged-list`, false for `1*No-tag-list` (the two never mix). */
  tagged: boolean;
  lists: IfList[];
}

/** Recursive descent over the lexer's tokens; each method is one production of the grammar. */
class IfHeaderParser {
  private position = 0;

  constructor(private readonly tokens: IfToken[]) {}

  /** If = 1*No-tag-list | 1*Tagged-list */
  parseHeader(): IfHeader {
    if (this.tokens.length === 0) this.fail('empty header');
    const tagged = this.peek()?.kind === 'angle';
    const lists: IfList[] = [];
    while (this.peek() !== undefined) {
      if (tagged) lists.push(...this.parseTaggedList());
      else lists.push(this.parseNoTagList());
    }
    return { tagged, lists };
  }

  /** No-tag-list = List */
  private parseNoTagList(): IfList {
    if (this.peek()?.kind === 'angle') this.fail('a Resource-Tag after untagged lists (the two kinds do not mix)');
    return { resourceTag: null, conditions: this.parseList() };
  }

  /** Tagged-list = Resource-Tag 1*List; every List gets the tag. */
  private parseTaggedList(): IfList[] {
    const resourceTag = this.parseResourceTag();
    const lists: IfList[] = [{ resourceTag, conditions: this.parseList() }];
    while (this.peek()?.kind === 'open-list') lists.push({ resourceTag, conditions: this.parseList() });
    return lists;
  }

  /** Resource-Tag = "<" Simple-ref ">" (an absolute URI or an absolute path). */
  private parseResourceTag(): string {
    const token = this.next();
    if (token?.kind !== 'angle') this.fail('expected a Resource-Tag', token);
    if (!hasUriScheme(token.text) && !token.text.startsWith('/')) {
      this.fail('a Resource-Tag must be an absolute URI or an absolute path', token);
    }
    return token.text;
  }

  /** List = "(" 1*Condition ")" */
  private parseList(): IfCondition[] {
    const open = this.next();
    if (open?.kind !== 'open-list') this.fail('expected "("', open);
    const conditions: IfCondition[] = [];
    while (this.peek()?.kind !== 'close-list') {
      if (this.peek() === undefined) this.fail('unterminated (', open);
      conditions.push(this.parseCondition());
    }
    this.next(); // ")"
    if (conditions.length === 0) this.fail('empty list ()', open);
    return conditions;
  }

  /** Condition = ["Not"] (State-token | "[" entity-tag "]") */
  private parseCondition(): IfCondition {
    let token = this.next();
    const not = token?.kind === 'not';
    if (not) token = this.next();
    if (token?.kind === 'etag') return { not, kind: 'etag', etag: token.etag };
    if (token?.kind === 'angle') {
      // State-token = Coded-URL = "<" absolute-URI ">" (RFC 4918 §10.1)
      if (!hasUriScheme(token.text)) this.fail('a State-token must be an absolute URI', token);
      return { not, kind: 'token', token: token.text };
    }
    this.fail(not ? 'expected a State-token or [entity-tag] after Not' : 'expected a condition', token);
  }

  private peek(): IfToken | undefined {
    return this.tokens[this.position];
  }

  private next(): IfToken | undefined {
    const token = this.tokens[this.position];
    if (token !== undefined) this.position += 1;
    return token;
  }

  private fail(detail: string, near?: IfToken): never {
    throw new HeaderSyntaxError('If', near === undefined ? detail : `${detail} at offset ${near.at}`);
  }
}

/**
 * Parses the If request header (RFC 4918 §10.4) into its lists.
 * Returns null when the header is absent.
 * @throws HeaderSyntaxError on any deviation from the grammar above: a blank value, `()`,
 *   an unterminated `(`, `<` or `[`, untagged and tagged lists mixed, a State-token that is not
 *   an absolute URI, `Not` without a condition, or any stray character.
 */
export function parseIfHeader(value: string | undefined): IfHeader | null {
  if (value === undefined) return null;
  return new IfHeaderParser(tokenizeIfHeader(value)).parseHeader();
}
