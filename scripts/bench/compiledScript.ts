/**
 * The bench's own servers written in TypeScript (nodeCeiling.ts, webdavServerPeer.ts), run as
 * JavaScript. Started under ts-node, a server carries the TypeScript compiler in its heap (the
 * ceiling peaked at 104-148 MiB that way, where keepdav, doing more, peaked at 113-132), and the
 * bench's RSS columns would report the compiler, not the server.
 *
 * Each is transpiled on its own (typescript.transpileModule: no type check, `npx tsc --noEmit`
 * does that) into node_modules/.cache/keepdav-bench/, where its packages resolve as from the
 * repository; its imports of keepdav's sources (`../../src/...`) are pointed at the build in
 * dist/, which the bench runs keepdav from too (`npm run build` first).
 *
 * Usage: `const js = compiledScript(path.join(__dirname, 'nodeCeiling.ts'), REPO_ROOT);` then `node js ...`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

/** `require("../../src/x")` in a script of scripts/bench/ becomes `require("<repo>/dist/x")`. */
function pointedAtBuild(javascript: string, repoRoot: string): string {
  const dist = path.join(repoRoot, 'dist') + path.sep;
  return javascript.replace(/require\("\.\.\/\.\.\/src\/([^"]+)"\)/g, (_, module: string) => `require(${JSON.stringify(dist + module)})`);
}

/** The path of `tsFile` (a script in repoRoot's scripts/bench/) transpiled to JavaScript, written anew on each call. */
export function compiledScript(tsFile: string, repoRoot: string): string {
  const source = fs.readFileSync(tsFile, 'utf8');
  const { outputText } = ts.transpileModule(source, {
    fileName: tsFile,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  const outDir = path.join(repoRoot, 'node_modules', '.cache', 'keepdav-bench');
  fs.mkdirSync(outDir, { recursive: true });
  const out = path.join(outDir, path.basename(tsFile).replace(/\.ts$/, '.js'));
  fs.writeFileSync(out, pointedAtBuild(outputText, repoRoot));
  return out;
}
