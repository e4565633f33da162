/**
 * The operations the kill -9 harness crashes (issue 8, item 6): PUT of a new file, overwrite,
 * restore, DELETE of a file and of a tree, MOVE and COPY of a tree (also onto an existing one),
 * PROPPATCH, overwrite storms and PROPPATCH bursts; each prepares its own directory, runs, and
 * says what checkTrial must find after the restart.
 */
import { contentOf, stateOf, sha, type CrashLab, type Tree, type TrialExpectation } from './crashHarness';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { propOf } from './conflictKit';

export interface Scenario {
  name: string;
  /** The journaled steps it passes (KEEPDAV_CRASH_AT values), in order. */
  steps: string[];
  run(lab: CrashLab, dir: string): Promise<TrialExpectation>;
}

/** A small fixture: a file, a tree `d` (with an empty collection), an existing tree `x`. */
export function smallFixture(dir: string): Tree {
  const t: Tree = { 'f.txt': contentOf(`${dir}/f`, 0, 300) };
  for (const p of ['d/a.txt', 'd/b.txt', 'd/s/c.txt', 'd/s/e e.txt', 'x/old1.txt', 'x/s/old2.txt']) t[p] = contentOf(`${dir}/${p}`, 0, 100);
  t['d/empty/'] = '';
  return t;
}

/** A tree `d` of `files` files in collections of 50, and a small `x`. */
export function bigFixture(dir: string, files: number): Tree {
  const t: Tree = { 'f.txt': contentOf(`${dir}/f`, 0) };
  for (let i = 0; i < files; i++) t[`d/c${Math.floor(i / 50)}/f${i}.txt`] = contentOf(`${dir}/${i}`, 0, 24);
  t['x/old.txt'] = contentOf(`${dir}/x`, 0);
  return t;
}

const rename = (tree: Tree, from: string, to: string): Tree =>
  Object.fromEntries(Object.entries(tree).map(([p, c]) => [p.startsWith(from + '/') ? to + p.slice(from.length) : p, c]));
const without = (tree: Tree, prefix: string): Tree => Object.fromEntries(Object.entries(tree).filter(([p]) => p !== prefix && !p.startsWith(prefix + '/')));
const only = (tree: Tree, prefix: string): Tree => Object.fromEntries(Object.entries(tree).filter(([p]) => p.startsWith(prefix + '/')));

/** One operation on a prepared tree: the directory is `fixture` before and `after` once it happened. */
function treeOperation(
  name: string, steps: string[], fixture: (dir: string) => Tree, after: (tree: Tree, dir: string) => Tree,
  op: (lab: CrashLab, dir: string) => Promise<{ status: number } | null>,
): Scenario {
  return {
    name,
    steps,
    async run(lab, dir) {
      const tree = fixture(dir);
      await lab.writeTree(dir, tree);
      const propped = await tagFiles(lab, dir, tree, ['d/a.txt', 'd/c0/f0.txt', 'x/old1.txt']);
      const res = await op(lab, dir);
      const done = res !== null && res.status >= 200 && res.status < 300;
      if (res !== null && !done) throw new Error(`${name}: ${res.status}`);
      const next = after(tree, dir);
      const sent = new Map([...stateOf(next)].filter(([p, s]) => stateOf(tree).get(p) !== s).map(([p, s]) => [p, new Set([s])]));
      return {
        dir, label: name, states: [stateOf(tree), stateOf(next)], before: stateOf(tree), sent,
        acknowledged: done ? sent : new Map(), operationAcknowledged: done,
        afterRestart: (l) => expectTagsFollow(l, dir, propped),
      };
    },
  };
}

/**
 * Gives the files of `tree` among `paths` a dead property (its own value) before the operation;
 * returns content sha -> value for the files that got it (PROPPATCH passes no crash point).
 */
async function tagFiles(lab: CrashLab, dir: string, tree: Tree, paths: string[]): Promise<Map<string, string>> {
  const tags = new Map<string, string>();
  for (const p of paths.filter((q) => q in tree)) {
    const value = `tag of ${p}`;
    const res = await lab.request('PROPPATCH', `/${dir}/${p}`, {
      headers: { 'Content-Type': 'application/xml' },
      body: `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:z="urn:x-follow"><D:set><D:prop><z:tag>${value}</z:tag></D:prop></D:set></D:propertyupdate>`,
    });
    if (res?.status === 207) tags.set(sha(tree[p]), value);
  }
  return tags;
}

/** Dead properties follow their file: every served file with a tagged content carries that tag (moved or copied along). */
async function expectTagsFollow(lab: CrashLab, dir: string, tags: Map<string, string>): Promise<void> {
  if (tags.size === 0) return;
  for (const [path, content] of await lab.snapshot(dir)) {
    const value = tags.get(content);
    if (value === undefined) continue;
    const got = await propOf(lab.asTestServer(), `/${dir}/${path.split('/').map(encodeURIComponent).join('/')}`, 'urn:x-follow', 'tag');
    expect({ path, tag: got.value }).toEqual({ path, tag: value });
  }
}

const OVERWRITE = ['overwrite:intent', 'overwrite:kept', 'overwrite:written', 'overwrite:committed'];
const dest = (lab: CrashLab, path: string) => ({ Destination: `http://127.0.0.1:${lab.server!.port}${path}` });

export const putNew = treeOperation('PUT new', ['overwrite:intent', 'overwrite:kept', 'overwrite:written'], smallFixture,
  (t, dir) => ({ ...t, 'new.txt': contentOf(`${dir}/new`, 1) }),
  (lab, dir) => lab.request('PUT', `/${dir}/new.txt`, { body: contentOf(`${dir}/new`, 1) }));

export const overwrite = treeOperation('overwrite', OVERWRITE, smallFixture,
  (t, dir) => ({ ...t, 'f.txt': contentOf(`${dir}/f`, 1, 500) }),
  (lab, dir) => lab.request('PUT', `/${dir}/f.txt`, { body: contentOf(`${dir}/f`, 1, 500) }));

export const deleteFile = treeOperation('DELETE file', ['delete:recorded', 'delete:intent', 'delete:moved', 'delete:committed'], smallFixture,
  (t) => without(t, 'f.txt'), (lab, dir) => lab.request('DELETE', `/${dir}/f.txt`));

export const deleteTree = treeOperation('DELETE tree', ['delete:recorded', 'delete:intent', 'delete:moved', 'delete:committed'], smallFixture,
  (t) => without(t, 'd'), (lab, dir) => lab.request('DELETE', `/${dir}/d`));

export const moveTree = treeOperation('MOVE tree', ['move:recorded', 'move:intent', 'move:renamed', 'move:committed'], smallFixture,
  (t) => rename(t, 'd', 'e'), (lab, dir) => lab.request('MOVE', `/${dir}/d`, { headers: dest(lab, `/${dir}/e`) }));

export const moveOnto = treeOperation('MOVE onto a tree', ['move:recorded', 'move:intent', 'replace:aside', 'move:renamed', 'move:committed'], smallFixture,
  (t) => rename(without(t, 'x'), 'd', 'x'), (lab, dir) => lab.request('MOVE', `/${dir}/d`, { headers: dest(lab, `/${dir}/x`) }));

export const copyTree = treeOperation('COPY tree', ['copy:recorded', 'copy:intent', 'copy:copied', 'copy:committed'], smallFixture,
  (t) => ({ ...t, ...rename(only(t, 'd'), 'd', 'e') }), (lab, dir) => lab.request('COPY', `/${dir}/d`, { headers: dest(lab, `/${dir}/e`) }));

export const copyOnto = treeOperation('COPY onto a tree', ['copy:recorded', 'copy:intent', 'replace:aside', 'copy:copied', 'copy:committed'], smallFixture,
  (t) => ({ ...without(t, 'x'), ...rename(only(t, 'd'), 'd', 'x') }), (lab, dir) => lab.request('COPY', `/${dir}/d`, { headers: dest(lab, `/${dir}/x`) }));

const proppatchWithTime = treeOperation('PROPPATCH with a time', ['proppatch:properties-set', 'proppatch:mtime-set'], smallFixture, (t) => t,
  (lab, dir) => lab.request('PROPPATCH', `/${dir}/f.txt`, {
    headers: { 'Content-Type': 'application/xml' },
    body: '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:z="urn:x-crash"><D:set><D:prop>' +
      '<D:getlastmodified>Mon, 01 Jan 2024 00:00:00 GMT</D:getlastmodified><z:tag>t</z:tag></D:prop></D:set></D:propertyupdate>',
  }));

/** A PROPPATCH of a dead property with a time is all or nothing across a crash: killed after its properties were stored, the time is set at the restart. */
export const proppatch: Scenario = {
  ...proppatchWithTime,
  async run(lab, dir) {
    const x = await proppatchWithTime.run(lab, dir);
    return {
      ...x,
      async afterRestart(l) {
        await x.afterRestart?.(l);
        const tag = await propOf(l.asTestServer(), `/${dir}/f.txt`, 'urn:x-crash', 'tag');
        const mtimeMs = (await stat(join(l.root, dir, 'f.txt'))).mtimeMs;
        expect({ tag: tag.value ?? null, timeSet: mtimeMs === Date.UTC(2024, 0, 1) }).toEqual({ tag: 't', timeSet: true });
      },
    };
  },
};

export function big(files: number): Scenario[] {
  return [
    treeOperation(`DELETE a tree of ${files}`, ['delete:moved'], (dir) => bigFixture(dir, files), (t) => without(t, 'd'), (lab, dir) => lab.request('DELETE', `/${dir}/d`)),
    treeOperation(`MOVE a tree of ${files} onto a tree`, ['replace:aside', 'move:renamed'], (dir) => bigFixture(dir, files),
      (t) => rename(without(t, 'x'), 'd', 'x'), (lab, dir) => lab.request('MOVE', `/${dir}/d`, { headers: dest(lab, `/${dir}/x`) })),
    treeOperation(`COPY a tree of ${files}`, ['copy:copied'], (dir) => bigFixture(dir, files),
      (t) => ({ ...t, ...rename(only(t, 'd'), 'd', 'e') }), (lab, dir) => lab.request('COPY', `/${dir}/d`, { headers: dest(lab, `/${dir}/e`) })),
  ];
}

/** A restore of an older version over the current file (PUT first, so a version exists: steps counted from the 2nd). */
export const restore: Scenario = {
  name: 'restore',
  steps: OVERWRITE.map((s) => `${s}:2`),
  async run(lab, dir) {
    const tree = smallFixture(dir);
    await lab.writeTree(dir, tree);
    const edited = { ...tree, 'f.txt': contentOf(`${dir}/f`, 1) };
    const original = new Map([['f.txt', new Set([sha(tree['f.txt'])])]]);
    const base = { dir, label: 'restore', before: stateOf(tree) };
    const first = await lab.request('PUT', `/${dir}/f.txt`, { body: edited['f.txt'] });
    // Killed before the restore itself (random kills): the PUT was the operation.
    if (first === null) return { ...base, states: [stateOf(tree), stateOf(edited)], sent: new Map([['f.txt', new Set([sha(edited['f.txt'])])]]), acknowledged: new Map(), operationAcknowledged: false };
    if (first.status !== 204) throw new Error(`restore: PUT answered ${first.status}`);
    const acknowledged = new Map([['f.txt', new Set([sha(tree['f.txt']), sha(edited['f.txt'])])]]);
    const list = await lab.request('GET', `/${dir}/f.txt?versions`);
    if (list === null) return { ...base, states: [stateOf(edited)], sent: new Map(), acknowledged, operationAcknowledged: true };
    const [version] = (JSON.parse(list.text) as { versions: Array<{ id: string }> }).versions;
    const res = await lab.request('POST', `/${dir}/f.txt?restore=${version.id}`);
    if (res !== null && res.status !== 204) throw new Error(`restore: POST answered ${res.status}`);
    return { ...base, states: [stateOf(edited), stateOf(tree)], sent: original, acknowledged, operationAcknowledged: res !== null };
  },
};

/** Concurrent PUTs of distinct contents onto three files (12 by default). */
export function storm(puts = 12): Scenario {
  return {
    name: `overwrite storm of ${puts}`,
    steps: [],
    async run(lab, dir) {
      const tree = smallFixture(dir);
      await lab.writeTree(dir, tree);
      const targets = ['f.txt', 'd/a.txt', 'd/s/c.txt'];
      const sent = new Map<string, Set<string>>(targets.map((p) => [p, new Set<string>()]));
      const acknowledged = new Map<string, Set<string>>(targets.map((p) => [p, new Set<string>()]));
      await Promise.all(Array.from({ length: puts }, async (_, i) => {
        const path = targets[i % targets.length];
        const body = contentOf(`${dir}/${path}`, i + 1, 200 + i * 97);
        sent.get(path)!.add(sha(body));
        const res = await lab.request('PUT', `/${dir}/${path}`, { body });
        if (res && res.status >= 200 && res.status < 300) acknowledged.get(path)!.add(sha(body));
      }));
      return { dir, label: this.name, states: [], before: stateOf(tree), sent, acknowledged, operationAcknowledged: false };
    },
  };
}

/** Sequential PROPPATCHes, each setting its own dead property; every acknowledged one must survive. */
export function proppatchBurst(count = 10): Scenario {
  return {
    name: `PROPPATCH burst of ${count}`,
    steps: [],
    async run(lab, dir) {
      const tree = smallFixture(dir);
      await lab.writeTree(dir, tree);
      const acked: number[] = [];
      for (let i = 0; i < count; i++) {
        const res = await lab.request('PROPPATCH', `/${dir}/f.txt`, {
          headers: { 'Content-Type': 'application/xml' },
          body: `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:z="urn:x-burst"><D:set><D:prop><z:p${i}>v${i}</z:p${i}></D:prop></D:set></D:propertyupdate>`,
        });
        if (res === null) break;
        if (res.status === 207) acked.push(i);
      }
      return {
        dir, label: this.name, states: [stateOf(tree)], before: stateOf(tree), sent: new Map(), acknowledged: new Map(), operationAcknowledged: false,
        async afterRestart(l: CrashLab) {
          for (const i of acked) {
            const got = await propOf(l.asTestServer(), `/${dir}/f.txt`, 'urn:x-burst', `p${i}`);
            expect({ property: `p${i}`, value: got.value }).toEqual({ property: `p${i}`, value: `v${i}` });
          }
        },
      };
    },
  };
}

export const STEP_SCENARIOS: Scenario[] = [putNew, overwrite, restore, deleteFile, deleteTree, moveTree, moveOnto, copyTree, copyOnto, proppatch];
