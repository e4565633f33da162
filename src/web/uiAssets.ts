/**
 * The browser page's static files (script modules, stylesheet, icon sprite), served by keepdav
 * itself under the reserved prefix `/.keepdav-ui/` that no stored file can shadow (names starting
 * with `.keepdav-` are invisible and uncreatable). Nothing is fetched from elsewhere.
 *
 * The script is plain TypeScript in web/src, compiled by `npm run build` (web/tsconfig.json) into
 * dist/ui. A checkout that has not been built (or whose dist/ui is older than web/src) gets the
 * sources transpiled in memory on first use with the TypeScript compiler keepdav already depends on,
 * so an edited checkout never serves stale code (the same rule as bin/keepdav.js).
 *
 * Every asset URL carries the hash of all assets (`/.keepdav-ui/<hash>/app.js`): with the current
 * hash the answer is cacheable for a year (`immutable`); any other hash gets `no-cache`. Both carry
 * a strong ETag of the content (RFC 9110 §8.8.3), so revalidation costs a 304.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface UiAsset {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

export interface UiAssets {
  /** The hash of all assets together, the version segment of their URLs. */
  readonly version: string;
  get(name: string): UiAsset | undefined;
}

const TOP = join(__dirname, '..', '..');
const SOURCE_DIR = join(TOP, 'web', 'src');
const STATIC_DIR = join(TOP, 'web', 'static');
const BUILT_DIR = join(TOP, 'dist', 'ui');

const STATIC_TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

function asset(body: Buffer, contentType: string): UiAsset {
  return { body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"` };
}

/** The .js files `npm run build` made (dist/ui), by name. */
function builtModules(): Map<string, Buffer> {
  const modules = new Map<string, Buffer>();
  if (!existsSync(BUILT_DIR)) return modules;
  for (const n of readdirSync(BUILT_DIR)) if (n.endsWith('.js')) modules.set(n, readFileSync(join(BUILT_DIR, n)));
  return modules;
}

/**
 * The script modules: dist/ui when it is at least as new as every source in web/src, else the
 * sources transpiled now. An installed package without web/src, or without the compiler, serves
 * dist/ui as it is.
 */
function scriptModules(): Map<string, Buffer> {
  const sources = existsSync(SOURCE_DIR) ? readdirSync(SOURCE_DIR).filter((n) => n.endsWith('.ts') && !n.endsWith('.d.ts')) : [];
  const builtOrFail = () => {
    const built = builtModules();
    if (!built.has('app.js') || sources.some((n) => !built.has(n.replace(/\.ts$/, '.js')))) throw new Error('the page script is not built (run npm run build)');
    return built;
  };
  if (sources.length === 0) return builtOrFail();
  const newestSource = Math.max(...sources.map((n) => statSync(join(SOURCE_DIR, n)).mtimeMs));
  const builtFresh = sources.every((n) => {
    const built = join(BUILT_DIR, n.replace(/\.ts$/, '.js'));
    return existsSync(built) && statSync(built).mtimeMs >= newestSource;
  });
  if (builtFresh) return builtOrFail();
  let ts: typeof import('typescript');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    ts = require('typescript') as typeof import('typescript');
  } catch {
    return builtOrFail();
  }
  const modules = new Map<string, Buffer>();
  for (const n of sources) {
    const out = ts.transpileModule(readFileSync(join(SOURCE_DIR, n), 'utf8'), {
      compilerOptions: { target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.ES2020, removeComments: true },
      fileName: n,
    });
    modules.set(n.replace(/\.ts$/, '.js'), Buffer.from(out.outputText, 'utf8'));
  }
  return modules;
}

function loadAssets(): UiAssets {
  const byName = new Map<string, UiAsset>();
  for (const [name, body] of scriptModules()) byName.set(name, asset(body, 'text/javascript; charset=utf-8'));
  for (const n of existsSync(STATIC_DIR) ? readdirSync(STATIC_DIR) : []) {
    const type = STATIC_TYPES[n.slice(n.lastIndexOf('.'))];
    if (type) byName.set(n, asset(readFileSync(join(STATIC_DIR, n)), type));
  }
  const all = createHash('sha256');
  for (const name of [...byName.keys()].sort()) all.update(name).update(byName.get(name)!.etag);
  return { version: all.digest('hex').slice(0, 16), get: (name) => byName.get(name) };
}

let loaded: UiAssets | null = null;

/** The assets, read (and transpiled when needed) on first use only, so servers never asked for the page pay nothing. */
export function uiAssets(): UiAssets {
  loaded ??= loadAssets();
  return loaded;
}
