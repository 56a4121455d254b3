// Code bytes of a wasm module with a name section, added up by crate (by module for gateway_core
// and gateway_lab), from its code section and its function names (legacy Rust mangling decoded).
// scripts/split-profile calls it on the split build's main module.
//
//   node scripts/wasm-sizes.mjs MODULE.wasm [--top N] [--depth D] [--match REGEX]... [--forbid REGEX]... [--brotli]
//
// --forbid: list every function whose name matches and exit 1 if there is one (scripts/split-profile
// --check: what must never be reached from the main module).
import { readFileSync } from 'node:fs';
import { brotliCompressSync, constants as zlib } from 'node:zlib';

const args = process.argv.slice(2);
const file = args[0];
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const top = Number(opt('--top', '30'));
const depth = Number(opt('--depth', '1'));
const matches = args.flatMap((a, i) => (a === '--match' ? [args[i + 1]] : []));
const forbidden = args.flatMap((a, i) => (a === '--forbid' ? [args[i + 1]] : []));
if (!file) { console.error('usage: node scripts/wasm-sizes.mjs MODULE.wasm [--top N] [--depth D] [--match REGEX]...'); process.exit(2); }

const b = readFileSync(file);
let off = 8;
const leb = () => { let r = 0, s = 0; for (;;) { const x = b[off++]; r += (x & 0x7f) * 2 ** s; s += 7; if (!(x & 0x80)) break; } return r; };
const skipLimits = () => { const f = b[off++]; leb(); if (f & 1) leb(); };
let imported = 0;
const sizes = [];
const bodies = [];
let dataRange = [0, 0];
const names = new Map();
let dataBytes = 0;
while (off < b.length) {
  const id = b[off++];
  const n = leb();
  const end = off + n;
  if (id === 2) {
    const count = leb();
    for (let i = 0; i < count; i++) {
      for (let k = 0; k < 2; k++) { const l = leb(); off += l; }
      const kind = b[off++];
      if (kind === 0) { leb(); imported++; } else if (kind === 1) { off++; skipLimits(); } else if (kind === 2) skipLimits(); else if (kind === 3) off += 2; else if (kind === 4) { off++; leb(); }
    }
  } else if (id === 10) {
    const count = leb();
    for (let i = 0; i < count; i++) { const size = leb(); sizes.push(size); bodies.push([off, off + size]); off += size; }
  } else if (id === 11) {
    dataBytes = n;
    dataRange = [off, end];
  } else if (id === 0) {
    const l = leb();
    const name = b.subarray(off, off + l).toString();
    off += l;
    if (name === 'name') {
      while (off < end) {
        const sub = b[off++];
        const sl = leb();
        const subEnd = off + sl;
        if (sub === 1) {
          const count = leb();
          for (let i = 0; i < count; i++) { const idx = leb(); const nl = leb(); names.set(idx, b.subarray(off, off + nl).toString()); off += nl; }
        }
        off = subEnd;
      }
    }
  }
  off = end;
}
if (names.size === 0) { console.error(`${file} has no function names (build it with wasm-opt -g)`); process.exit(2); }

const decode = (seg) => seg.replace(/^_(?=\$)/, '').replace(/\$LT\$/g, '<').replace(/\$GT\$/g, '>').replace(/\$u20\$/g, ' ')
  .replace(/\$RF\$/g, '&').replace(/\$C\$/g, ',').replace(/\$u7b\$/g, '{').replace(/\$u7d\$/g, '}').replace(/\.\./g, '::');
const demangle = (name) => {
  if (!name?.startsWith('_ZN')) return name ?? '';
  let i = 3;
  const segs = [];
  while (i < name.length && name[i] !== 'E') {
    let j = i;
    while (/[0-9]/.test(name[j])) j++;
    const l = Number(name.slice(i, j));
    if (!l) break;
    segs.push(decode(name.slice(j, j + l)));
    i = j + l;
  }
  return segs.join('::').replace(/::h[0-9a-f]{16}$/, '');
};
const group = (name) => {
  const parts = name.replace(/^<+/, '').replace(/^impl /, '').replace(/^&(mut )?/, '').split(/::| as |</).filter(Boolean);
  if (parts[0] === 'gateway_core' || parts[0] === 'gateway_lab') return parts.slice(0, depth + 1).join('::');
  return parts[0] || '(unnamed)';
};
let total = 0;
const groups = new Map();
const demangled = sizes.map((size, i) => demangle(names.get(i + imported)));
sizes.forEach((size, i) => { const g = group(demangled[i]); groups.set(g, (groups.get(g) ?? 0) + size); total += size; });
const pct = (x) => `${((100 * x) / total).toFixed(1)} %`;
console.log(`code ${total} B in ${sizes.length} functions, data ${dataBytes} B`);
for (const [g, size] of [...groups].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`${String(size).padStart(9)}  ${pct(size).padStart(7)}  ${g}`);
for (const m of matches) {
  const re = new RegExp(m);
  const sum = sizes.reduce((n, size, i) => n + (re.test(demangled[i]) ? size : 0), 0);
  console.log(`functions matching /${m}/: ${sum} B of code (${pct(sum)})`);
}
// --brotli: what each part of the module weighs compressed (brotli 11, each part on its own, so
// the parts add up to a little more than the whole module): the floor a first download cannot go
// under while that part is in the main module (issue 20's 250 KB target).
if (args.includes('--brotli')) {
  const parts = [
    ['Leptos (leptos, tachys, reactive_graph)', /^<*(impl )?&?(mut )?(leptos|tachys|reactive_graph|any_spawner|throw_error|or_poisoned|slotmap|send_wrapper)|^<T as (leptos|tachys|reactive_graph)/],
    ['engine: the six proxy flavors other than nginx', /gateway_core::sim::proxy::(haproxy|apache|caddy|varnish|envoy|alb)::/],
    ['engine: the rest (gateway_core)', /gateway_core::/],
    ['the app (gateway_lab: components, stage, embed)', /gateway_lab::/],
    ['serde, serde_json', /serde/],
    ['wasm-bindgen, js-sys, web-sys', /wasm_bindgen|js_sys|web_sys|wasm_split/],
    ["Rust's core, alloc, std, the allocator (and unnamed)", /^/],
  ];
  const chunks = parts.map(() => []);
  demangled.forEach((name, i) => { const k = parts.findIndex(([, re]) => re.test(name)); chunks[k].push(b.subarray(...bodies[i])); });
  const br = (buf) => brotliCompressSync(buf, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_LGWIN]: 22 } }).length;
  const rows = parts.map(([label], k) => [label, Buffer.concat(chunks[k])]);
  rows.push(['data section (texts, tables)', b.subarray(...dataRange)]);
  let sum = 0;
  console.log('part of the module, raw and brotli (compressed one part at a time):');
  for (const [label, buf] of rows) {
    const c = br(buf);
    sum += c;
    console.log(`${(buf.length / 1024).toFixed(1).padStart(9)} KB ${(c / 1024).toFixed(1).padStart(8)} KB br  ${label}`);
  }
  console.log(`${''.padStart(12)} ${(sum / 1024).toFixed(1).padStart(8)} KB br  in all, code and data (the shipped module adds its type, import, export and element sections)`);
}
let found = 0;
for (const f of forbidden) {
  const re = new RegExp(f);
  const hits = demangled.map((name, i) => [name, sizes[i]]).filter(([name]) => re.test(name));
  found += hits.length;
  if (hits.length) {
    console.error(`✗ ${hits.length} function(s) matching /${f}/ in ${file}:`);
    for (const [name, size] of hits.slice(0, 20)) console.error(`    ${String(size).padStart(7)} B  ${name}`);
  } else {
    console.log(`✓ no function matches /${f}/`);
  }
}
if (found) process.exit(1);
