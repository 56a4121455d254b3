// The same scenario gives the same run natively and in the browser (what share links promise).
//
// Scenarios 0..N of the property generator (gateway_core::sim::sample::random_scenario: both
// proxy flavors, every retry preset, uniform, Poisson and synchronised arrivals, catalog faults)
// run natively (`gateway-sim --corpus N`: SHA-256 of each transcript) and in the release wasm in
// Chromium (the page's hidden `?bench=corpus&n=N`, which leaves the transcripts in
// window.__gatewayCorpus; they are hashed here with the browser's SubtleCrypto, so the bundle
// carries no hash code). Every hash must match. On a mismatch the test names the first differing
// scenario, how to replay it natively, and the first line where the two transcripts differ.
//
// DETERMINISM_N (default 1000) sets N. GATEWAY_SIM=path uses that gateway-sim binary instead of
// `cargo run -q -p gateway-core --bin gateway-sim` (which reuses what `cargo test` built).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { launch, newPage, appUrl, assertNoErrors, REPO_ROOT, TIMEOUT } from './lib.mjs';

const N = Number(process.env.DETERMINISM_N || 1000);
const NATIVE_TIMEOUT = 600_000; // may include compiling gateway-sim (debug) when run alone
const CORPUS_TIMEOUT = 300_000; // the browser's run of N scenarios

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Runs gateway-sim with `args`; resolves with its standard output. */
function gatewaySim(args) {
  const [cmd, pre] = process.env.GATEWAY_SIM
    ? [process.env.GATEWAY_SIM, []]
    : ['cargo', ['run', '-q', '-p', 'gateway-core', '--bin', 'gateway-sim', '--']];
  return new Promise((resolve, reject) => {
    execFile(cmd, [...pre, ...args], { cwd: REPO_ROOT, timeout: NATIVE_TIMEOUT, maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${[...pre, ...args].join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Native hashes of scenarios 0..n: `gateway-sim --corpus n`. */
async function nativeHashes(n) {
  const out = await gatewaySim(['--corpus', String(n)]);
  const lines = out.trimEnd().split('\n');
  assert.equal(lines.length, n, `gateway-sim --corpus ${n} printed ${lines.length} lines`);
  return lines.map((line, i) => {
    const m = /^(\d+) ([0-9a-f]{64})$/.exec(line);
    assert.ok(m && Number(m[1]) === i, `gateway-sim --corpus line ${i + 1} is not "${i} <sha256>": ${JSON.stringify(line)}`);
    return m[2];
  });
}

/**
 * Opens `?bench=corpus&n=N[&perturb=I]` and waits for the run. Returns the session (its page keeps
 * window.__gatewayCorpus), the page's summary and the SHA-256 of every transcript.
 */
async function browserCorpus(n, perturb) {
  const s = await newPage(browser);
  const q = new URLSearchParams({ bench: 'corpus', n: String(n) });
  if (perturb !== undefined) q.set('perturb', String(perturb));
  await s.page.goto(`${await appUrl()}?${q}`, { waitUntil: 'load', timeout: TIMEOUT.navigation });
  await s.page.waitForFunction(
    () => (document.querySelector('[data-testid=bench-result]')?.textContent ?? '').length > 0,
    null,
    { timeout: CORPUS_TIMEOUT, polling: 200 },
  );
  const summary = JSON.parse(await s.page.locator('[data-testid=bench-result]').textContent());
  assert.equal(summary.error, undefined, `the page's corpus run failed: ${summary.error}`);
  assert.equal(summary.n, n, 'the page ran as many scenarios as asked');
  const hashes = await s.page.evaluate(async () => {
    const enc = new TextEncoder();
    const out = [];
    for (const t of window.__gatewayCorpus) {
      const d = new Uint8Array(await crypto.subtle.digest('SHA-256', enc.encode(t)));
      out.push(Array.from(d, (b) => b.toString(16).padStart(2, '0')).join(''));
    }
    return out;
  });
  assert.equal(hashes.length, n, 'one transcript per scenario in window.__gatewayCorpus');
  return { session: s, summary, hashes };
}

/** Indices where the two lists differ. */
function mismatches(native, wasm) {
  const out = [];
  for (let i = 0; i < Math.max(native.length, wasm.length); i++) if (native[i] !== wasm[i]) out.push(i);
  return out;
}

/** The first line where two transcripts differ, as a readable report. */
function firstDifference(nativeText, wasmText) {
  const a = nativeText.split('\n');
  const b = wasmText.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      return `line ${i + 1}:\n    native: ${JSON.stringify(a[i] ?? '(end of transcript)')}\n    wasm:   ${JSON.stringify(b[i] ?? '(end of transcript)')}`;
    }
  }
  return 'no line differs (a difference in the final newline?)';
}

/** The failure message for the first mismatch: which scenario, how to replay it, what differs. */
async function report(session, bad, n) {
  const k = bad[0];
  const nativeText = await gatewaySim(['--sample', String(k)]);
  const wasmText = await session.page.evaluate((i) => window.__gatewayCorpus[i], k);
  return (
    `${bad.length} of ${n} scenarios differ natively and in the wasm (first ones: ${bad.slice(0, 10).join(', ')}).\n` +
    `  first: scenario ${k} (replay natively: cargo run -q -p gateway-core --bin gateway-sim -- --sample ${k}),\n` +
    `  ${firstDifference(nativeText, wasmText)}`
  );
}

test(`the same ${N} random scenarios give the same transcripts natively and in the release wasm`, { timeout: NATIVE_TIMEOUT + CORPUS_TIMEOUT }, async (t) => {
  let started = performance.now();
  const native = await nativeHashes(N);
  const nativeMs = performance.now() - started;
  // A constant transcript would match trivially: the scenarios must really differ.
  const distinct = new Set(native).size;
  assert.ok(distinct > N * 0.9, `only ${distinct} distinct transcripts among ${N} scenarios`);

  started = performance.now();
  const { session, summary, hashes } = await browserCorpus(N);
  const browserMs = performance.now() - started;
  try {
    const bad = mismatches(native, hashes);
    if (bad.length) assert.fail(await report(session, bad, N));
    assertNoErrors(session, 'corpus page');
  } finally {
    await session.close();
  }
  const msg =
    `${N} scenarios, ${distinct} distinct transcripts (${(summary.bytes / 1e6).toFixed(1)} MB in the wasm): all ${N} SHA-256 identical; ` +
    `native ${(nativeMs / 1000).toFixed(1)} s (gateway-sim --corpus), browser ${(browserMs / 1000).toFixed(1)} s (engine ${(summary.ms / 1000).toFixed(1)} s)`;
  t.diagnostic(msg);
  console.log(`  determinism: ${msg}`);
});

test('one scenario made from another seed on the wasm side is caught and reported', { timeout: NATIVE_TIMEOUT + CORPUS_TIMEOUT }, async () => {
  const n = 40;
  const k = 17;
  const native = await nativeHashes(n);
  const { session, hashes } = await browserCorpus(n, k);
  try {
    const bad = mismatches(native, hashes);
    assert.deepEqual(bad, [k], 'exactly the perturbed scenario differs');
    const msg = await report(session, bad, n);
    assert.match(msg, new RegExp(`^1 of ${n} scenarios differ`));
    assert.match(msg, new RegExp(`first: scenario ${k} .*--sample ${k}\\)`));
    assert.match(msg, /line \d+:\n {4}native: ".*"\n {4}wasm: {3}".*"/);
    console.log(`  determinism (self-check): a perturbed scenario ${k} is reported as:\n    ${msg.replace(/\n/g, '\n    ')}`);
  } finally {
    await session.close();
  }
});
