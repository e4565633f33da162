/** Access rules as pure functions: validation messages, the most specific rule, {user}, subtrees. */
import { parseAccessRules, AccessRuleSet, type AccessRule } from '../../../src/auth/accessRules';
import { ConfigError, resolveConfig } from '../../../src/config';

const EXAMPLE = parseAccessRules(
  [
    { path: '/', who: '*', allow: 'read' },
    { path: '/home/{user}/', who: '*', allow: 'write' },
    { path: '/home/', who: '*', allow: 'none' },
    { path: '/shared/', who: ['alice', 'bob'], allow: 'write' },
    { path: '/shared/', who: '*', allow: 'read' },
    { path: '/pub', who: 'anonymous', allow: 'read' },
  ],
  'test.yaml',
);
const exact = (p: string) => p.normalize('NFC');

describe('parseAccessRules', () => {
  it.each<[string, unknown, RegExp]>([
    ['not a list', { path: '/' }, /access in test\.yaml must be a list/],
    ['an entry that is no object', ['x'], /access rule 1 in test\.yaml must be \{ path, who, allow \}/],
    ['a relative path', [{ path: 'home', who: '*', allow: 'read' }], /access rule 1 in test\.yaml: path must be a string starting with "\/"/],
    ['a dot segment', [{ path: '/a/../b', who: '*', allow: 'read' }], /rule 1 .*unusable segment "\.\."/],
    ['{user} inside a segment', [{ path: '/a', who: '*', allow: 'read' }, { path: '/home-{user}/', who: '*', allow: 'read' }], /rule 2 .*"\{user\}" must be a whole segment/],
    ['no who', [{ path: '/', allow: 'read' }], /who must be a user name/],
    ['an empty list of names', [{ path: '/', who: [], allow: 'read' }], /who must be/],
    ['an unknown level', [{ path: '/', who: '*', allow: 'admin' }], /allow must be none, read or write/],
    ['an unknown key', [{ path: '/', who: '*', allow: 'read', deny: 'x' }], /unknown key "deny"/],
  ])('refuses %s, naming the entry and the source', (_label, raw, message) => {
    expect(() => parseAccessRules(raw, 'test.yaml')).toThrow(ConfigError);
    expect(() => parseAccessRules(raw, 'test.yaml')).toThrow(message);
  });

  it('normalizes who to a list and accepts nothing as no rules', () => {
    expect(parseAccessRules([{ path: '/a/', who: 'alice', allow: 'write' }], 'x')).toEqual([{ path: '/a/', who: ['alice'], allow: 'write' }]);
    expect(parseAccessRules(undefined, 'x')).toEqual([]);
  });

  it('is what resolveConfig runs on access', () => {
    expect(() => resolveConfig({ root: '/tmp', access: [{ path: 'x' }] as unknown as AccessRule[] })).toThrow(/access rule 1 in the configuration/);
  });
});

describe('AccessRuleSet.decide', () => {
  const rules = new AccessRuleSet(EXAMPLE, exact);
  it.each<[string | null, string, string, string | null]>([
    ['alice', '/', 'read', '/'],
    ['alice', '/docs/a.txt', 'read', '/'],
    ['alice', '/home', 'none', '/home/'],
    ['alice', '/home/alice', 'write', '/home/{user}/'],
    ['alice', '/home/alice/deep/x', 'write', '/home/{user}/'],
    ['alice', '/home/bob/x', 'none', '/home/'],
    ['alice', '/home/alicea', 'none', '/home/'],
    ['bob', '/home/bob', 'write', '/home/{user}/'],
    ['alice', '/shared/x', 'write', '/shared/'],
    ['carol', '/shared/x', 'read', '/shared/'],
    [null, '/pub/x', 'read', '/pub'],
    [null, '/', 'none', null],
    [null, '/home/alice', 'none', null],
  ])('%s on %s: %s (rule %s)', (user, path, level, rulePath) => {
    expect(rules.decide(user, path)).toEqual({ level, rulePath });
  });

  it('compares paths as the share does: NFC always, case folded on case-insensitive shares', () => {
    const folded = new AccessRuleSet(EXAMPLE, (p) => p.normalize('NFC').toLowerCase());
    expect(folded.decide('alice', '/HOME/bob/x').level).toBe('none');
    expect(rules.decide('Zoë', '/home/Zoe\u0308/x').level).toBe('write');
  });

  it('lets no user name that is no path segment stand for {user}', () => {
    expect(rules.decide('..', '/home').level).toBe('none');
    expect(rules.decide('a/b', '/home/a/b').level).toBe('none');
  });
});

describe('AccessRuleSet.lowestInSubtree', () => {
  const rules = new AccessRuleSet(EXAMPLE, exact);
  it('finds the most restrictive rule below a path', () => {
    expect(rules.lowestInSubtree('alice', '/')).toEqual({ level: 'none', rulePath: '/home/' });
    expect(rules.lowestInSubtree('alice', '/shared')).toEqual({ level: 'write', rulePath: '/shared/' });
    expect(rules.lowestInSubtree('alice', '/home/alice')).toEqual({ level: 'write', rulePath: '/home/{user}/' });
    expect(rules.lowestInSubtree('carol', '/shared')).toEqual({ level: 'read', rulePath: '/shared/' });
  });
});
