// Checks a build of the split wasm (issue 20): fails loudly (exit 1) when a module or a script
// still imports `__wasm_split_placeholder__` (a wasm built with the split feature that skipped
// scripts/wasm-split: the page cannot start), or when a file the loader fetches is missing.
//
//   node scripts/check-split.mjs DIR...     (scripts/wasm-split runs it on its output;
//                                            scripts/test on dist/ and the debug-hooks build)
//
// For a built page (a DIR with index.html) it also checks the split's invariant on cargo's module
// of the last release build (target/wasm32-unknown-unknown/release/gateway-lab.wasm): the main
// module must not reach the JSON readers of the codec chunk (`scripts/split-profile --check`, which
// needs function names, so it splits that module again; its verdict is kept in
// target/split-main-check.json for that module's size and time, so a second DIR costs nothing).
// SPLIT_MAIN_CHECK=0 skips it.
import { readdirSync, readFileSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PLACEHOLDER = '__wasm_split_placeholder__';
const dirs = process.argv.slice(2);
if (dirs.length === 0) {
  console.error('usage: node scripts/check-split.mjs DIR...');
  process.exit(2);
}
const problems = [];
let modules = 0;
let loaders = 0;
for (const dir of dirs) {
  const files = readdirSync(dir);
  for (const f of files) {
    const file = path.join(dir, f);
    if (f.endsWith('.wasm')) {
      modules += 1;
      const imports = WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(file)));
      const bad = imports.filter((i) => i.module === PLACEHOLDER);
      if (bad.length) problems.push(`${file} imports ${bad.length} function(s) from ${PLACEHOLDER} (it was not split)`);
    } else if (f.endsWith('.js')) {
      const text = readFileSync(file, 'utf8');
      if (text.includes(PLACEHOLDER)) problems.push(`${file} imports ${PLACEHOLDER} (the wasm was not split)`);
      if (f.startsWith('__wasm_split')) {
        loaders += 1;
        for (const [, chunk] of text.matchAll(/new URL\("\.\/([^"]+\.wasm)"/g)) {
          if (!existsSync(path.join(dir, chunk))) problems.push(`${file} loads ./${chunk}, which is missing`);
        }
      }
    }
  }
  if (files.includes('index.html') && !files.some((f) => f.startsWith('__wasm_split'))) {
    problems.push(`${dir} has no __wasm_split*.js: its wasm did not go through scripts/wasm-split`);
  }
}
if (modules === 0) problems.push(`no .wasm in ${dirs.join(', ')}`);
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const raw = path.join(root, 'target/wasm32-unknown-unknown/release/gateway-lab.wasm');
if (process.env.SPLIT_MAIN_CHECK !== '0' && dirs.some((d) => existsSync(path.join(d, 'index.html'))) && existsSync(raw)) {
  const { size, mtimeMs } = statSync(raw);
  const cacheFile = path.join(root, 'target/split-main-check.json');
  const key = `${size}:${mtimeMs}:${process.env.SPLIT_FORBID_SCENARIO ?? ''}`;
  let cached = null;
  try {
    cached = JSON.parse(readFileSync(cacheFile, 'utf8'));
  } catch {}
  let verdict = cached?.key === key ? cached : null;
  if (!verdict) {
    const r = spawnSync(path.join(root, 'scripts/split-profile'), ['--check'], { cwd: root, encoding: 'utf8' });
    verdict = { key, ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim() };
    if (r.status === 0 || r.status === 1) writeFileSync(cacheFile, JSON.stringify(verdict) + '\n');
  }
  if (verdict.ok) console.log(verdict.output.split('\n').filter((l) => l.startsWith('✓')).join('\n'));
  else problems.push(`the main module reaches the codec chunk's JSON readers:\n${verdict.output}`);
}
if (problems.length) {
  for (const p of problems) console.error(`✗ split check: ${p}`);
  process.exit(1);
}
console.log(`✓ split check: ${modules} wasm modules and ${loaders} loader(s) in ${dirs.join(', ')}, none imports ${PLACEHOLDER}`);
