#!/usr/bin/env node
// Writes FILE.br (brotli, quality 11) and FILE.gz (gzip -9) next to every text and wasm asset in a
// built dist/ (.html .js .css .wasm .svg .json .txt), so a static host can send them as they are
// (README: "Serving dist/ from a static host"). A compressed copy that is not smaller than its
// file is not written. Compression is deterministic: same input, same bytes (no timestamps, no
// file names in the gzip header).
//
//   node scripts/precompress.mjs [DIR]      (default dist)
import { readdirSync, readFileSync, statSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const dir = path.resolve(process.argv[2] ?? 'dist');
const KINDS = new Set(['.html', '.js', '.css', '.wasm', '.svg', '.json', '.txt']);

function* files(d) {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.isFile() && KINDS.has(path.extname(e.name).toLowerCase())) yield p;
  }
}

let raw = 0;
let br = 0;
let gz = 0;
let count = 0;
for (const file of files(dir)) {
  const data = readFileSync(file);
  const variants = [
    ['.br', brotliCompressSync(data, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 11,
        [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
        [constants.BROTLI_PARAM_MODE]: file.endsWith('.wasm') ? constants.BROTLI_MODE_GENERIC : constants.BROTLI_MODE_TEXT,
      },
    })],
    ['.gz', gzipSync(data, { level: 9 })],
  ];
  for (const [ext, packed] of variants) {
    if (packed.length < data.length) writeFileSync(file + ext, packed);
    else rmSync(file + ext, { force: true });
  }
  raw += data.length;
  br += Math.min(variants[0][1].length, data.length);
  gz += Math.min(variants[1][1].length, data.length);
  count += 1;
}
if (count === 0) {
  console.error(`precompress: no assets in ${dir}`);
  process.exit(2);
}
const kb = (b) => (b / 1024).toFixed(1) + ' KB';
console.log(`✓ precompressed ${count} files in ${path.relative(process.cwd(), dir) || '.'}: ${kb(raw)} raw, ${kb(gz)} gzip, ${kb(br)} brotli`);
