// Performance measurements in headless Chromium on the release build (dist/), for scripts/bench.
// Not a test file (the test runner only picks *.test.mjs). Each command prints one JSON line.
//
//   node e2e/perf.mjs engine CASE [--runs K] [--requests N]
//       the page's hidden ?bench=CASE entry point (src/ui/bench.rs): the engine runs the case K
//       times in wasm, timed with performance.now(); prints the page's JSON line
//   node e2e/perf.mjs startup [--loads N]
//       N fresh loads (a new browser context each: cold HTTP and code caches). Interactive =
//       navigation start -> the first click on "Send GET /users" handled (its request chip is in
//       the DOM). The click is dispatched from inside the page as soon as the button exists, so
//       no round trip to this process is counted.
//   node e2e/perf.mjs frames [--inflight 500] [--seconds 5]
//       requestAnimationFrame deltas in the playground with `inflight` requests in flight
//       (slow_app, real-time speed: each waits 60 s of virtual time for proxy_read_timeout),
//       after a baseline with nothing in flight; also the main thread's busy time per second
//       (CDP Performance metrics). --screenshot FILE saves the page with them in flight.
//   node e2e/perf.mjs memory [--keep all]
//       ?bench=memory: a simulated hour at 50 requests/s as the playground runs it
//       (bench::long_run), the wasm linear memory after every 5 simulated minutes
//
// The app URL is GATEWAY_LAB_URL, or dist/ served here under /gateway-lab/ (e2e/lib.mjs).
import { launch, newPage, appUrl, openApp, sel, TIMEOUT } from './lib.mjs';

const [cmd, ...rest] = process.argv.slice(2);
const opts = {};
const positional = [];
for (let i = 0; i < rest.length; i++) {
  if (rest[i].startsWith('--')) opts[rest[i].slice(2)] = rest[++i];
  else positional.push(rest[i]);
}
const int = (name, dflt) => {
  const v = opts[name] === undefined ? dflt : Number(opts[name]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} needs a positive whole number`);
  return v;
};

function median(xs) {
  const v = [...xs].sort((a, b) => a - b);
  const n = v.length;
  return n === 0 ? NaN : n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
function percentile(xs, p) {
  const v = [...xs].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.ceil((p / 100) * v.length) - 1)];
}
const r1 = (x) => Math.round(x * 10) / 10;

// Loads the page's hidden ?bench= entry point with `query` and returns its JSON result.
async function benchPage(browser, query) {
  const s = await newPage(browser);
  try {
    await s.page.goto(`${await appUrl()}?${query}`, { waitUntil: 'load', timeout: TIMEOUT.navigation });
    const el = s.page.locator('[data-testid=bench-result]');
    await s.page.waitForFunction(
      () => (document.querySelector('[data-testid=bench-result]')?.textContent ?? '').length > 0,
      null,
      { timeout: 600_000, polling: 200 },
    );
    const result = JSON.parse(await el.textContent());
    if (result.error) throw new Error(result.error);
    if (s.pageErrors.length) throw new Error(`page errors: ${s.pageErrors.join('; ')}`);
    return result;
  } finally {
    await s.close();
  }
}

async function engine(browser) {
  const name = positional[0];
  if (!name) throw new Error('engine: which case?');
  const runs = int('runs', 5);
  const q = new URLSearchParams({ bench: name, runs: String(runs) });
  if (opts.requests) q.set('requests', String(int('requests')));
  return benchPage(browser, q);
}

async function memory(browser) {
  const q = new URLSearchParams({ bench: 'memory' });
  if (opts.keep === 'all') q.set('keep', 'all');
  return benchPage(browser, q);
}

// Installed before any of the page's scripts run: records when the app has mounted, clicks
// "Send GET /users" in the next task and records when its request chip is in the DOM.
function instrument() {
  const p = (window.__perf = { wasm_start: null, wasm_ready: null, mounted: null, clicked: null, handled: null });
  // wasm-bindgen's init compiles and instantiates through one of these (streaming when it can).
  for (const k of ['instantiateStreaming', 'instantiate']) {
    const orig = WebAssembly[k];
    if (!orig) continue;
    WebAssembly[k] = async function (...args) {
      p.wasm_start ??= performance.now();
      const r = await orig.apply(this, args);
      p.wasm_ready = performance.now();
      return r;
    };
  }
  const obs = new MutationObserver(() => {
    if (p.mounted === null) {
      const btn = document.querySelector('[data-testid=send-request]');
      if (!btn) return;
      p.mounted = performance.now();
      setTimeout(() => {
        p.clicked = performance.now();
        btn.click();
      }, 0);
    }
    if (p.clicked !== null && p.handled === null && document.querySelector('[data-testid=request-chip]')) {
      p.handled = performance.now();
      obs.disconnect();
    }
  });
  obs.observe(document, { childList: true, subtree: true, characterData: true });
}

async function startup(browser) {
  const loads = int('loads', 7);
  const rows = [];
  for (let i = 0; i < loads; i++) {
    const s = await newPage(browser);
    try {
      await s.page.addInitScript(instrument);
      await s.page.goto(await appUrl(), { waitUntil: 'load', timeout: TIMEOUT.navigation });
      await s.page.waitForFunction(() => window.__perf?.handled != null, null, { timeout: TIMEOUT.mount, polling: 50 });
      const row = await s.page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const res = performance.getEntriesByType('resource');
        const end = (ext) => Math.max(0, ...res.filter((r) => new URL(r.name).pathname.endsWith(ext)).map((r) => r.responseEnd));
        return {
          html: nav.responseEnd,
          dom_content_loaded: nav.domContentLoadedEventEnd,
          load: nav.loadEventEnd,
          wasm_fetched: end('.wasm'),
          wasm_start: window.__perf.wasm_start,
          wasm_ready: window.__perf.wasm_ready,
          mounted: window.__perf.mounted,
          clicked: window.__perf.clicked,
          interactive: window.__perf.handled,
        };
      });
      if (s.pageErrors.length) throw new Error(`page errors: ${s.pageErrors.join('; ')}`);
      rows.push(row);
    } finally {
      await s.close();
    }
  }
  const keys = Object.keys(rows[0]);
  const med = Object.fromEntries(keys.map((k) => [k, r1(median(rows.map((r) => r[k])))]));
  const min = r1(Math.min(...rows.map((r) => r.interactive)));
  const max = r1(Math.max(...rows.map((r) => r.interactive)));
  return { loads, median_ms: med, interactive_ms: rows.map((r) => r1(r.interactive)), interactive_min: min, interactive_max: max };
}

// rAF deltas for `ms` milliseconds, and the long tasks (> 50 ms) seen meanwhile.
async function recordFrames(page, ms) {
  return page.evaluate(
    (ms) =>
      new Promise((resolve) => {
        const long = [];
        let po = null;
        try {
          po = new PerformanceObserver((l) => long.push(...l.getEntries().map((e) => e.duration)));
          po.observe({ type: 'longtask' });
        } catch {}
        const deltas = [];
        let last = null;
        const start = performance.now();
        const frame = (t) => {
          if (last !== null) deltas.push(t - last);
          last = t;
          if (t - start < ms) requestAnimationFrame(frame);
          else {
            po?.disconnect();
            resolve({ deltas, long });
          }
        };
        requestAnimationFrame(frame);
      }),
    ms,
  );
}

// Main-thread time Chromium spent on script, style, layout and tasks meanwhile (CDP Performance
// metrics, seconds -> ms per wall-clock second).
async function busy(cdp, run) {
  const get = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  const a = await get();
  const result = await run();
  const b = await get();
  const wall = b.Timestamp - a.Timestamp;
  const per_s = (k) => r1(((b[k] - a[k]) * 1000) / wall);
  return { ...result, busy_ms_per_s: { task: per_s('TaskDuration'), script: per_s('ScriptDuration'), style: per_s('RecalcStyleDuration'), layout: per_s('LayoutDuration') } };
}

function frameStats({ deltas, long, busy_ms_per_s }) {
  return {
    busy_ms_per_s,
    frames: deltas.length,
    median_ms: r1(median(deltas)),
    p95_ms: r1(percentile(deltas, 95)),
    max_ms: r1(Math.max(...deltas)),
    long_tasks: long.length,
  };
}

async function pendingCount(page) {
  const t = (await page.locator('[data-testid=pending]').textContent()) ?? '';
  const m = t.match(/(\d+) requests? in flight/);
  return m ? Number(m[1]) : 0;
}

async function frames(browser) {
  const inflight = int('inflight', 500);
  const seconds = int('seconds', 5);
  const s = await newPage(browser);
  try {
    await openApp(s.page);
    // Real time (1×): the playing clock advances the simulation every 50 ms and the page re-renders.
    const realTime = await s.page.$eval('[data-testid=speed]', (el) =>
      [...el.options].find((o) => o.textContent.startsWith('real time'))?.value,
    );
    await s.page.selectOption('[data-testid=speed]', realTime);
    await s.page.selectOption(sel.fault, 'slow_app');
    await s.page.click('[data-testid=play-pause]');
    const cdp = await s.context.newCDPSession(s.page);
    await cdp.send('Performance.enable');
    const baseline = frameStats(await busy(cdp, () => recordFrames(s.page, seconds * 1000)));
    // `inflight` requests in one go, from inside the page: bursts (200 at 50/s) then single sends.
    const burstSize = Number((await s.page.textContent('[data-testid=send-burst]')).match(/Send (\d+)/)[1]);
    await s.page.evaluate(
      ([n, b]) => {
        const burst = document.querySelector('[data-testid=send-burst]');
        const send = document.querySelector('[data-testid=send-request]');
        let left = n;
        while (left >= b) {
          burst.click();
          left -= b;
        }
        for (; left > 0; left--) send.click();
      },
      [inflight, burstSize],
    );
    // Wait until they have all been sent (the bursts spread them over 1 + 200/50 s of virtual time).
    await s.page.waitForTimeout(6_000);
    const before = await pendingCount(s.page);
    const loaded = frameStats(await busy(cdp, () => recordFrames(s.page, seconds * 1000)));
    const after = await pendingCount(s.page);
    if (opts.screenshot) await s.page.screenshot({ path: opts.screenshot });
    if (s.pageErrors.length) throw new Error(`page errors: ${s.pageErrors.join('; ')}`);
    return { seconds, baseline, inflight: { requests_before: before, requests_after: after, ...loaded } };
  } finally {
    await s.close();
  }
}

const commands = { engine, startup, frames, memory };
if (!commands[cmd]) {
  console.error('usage: node e2e/perf.mjs engine CASE [--runs K] [--requests N] | startup [--loads N] | frames [--inflight N] [--seconds S] | memory [--keep all]');
  process.exit(2);
}
const browser = await launch();
try {
  console.log(JSON.stringify(await commands[cmd](browser)));
} finally {
  await browser.close();
}
process.exit(0);
