/** commonSubtree: the deepest path whose subtree holds every path of a batch. */
import { commonSubtree } from '../../../src/state/subtree';

test.each<[string[], string]>([
  [['/a/b'], '/a/b'],
  [['/a/b', '/a/c', '/a/d'], '/a'],
  [['/a', '/a/b', '/a/b/c'], '/a'],
  [['/a/b/c', '/a/b', '/a'], '/a'],
  [['/a/x', '/ab/x'], '/'],
  [['/ab', '/a'], '/'],
  [['/a/b/c', '/a/b/d', '/a/e'], '/a'],
  [['/a/b', '/c'], '/'],
  [['/'], '/'],
  [['/', '/a'], '/'],
])('%j -> %s', (paths, common) => {
  expect(commonSubtree(paths)).toBe(common);
});
