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
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
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

// ---- What must stay out of the main module (issue 20, the paste diagnosis) ----
// The paste diagnosis (`gateway_core::diagnose`) is the chunk `diagnose` of src/ui/lazy.rs: a
// synchronous call to `diagnose::verdict` from the page's code would put it (and the catalog, the
// matcher, `fill`) back in the module downloaded before the page is interactive. The shipped
// modules have no names, so this splits cargo's module of the last build (RAW, with its name
// section) as scripts/wasm-split does and looks at the function names: no function of
// `diagnose::verdict` and what it runs (`diagnose::diagnose`, `template`, `fill`, the catalog's
// `Builder` and `get`) may be in the main module (LTO inlines `verdict` into its caller, so its
// own name alone proves little), and the `diagnose` chunk must have some (the names are there).
// Runs when a checked DIR is a page build (index.html) and RAW exists; CHECK_SPLIT_RAW=path
// overrides RAW (default target/wasm32-unknown-unknown/release/gateway-lab.wasm).
function functionNames(file) {
  const names = [];
  for (const sec of WebAssembly.Module.customSections(new WebAssembly.Module(readFileSync(file)), 'name')) {
    const b = new Uint8Array(sec);
    let p = 0;
    const leb = () => { let r = 0, shift = 0, x; do { x = b[p++]; r += (x & 0x7f) * 2 ** shift; shift += 7; } while (x & 0x80); return r; };
    while (p < b.length) {
      const id = b[p++];
      const size = leb();
      const end = p + size;
      if (id === 1) {
        for (let n = leb(); n > 0; n--) {
          leb();
          const len = leb();
          names.push(Buffer.from(b.subarray(p, p + len)).toString('utf8'));
          p += len;
        }
      }
      p = end;
    }
  }
  return names;
}
function checkDiagnoseSplit() {
  const raw = process.env.CHECK_SPLIT_RAW || 'target/wasm32-unknown-unknown/release/gateway-lab.wasm';
  if (!dirs.some((d) => existsSync(path.join(d, 'index.html'))) || !existsSync(raw)) return;
  const work = mkdtempSync(path.join(tmpdir(), 'check-split-'));
  try {
    try {
      execFileSync('wasm-split-cli', ['--target', 'web', '--out-name', 'main', raw, work], { stdio: ['ignore', 'ignore', 'inherit'] });
    } catch (e) {
      problems.push(`could not split ${raw} to read its function names (wasm-split-cli: ${e.message}; run ./scripts/setup build)`);
      return;
    }
    // Mangled (`_ZN12gateway_core8diagnose7verdict17h..E`) or demangled (`gateway_core::diagnose::verdict`).
    const verdict = /^(_ZN12gateway_core8diagnose(7verdict|8diagnose|8template|4fill|7catalog7Builder|7catalog3get)|gateway_core::diagnose::(verdict|diagnose|template|fill|catalog::Builder|catalog::get)\b)/;
    const mainHas = functionNames(path.join(work, 'main.wasm')).filter((n) => verdict.test(n));
    const chunk = readdirSync(work).filter((f) => /^split_diagnose.*\.wasm$/.test(f));
    const chunkHas = chunk.flatMap((f) => functionNames(path.join(work, f))).filter((n) => verdict.test(n));
    if (mainHas.length) problems.push(`the main module of ${raw} has gateway_core::diagnose::verdict or what it runs (${mainHas.length} functions, e.g. ${mainHas[0]}): the paste diagnosis must stay in the chunk "diagnose" (src/ui/lazy.rs)`);
    else if (!chunk.length) problems.push(`${raw} has no split_diagnose chunk: the paste diagnosis (src/ui/lazy.rs, chunk "diagnose") is not a split point`);
    else if (!chunkHas.length) problems.push(`${raw}: no function of gateway_core::diagnose's verdict in the split_diagnose chunk either (no names to check?)`);
    else console.log(`✓ split check: gateway_core::diagnose::verdict and what it runs are in the chunk "diagnose" (${chunkHas.length} functions), none in the main module (${raw})`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
checkDiagnoseSplit();

// ---- What must stay out of the main module (issue 20, the codec chunk) ----
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const raw = path.join(root, 'target/wasm32-unknown-unknown/release/gateway-lab.wasm');
if (process.env.SPLIT_MAIN_CHECK !== '0' && dirs.some((d) => existsSync(path.join(d, 'index.html'))) && existsSync(raw)) {
  const { size, mtimeMs } = statSync(raw);
  const cacheFile = path.join(root, 'target/split-main-check.json');
  const key = `${size}:${mtimeMs}:scenario`;
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
