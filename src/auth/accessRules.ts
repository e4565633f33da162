/**
 * Access rules: who may do what below which path. Each rule is `{ path, who, allow }`:
 *   path   a path prefix ("/shared/"); a segment "{user}" stands for the signed-in user's name
 *   who    user names, "*" (anyone signed in) or "anonymous"
 *   allow  none | read (OPTIONS, GET, HEAD, PROPFIND) | write (everything)
 * The most specific matching rule decides: the longest path; at equal paths a rule naming the
 * user beats "*", then the first listed. Pure: no I/O.
 */
import { ConfigError } from '../config';
import { checkSegment, isSameOrInside, ROOT, segmentsOf, type DavPath } from '../paths/davPath';

export type AccessLevel = 'none' | 'read' | 'write';

export interface AccessRule {
  /** As written, e.g. "/home/{user}/". */
  readonly path: string;
  /** User names, "*" or "anonymous". */
  readonly who: readonly string[];
  readonly allow: AccessLevel;
}

export const ANYONE_SIGNED_IN = '*';
export const ANONYMOUS = 'anonymous';
const USER_PLACEHOLDER = '{user}';
const LEVELS: readonly AccessLevel[] = ['none', 'read', 'write'];

export function levelAtLeast(level: AccessLevel, needed: AccessLevel): boolean {
  return LEVELS.indexOf(level) >= LEVELS.indexOf(needed);
}

export function lowerLevel(a: AccessLevel, b: AccessLevel): AccessLevel {
  return LEVELS.indexOf(a) <= LEVELS.indexOf(b) ? a : b;
}

/**
 * Validates rules from a configuration (`source` names where they came from, e.g. the file) and
 * returns them normalized (`who` always a list). Throws ConfigError naming the bad entry and source.
 */
export function parseAccessRules(raw: unknown, source: string): AccessRule[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new ConfigError(`access in ${source} must be a list of { path, who, allow } rules`);
  return raw.map((entry: unknown, index) => {
    const where = `access rule ${index + 1} in ${source}`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new ConfigError(`${where} must be { path, who, allow }`);
    const { path, who, allow, ...rest } = entry as Record<string, unknown>;
    const extra = Object.keys(rest);
    if (extra.length > 0) throw new ConfigError(`${where} has an unknown key "${extra[0]}" (only path, who, allow)`);
    if (typeof path !== 'string' || !path.startsWith('/')) throw new ConfigError(`${where}: path must be a string starting with "/"`);
    for (const segment of segmentsOf(stripSlash(path))) {
      if (segment === USER_PLACEHOLDER) continue;
      try {
        if (segment.includes(USER_PLACEHOLDER)) throw new Error('placeholder inside a segment');
        checkSegment(segment);
      } catch {
        throw new ConfigError(`${where}: path ${JSON.stringify(path)} has an unusable segment ${JSON.stringify(segment)} ("{user}" must be a whole segment)`);
      }
    }
    const names = typeof who === 'string' ? [who] : who;
    if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string' && n !== '')) {
      throw new ConfigError(`${where}: who must be a user name, a list of names, "*" or "anonymous"`);
    }
    if (typeof allow !== 'string' || !LEVELS.includes(allow as AccessLevel)) throw new ConfigError(`${where}: allow must be none, read or write`);
    return { path, who: (names as string[]).map((n) => n.normalize('NFC')), allow: allow as AccessLevel };
  });
}

function stripSlash(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '' ? ROOT : trimmed;
}

export interface AccessDecision {
  level: AccessLevel;
  /** The deciding rule's path as written; null when no rule matched. */
  rulePath: string | null;
}

interface CompiledRule {
  rule: AccessRule;
  segments: readonly string[];
  order: number;
  /** The comparable path when it holds no "{user}", computed once. */
  fixedPath: DavPath | null;
}

/**
 * Decides the level of a principal (a user name, or null for anonymous) on a path. `comparable`
 * maps a path to the form rules are compared in (NFC, and lower case on case-insensitive shares),
 * so a request cannot step around a rule by spelling a name differently.
 */
/** How many principals' decisions an all-root rule set remembers. */
const ROOT_DECISIONS = 1024;

export class AccessRuleSet {
  private readonly compiled: CompiledRule[];
  /** Every rule is for "/" (no "{user}"): the level does not depend on the path. */
  private readonly allAtRoot: boolean;
  /** When allAtRoot: each principal's decision, made once (bounded). */
  private readonly rootDecisions = new Map<string | null, AccessDecision>();

  constructor(readonly rules: readonly AccessRule[], private readonly comparable: (path: string) => string) {
    this.compiled = rules.map((rule, order) => {
      const segments = segmentsOf(stripSlash(rule.path));
      const fixedPath = segments.includes(USER_PLACEHOLDER) ? null : comparable(segments.length === 0 ? ROOT : '/' + segments.join('/'));
      return { rule, segments, order, fixedPath };
    });
    this.allAtRoot = this.compiled.every((c) => c.fixedPath === ROOT);
  }

  decide(user: string | null, path: DavPath): AccessDecision {
    // With every rule at the root (the usual set-up) the path cannot matter: one decision per principal.
    if (this.allAtRoot) {
      let decision = this.rootDecisions.get(user);
      if (decision === undefined) {
        if (this.rootDecisions.size >= ROOT_DECISIONS) this.rootDecisions.clear();
        this.rootDecisions.set(user, (decision = Object.freeze(this.decideAt(user, ROOT))));
      }
      return decision;
    }
    return this.decideAt(user, this.comparable(path));
  }

  /** The decision for the comparable path `target`. */
  private decideAt(user: string | null, target: DavPath): AccessDecision {
    let best: { compiled: CompiledRule; named: boolean } | null = null;
    for (const compiled of this.compiled) {
      const named = user !== null && compiled.rule.who.includes(user);
      if (!this.appliesTo(compiled.rule, user)) continue;
      const rulePath = this.pathFor(compiled, user);
      if (rulePath === null || !isSameOrInside(target, rulePath)) continue;
      if (best === null || isMoreSpecific(compiled, named, best.compiled, best.named)) best = { compiled, named };
    }
    return best === null ? { level: 'none', rulePath: null } : { level: best.compiled.rule.allow, rulePath: best.compiled.rule.path };
  }

  /** The lowest level the principal has anywhere in `path`'s subtree (the path itself and every rule below it). */
  lowestInSubtree(user: string | null, path: DavPath): AccessDecision {
    let lowest = this.decide(user, path);
    const top = this.comparable(path);
    for (const compiled of this.compiled) {
      if (!this.appliesTo(compiled.rule, user)) continue;
      const rulePath = this.pathFor(compiled, user);
      if (rulePath === null || rulePath === top || !isSameOrInside(rulePath, top)) continue;
      const inside = this.decide(user, rulePath);
      if (lowerLevel(inside.level, lowest.level) !== lowest.level) lowest = inside;
    }
    return lowest;
  }

  private appliesTo(rule: AccessRule, user: string | null): boolean {
    if (user === null) return rule.who.includes(ANONYMOUS);
    return rule.who.includes(ANYONE_SIGNED_IN) || rule.who.includes(user);
  }

  /** The rule's path for this principal in comparable form; null when "{user}" cannot stand for them. */
  private pathFor(compiled: CompiledRule, user: string | null): DavPath | null {
    if (compiled.fixedPath !== null) return compiled.fixedPath;
    const segments: string[] = [];
    for (const segment of compiled.segments) {
      if (segment !== USER_PLACEHOLDER) {
        segments.push(segment);
        continue;
      }
      if (user === null) return null;
      try {
        checkSegment(user);
      } catch {
        return null;
      }
      segments.push(user);
    }
    return this.comparable(segments.length === 0 ? ROOT : '/' + segments.join('/'));
  }
}

function isMoreSpecific(a: CompiledRule, aNamed: boolean, b: CompiledRule, bNamed: boolean): boolean {
  if (a.segments.length !== b.segments.length) return a.segments.length > b.segments.length;
  if (aNamed !== bNamed) return aNamed;
  return a.order < b.order;
}
