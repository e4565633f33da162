/**
 * native/contentHashes.c, which hashes large uploads on libuv's pool (nativeHashing.ts): `npm
 * install` builds it (node-gyp), and it finds OpenSSL's digests in the running Node.js. Its SHA-1
 * and MD5 equal node:crypto's over the same bytes, given in pieces of any size, with this suite's
 * node and with Node.js 24 when NODE24_FOR_TESTS names it (Node-API, and OpenSSL looked up at run
 * time: one build serves both); wrong calls throw. Outside CI a missing build is said loudly and
 * skipped; in CI it must be there.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CONTENT_HASHES_BINARY } from '../../../src/storage/nativeHashing';
import { itWhenInstalled } from '../../support/realClientKit';
import { nodesUnderTest } from '../../support/nodesUnderTest';
import { thrownBy } from '../../support/thrownBy';

const built = existsSync(CONTENT_HASHES_BINARY);
const itWhenBuilt = itWhenInstalled('the native content hashes helper (build/Release/content_hashes.node)', built, 'npm install builds it: needs python3, make and a C compiler');

/** Hashes random bodies (empty, small, 9 MiB) given in uneven pieces, several an update and some empty, both ways; prints JSON. */
const COMPARE = `
const { createHash, randomBytes } = require('node:crypto');
const native = require(${JSON.stringify(CONTENT_HASHES_BINARY)});
const sizes = [65536, 1, 333333, 1048576, 7, 0];
(async () => {
  const rows = [];
  for (const total of [0, 3, 9 * 1024 * 1024 + 13]) {
    const body = randomBytes(total);
    for (const [sha1, md5] of [[true, true], [true, false], [false, true]]) {
      const hashes = native.start(sha1, md5);
      for (let at = 0, n = 0; at < total || n === 0; n++) {
        const pieces = [];
        for (let k = 0; k <= n % 3; k++) {
          const size = sizes[(n + k) % sizes.length];
          pieces.push(body.subarray(at, at + size));
          at += size;
        }
        await native.update(hashes, pieces);
      }
      const got = native.finish(hashes);
      rows.push({
        total, got,
        want: { sha1: sha1 ? createHash('sha1').update(body).digest('hex') : null, md5: md5 ? createHash('md5').update(body).digest('hex') : null },
      });
    }
  }
  process.stdout.write(JSON.stringify({ available: native.available, rows }));
})();
`;

describe.each(nodesUnderTest())('native content hashes on %s', (_label, node) => {
  itWhenBuilt("finds OpenSSL and gives node:crypto's SHA-1 and MD5, whatever the pieces", () => {
    const { available, rows } = JSON.parse(execFileSync(node, ['-e', COMPARE], { encoding: 'utf8', maxBuffer: 1 << 20 })) as {
      available: boolean;
      rows: Array<{ total: number; got: unknown; want: unknown }>;
    };
    expect(available).toBe(true);
    expect(rows.length).toBe(9);
    for (const row of rows) expect({ total: row.total, digests: row.got }).toEqual({ total: row.total, digests: row.want });
  });
});

describe('native content hashes, wrong calls', () => {
  const load = () =>
    require(CONTENT_HASHES_BINARY) as {
      start(sha1: unknown, md5: unknown): object;
      update(hashes: unknown, pieces: unknown): Promise<void>;
      finish(hashes: unknown): unknown;
    };

  itWhenBuilt('throws for arguments of the wrong types, a second update while one is under way, and anything after finish', async () => {
    const { start, update, finish } = load();
    expect(thrownBy(() => start('yes', true))).toBe('TypeError: start(sha1: boolean, md5: boolean)');
    const hashes = start(true, true);
    expect(thrownBy(() => update({}, [Buffer.alloc(1)]))).toBe('TypeError: hashes must be what start() gave');
    expect(thrownBy(() => update(hashes, Buffer.alloc(1)))).toBe('TypeError: pieces must be an array of Uint8Arrays (Buffers)');
    expect(thrownBy(() => update(hashes, [Buffer.alloc(1), 'text']))).toBe('TypeError: pieces must be an array of Uint8Arrays (Buffers)');
    expect(thrownBy(() => update(hashes, [new Float64Array(1)]))).toBe('TypeError: pieces must be an array of Uint8Arrays (Buffers)');
    const first = update(hashes, [Buffer.alloc(1 << 20, 1)]);
    expect(thrownBy(() => update(hashes, [Buffer.alloc(4)]))).toBe('Error: an update of these hashes is under way');
    expect(thrownBy(() => finish(hashes))).toBe('Error: an update of these hashes is under way');
    await first;
    expect(finish(hashes)).toEqual({ sha1: expect.stringMatching(/^[0-9a-f]{40}$/), md5: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(thrownBy(() => finish(hashes))).toBe('Error: these hashes are finished');
    expect(thrownBy(() => update(hashes, [Buffer.alloc(4)]))).toBe('Error: these hashes are finished');
  });
});
