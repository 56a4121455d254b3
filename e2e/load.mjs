// First-load measurement (issue 20): bytes a browser transfers for each view, and, on a throttled
// link, when the first meaningful paint and the interactive state arrive. A measurement, not a
// test: it prints a table (and JSON with --json) and exits 0; scripts/test's budgets read the JSON.
//
//   node e2e/load.mjs [--dir dist] [--json FILE] [--throttle [--cpu N]] [--shots DIR]
//                     [--budget page=KB,embed-click=KB,...]
//
// --budget: fails (exit 1) when a view's bytes on the loopback run exceed its budget in KB (1024 B):
// `VIEW=KB` counts up to idle, `VIEW@send=KB` what was downloaded when Send became usable (the
// "at Send" column: page, link and embed); scripts/test passes its budgets this way (issue 20 item 5).
//
// The release dist/ is served on loopback the way a static host serves it: when dist/ holds a
// precompressed `X.br` / `X.gz` next to `X` and the request accepts that encoding, that file is
// sent with Content-Encoding (br first); otherwise the file as it is. Bytes are what the server's
// sockets wrote (status line, headers, body as sent) per view, each view in a fresh browser
// context with the cache disabled.
//
// Views:
//   page          ./                          until the stage's Send button is enabled
//   link          ./?fault=app_down           the same for a docs link to the page
//   embed-click   ./?embed=1&start=click      until the page is idle (no request for 1 s): what a
//                                             docs page pays for an embed nobody clicked yet
//   embed-after   the same, then a click on the start button, until the embed's Send is enabled
//   embed         ./?embed=1&fault=app_down   until the embed's Send is enabled
//   page+TAB      the page, then a click on tab TAB (every tab whose panel is a wasm chunk,
//                 src/ui/lazy.rs), until its panel has loaded and the network is idle: what opening
//                 that tab costs on top of the page; its interactive time is counted from the click
//   page+all      the page, then every tab in turn: the whole app
//
// Each view also counts the WebAssembly it fetched: the main module and the chunks of the split
// build (issue 20: scripts/wasm-split), with their names in the JSON.
//
// --throttle: the same views on a 1.6 Mbps / 150 ms link (CDP Network.emulateNetworkConditions:
// 200,000 B/s down, 96,000 B/s up, 150 ms latency). "paint" is the first time something of the
// scenario (the topology's boxes or a status) is on screen; "interactive" is when Send is enabled.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStaticServer } from './static-server.mjs';
import { launch } from './lib.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = path.resolve(ROOT, opt('--dir', 'dist'));
const jsonOut = opt('--json');
const shots = opt('--shots');
const throttle = args.includes('--throttle');
// --cpu N: with --throttle, also slow the CPU N times (Lighthouse's mobile profile uses 4).
const cpu = Number(opt('--cpu', '1'));
const budgetArg = opt('--budget');
const budgets = budgetArg
  ? Object.fromEntries(
      budgetArg.split(',').map((pair) => {
        const [view, limit] = pair.split('=');
        if (!view || !(Number(limit) > 0)) {
          console.error(`load.mjs: --budget wants VIEW=KB pairs separated by commas, not ${JSON.stringify(pair)}`);
          process.exit(2);
        }
        return [view, Number(limit)];
      }),
    )
  : null;
if (!existsSync(path.join(dir, 'index.html'))) {
  console.error(`load.mjs: ${dir}/index.html not found: run scripts/build-release first`);
  process.exit(2);
}

// What "something of the scenario is on screen" and "interactive" mean, by selector. The same
// selectors must hold for the page before and after issue 20 (a static preview counts as paint).
const PAINT = '#topology, .embed-topology, [data-preview]';
const SEND = '[data-testid="send-request"], [data-testid="embed-send"]';

// The tabs whose panels are loaded on demand (src/ui/lazy.rs); `lessons` is the default tab.
const LAZY_TABS = ['terminal', 'compare', 'quiz', 'lab', 'build', 'config'];
const VIEWS = [
  { name: 'page', query: '', ready: SEND },
  ...LAZY_TABS.map((t) => ({ name: `page+${t}`, query: '', ready: SEND, tabs: [t] })),
  { name: 'page+all', query: '', ready: SEND, tabs: ['lessons', 'logs', 'timeline', ...LAZY_TABS] },
  // A docs link to the page: its stage's preview (previews.json) is drawn while the wasm downloads.
  { name: 'link', query: '?fault=app_down', ready: SEND },
  { name: 'embed-click', query: '?embed=1&start=click', ready: 'idle' },
  { name: 'embed-after', query: '?embed=1&start=click', ready: SEND, click: true },
  { name: 'embed', query: '?embed=1&fault=app_down', ready: SEND },
];

const { server, url: base } = await startStaticServer({ dir, base: '/gateway-lab/', precompressed: true });
// Bytes on the wire are counted at the server: every byte its sockets wrote (status lines,
// headers, bodies as sent, compressed or not). Chromium's own encodedDataLength is unreliable
// under network emulation for a wasm streamed into WebAssembly.instantiateStreaming.
const sockets = new Set();
let closedBytes = 0;
server.on('connection', (socket) => {
  sockets.add(socket);
  socket.on('close', () => {
    closedBytes += socket.bytesWritten;
    sockets.delete(socket);
  });
});
const sentBytes = () => closedBytes + [...sockets].reduce((n, s) => n + s.bytesWritten, 0);
const browser = await launch();
const results = [];
try {
  for (const view of VIEWS) {
    results.push(await measure(view, false));
    if (throttle) results.push(await measure(view, true));
  }
} finally {
  await browser.close();
  server.close();
  server.closeAllConnections?.();
}

const kb = (b) => (b / 1024).toFixed(1);
console.log(`First load of ${path.relative(ROOT, dir) || '.'} (bytes the server wrote: headers and bodies as sent)`);
console.log('view            link        requests   wasm (chunks)   transferred   at Send     paint ms   interactive ms');
for (const r of results) {
  console.log(
    `${r.view.padEnd(15)} ${(r.throttled ? '1.6M/150ms' : 'loopback').padEnd(11)} ${String(r.requests).padStart(8)}   ` +
      `${`${r.wasm.length} (${r.chunks.length})`.padStart(13)}   ` +
      `${(kb(r.bytes) + ' KB').padStart(11)}   ${(r.bytesAtSend === null ? '-' : kb(r.bytesAtSend) + ' KB').padStart(9)}   ${String(r.paintMs ?? '-').padStart(8)}   ${String(r.interactiveMs ?? '-').padStart(14)}`,
  );
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(results, null, 2) + '\n');
if (budgets) {
  let over = 0;
  for (const [key, limit] of Object.entries(budgets)) {
    // `VIEW@send`: the bytes downloaded when Send became usable; `VIEW`: up to idle.
    const [view, at] = key.split('@');
    const r = results.find((x) => x.view === view && !x.throttled);
    const bytes = at === 'send' ? r?.bytesAtSend : r?.bytes;
    if (!r || (at !== undefined && at !== 'send') || bytes === null || bytes === undefined) {
      console.error(`✗ budget: no view named ${key} (VIEW or VIEW@send, for a view with a Send to wait for)`);
      over += 1;
    } else if (bytes > limit * 1024) {
      console.error(`✗ budget: ${key} transferred ${kb(bytes)} KB, over its budget of ${limit} KB`);
      over += 1;
    } else {
      console.log(`✓ budget: ${key} ${kb(bytes)} KB <= ${limit} KB`);
    }
  }
  if (over) process.exit(1);
}

async function measure(view, throttled) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  if (throttled && cpu > 1) await cdp.send('Emulation.setCPUThrottlingRate', { rate: cpu });
  if (throttled) {
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 150,
      downloadThroughput: 200_000,
      uploadThroughput: 96_000,
    });
  }
  const sent0 = sentBytes();
  let requests = 0;
  let lastActivity = Date.now();
  const inFlight = new Set();
  const wasm = [];
  cdp.on('Network.requestWillBeSent', (e) => {
    requests += 1;
    const file = new URL(e.request.url).pathname.split('/').pop();
    if (file.endsWith('.wasm')) wasm.push(file);
    inFlight.add(e.requestId);
    lastActivity = Date.now();
  });
  cdp.on('Network.loadingFinished', (e) => {
    inFlight.delete(e.requestId);
    lastActivity = Date.now();
  });
  cdp.on('Network.loadingFailed', (e) => {
    inFlight.delete(e.requestId);
    lastActivity = Date.now();
  });
  // Quiet: nothing in flight, and nothing started or ended for a while.
  const last = () => (inFlight.size > 0 ? Date.now() : lastActivity);
  const t0 = Date.now();
  let paintMs = null;
  const paintWatch = page
    .waitForSelector(PAINT, { state: 'visible', timeout: 120_000 })
    .then(() => (paintMs = Date.now() - t0))
    .catch(() => {});
  await page.goto(base + view.query, { waitUntil: 'commit', timeout: 120_000 });
  let interactiveMs = null;
  let bytesAtSend = null;
  if (view.click) {
    const start = page.locator('[data-testid="embed-start"]').first();
    await start.waitFor({ state: 'visible', timeout: 120_000 });
    await waitIdle(last, 1000, 120_000);
    const clickAt = Date.now();
    await start.click();
    await page.waitForSelector(view.ready, { state: 'visible', timeout: 120_000 });
    interactiveMs = Date.now() - clickAt;
    await waitIdle(last, 1000, 120_000);
    // embed-after counts everything: before and after the click.
  } else if (view.tabs) {
    await page.waitForSelector(view.ready, { state: 'visible', timeout: 120_000 });
    await waitIdle(last, 1000, 120_000);
    // Counted from the (last) click: the panel's chunk downloaded and the panel drawn.
    let clickAt = Date.now();
    for (const t of view.tabs) {
      clickAt = Date.now();
      await page.locator(`[data-testid="tab-${t}"]`).click();
      // The panel's loading state, as a reader on the slow link sees it while the chunk downloads.
      if (shots && throttled && view.tabs.length === 1) {
        mkdirSync(shots, { recursive: true });
        await page.screenshot({ path: path.join(shots, `${view.name}-loading-throttled.png`), fullPage: true });
      }
      const panel = page.locator(`[data-testid="panel-${t}"]`);
      await panel.waitFor({ state: 'visible', timeout: 120_000 });
      await page.waitForFunction(
        (sel) => {
          const el = document.querySelector(sel);
          return el && el.childElementCount > 0 && !el.querySelector('[data-testid="panel-loading"]');
        },
        `[data-testid="panel-${t}"]`,
        { timeout: 120_000 },
      );
      if (await panel.locator('[data-testid="panel-failed"]').count()) throw new Error(`${view.name}: the ${t} panel failed to load`);
    }
    interactiveMs = Date.now() - clickAt;
    await waitIdle(last, 1000, 120_000);
  } else if (view.ready === 'idle') {
    await waitIdle(last, 1000, 120_000);
  } else {
    await page.waitForSelector(view.ready, { state: 'visible', timeout: 120_000 });
    interactiveMs = Date.now() - t0;
    // What the reader had downloaded when Send became usable; later fetches (a chunk the
    // default tab asks for after the first frame) count in `bytes`, up to idle.
    bytesAtSend = sentBytes() - sent0;
    await waitIdle(last, 1000, 120_000);
  }
  await Promise.race([paintWatch, new Promise((r) => setTimeout(r, 100))]);
  if (shots) {
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: path.join(shots, `${view.name}${throttled ? '-throttled' : ''}.png`) });
  }
  await context.close();
  const bytes = sentBytes() - sent0;
  // The split build's main module is Trunk's `NAME-HASH_bg.wasm`; every other .wasm is a chunk.
  const chunks = wasm.filter((f) => !f.endsWith('_bg.wasm'));
  return { view: view.name, throttled, requests, bytes, bytesAtSend, paintMs, interactiveMs, wasm, chunks };
}

async function waitIdle(last, quietMs, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (Date.now() - last() >= quietMs) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`network never went quiet for ${quietMs} ms within ${timeoutMs} ms`);
}
