// The embed's static preview (issue 20): before the reader clicks a start=click embed, or before a
// frame scrolls into view, the embed shows what the engine produced at build time (previews.json,
// crates/core/src/preview.rs) and requests no WebAssembly; then the live embed takes its place
// without moving. Screenshots of both at 600×400 go to target/screenshots/ (and to
// $PREVIEW_SHOTS when set).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { launch, newPage, appUrl, assertNoErrors, screenshot, TIMEOUT, ERROR_502 } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function waitFor(fn, what, timeout = TIMEOUT.result) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`waited ${timeout} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Counts the main-module .wasm requests of a page (all its frames). The chunks it loads after it
 * (the codec chunk that reads a link's scenario, src/ui/codec.rs, and the chunks it shares) are not
 * counted: they come after the main module, and only once it has started. */
function wasmRequests(page) {
  const seen = [];
  page.on('request', (r) => {
    if (r.url().endsWith('_bg.wasm')) seen.push({ url: r.url(), frame: r.frame().url() });
  });
  return seen;
}

async function shot(page, name) {
  await screenshot(page, name);
  if (process.env.PREVIEW_SHOTS) {
    await mkdir(process.env.PREVIEW_SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(process.env.PREVIEW_SHOTS, `${name}.png`) });
  }
}

/** The on-screen boxes of the parts both the preview and the live embed draw. */
async function boxes(page, root) {
  const out = {};
  for (const part of ['.embed-bar', '.embed-topology', '.embed-controls', '.embed-status', '.embed-log-line']) {
    const b = await page.locator(`${root} ${part}`).first().boundingBox();
    out[part] = b && { x: Math.round(b.x), y: Math.round(b.y), w: Math.round(b.width), h: Math.round(b.height) };
  }
  return out;
}

test('start=click: the engine\'s preview, no wasm; the click loads it and the live embed shows the same, in the same place', { timeout: 90_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 600, height: 400 } });
  try {
    const wasm = wasmRequests(s.page);
    await s.page.goto(`${await appUrl()}?embed=1&start=click&fault=app_down`, { waitUntil: 'load', timeout: TIMEOUT.navigation });
    const preview = s.page.locator('[data-testid=embed-preview]');
    await preview.waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    assert.match(await s.page.textContent('[data-testid=preview-title]'), /^App process not running · nginx$/);
    const status = await s.page.textContent('[data-testid=preview-status]');
    assert.match(status, /^502 Bad Gateway/);
    const line = await s.page.textContent('[data-testid=preview-log-line]');
    assert.match(line, ERROR_502);
    assert.equal(await s.page.locator('[data-testid=embed-preview] .embed-box.upstream .embed-box-state').textContent(), 'down');
    assert.equal(await s.page.textContent('[data-testid=embed-start]'), '▶ Run this example');
    await s.page.waitForTimeout(800);
    assert.deepEqual(wasm, [], 'no WebAssembly before the click');
    assert.equal(await s.page.locator('[data-testid=embed]').count(), 0, 'no live embed before the click');
    const before = await boxes(s.page, '[data-testid=embed-preview]');
    await shot(s.page, 'preview-click-before');

    await s.page.click('[data-testid=embed-start]');
    await s.page.locator('[data-testid=embed-send]').waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    assert.equal(wasm.length, 1, 'the click loads the WebAssembly once');
    assert.equal(await preview.count(), 0, 'the preview is gone');
    assert.equal(await s.page.locator('[data-testid=embed-start]').count(), 0, 'the live embed started with the click');
    await waitFor(async () => /^502 Bad Gateway/.test(await s.page.textContent('[data-testid=embed-status]')), 'the live 502');
    // The engine's words, the same before and after the WebAssembly.
    assert.equal((await s.page.textContent('[data-testid=embed-status]')).trim(), status.trim());
    assert.equal(await s.page.textContent('[data-testid=embed-log-line]'), line);
    const after = await boxes(s.page, '[data-testid=embed]');
    for (const [part, b] of Object.entries(before)) {
      assert.ok(b, `${part} is drawn in the preview`);
      assert.deepEqual(after[part], b, `${part} does not move when the live embed replaces the preview`);
    }
    await shot(s.page, 'preview-click-after');
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('HAProxy: the preview carries the httplog line and its termination state', { timeout: 60_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 600, height: 400 } });
  try {
    const wasm = wasmRequests(s.page);
    await s.page.goto(`${await appUrl()}?embed=1&start=click&fault=slow_app&flavor=haproxy`, { waitUntil: 'load', timeout: TIMEOUT.navigation });
    await s.page.locator('[data-testid=embed-preview]').waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    assert.match(await s.page.textContent('[data-testid=preview-title]'), /· haproxy$/);
    assert.match(await s.page.textContent('[data-testid=preview-status]'), /^504 Gateway Time-out/);
    assert.match(await s.page.textContent('[data-testid=embed-preview] .embed-log-title'), /HAProxy log/);
    assert.match(await s.page.textContent('[data-testid=embed-preview] .embed-termination'), /^sH--/);
    await shot(s.page, 'preview-haproxy');
    assert.deepEqual(wasm, []);
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('Apache, Caddy and Varnish: each flavor\'s preview, from its own file, is what its live embed shows after the click', { timeout: 120_000 }, async () => {
  // (flavor, fault, the status its preview and live embed show, words of its log's title)
  const cases = [
    ['apache', 'app_down', '503 Service Unavailable', /^Apache error\.log$/],
    ['caddy', 'app_down', '502 Bad Gateway', /^Caddy error log \(JSON\)$/],
    ['varnish', 'slow_app', '503 Backend fetch failed', /^varnishlog$/],
  ];
  for (const [flavor, fault, status, logTitle] of cases) {
    const s = await newPage(browser, { viewport: { width: 600, height: 400 } });
    try {
      const wasm = wasmRequests(s.page);
      const files = [];
      s.page.on('request', (r) => { if (/previews[^/]*\.json$/.test(r.url())) files.push(path.basename(new URL(r.url()).pathname)); });
      await s.page.goto(`${await appUrl()}?embed=1&start=click&fault=${fault}&flavor=${flavor}`, { waitUntil: 'load', timeout: TIMEOUT.navigation });
      await s.page.locator('[data-testid=embed-preview]').waitFor({ state: 'visible', timeout: TIMEOUT.mount });
      assert.match(await s.page.textContent('[data-testid=preview-title]'), new RegExp(`· ${flavor}$`));
      const shown = await s.page.textContent('[data-testid=preview-status]');
      assert.ok(shown.startsWith(status), `${flavor}: the preview shows ${JSON.stringify(shown)}`);
      assert.doesNotMatch(await s.page.textContent('[data-testid=embed-preview]'), /Run this example to see the status/);
      assert.match(await s.page.textContent('[data-testid=embed-preview] .embed-log-title'), logTitle);
      const line = await s.page.textContent('[data-testid=preview-log-line]');
      assert.deepEqual(files, ['previews.json', `previews-${flavor}.json`]);
      assert.deepEqual(wasm, [], 'no WebAssembly before the click');
      await shot(s.page, `preview-${flavor}`);
      await s.page.click('[data-testid=embed-start]');
      await s.page.locator('[data-testid=embed-send]').waitFor({ state: 'visible', timeout: TIMEOUT.mount });
      await waitFor(async () => (await s.page.locator('[data-testid=embed-status]').textContent().catch(() => '')).startsWith(status), `${flavor}: the live embed's ${status}`);
      assert.equal(await s.page.locator('[data-testid=embed-log-line]').first().textContent(), line, `${flavor}: the live embed's line is the preview's`);
      assert.match(await s.page.textContent('[data-testid=embed-log-title]'), logTitle);
      assertNoErrors(s);
    } finally {
      await s.close();
    }
  }
  // nginx's embeds do not fetch the other flavors' files.
  const s = await newPage(browser, { viewport: { width: 600, height: 400 } });
  try {
    const files = [];
    s.page.on('request', (r) => { if (/previews[^/]*\.json$/.test(r.url())) files.push(path.basename(new URL(r.url()).pathname)); });
    await s.page.goto(`${await appUrl()}?embed=1&start=click&fault=app_down`, { waitUntil: 'load', timeout: TIMEOUT.navigation });
    await s.page.locator('[data-testid=preview-log-line]').waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    assert.deepEqual(files, ['previews.json']);
  } finally {
    await s.close();
  }
});

test('an address without a prerendered preview names its fault and promises no status', { timeout: 60_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 600, height: 400 } });
  try {
    await s.page.goto(`${await appUrl()}?embed=1&start=click&fault=app_down&seed=7`, { waitUntil: 'load', timeout: TIMEOUT.navigation });
    await s.page.locator('[data-testid=embed-preview]').waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    assert.equal(await s.page.textContent('[data-testid=preview-status]'), 'Breaks: App process not running');
    assert.match(await s.page.textContent('[data-testid=embed-preview] .embed-explanation'), /Run this example/);
    assert.equal(await s.page.locator('[data-testid=preview-log-line]').count(), 0);
    // A fragment made by the app for an edited scenario: its own title and faults.
    const json = JSON.stringify({ version: 2, title: 'Checkout outage', faults: [{ type: 'slow_app' }], proxy: { flavor: 'haproxy' } });
    const frag = 's=1.' + Buffer.from(json).toString('base64url');
    await s.page.goto(`${await appUrl()}?embed=1&start=click#${frag}`, { waitUntil: 'load', timeout: TIMEOUT.navigation });
    await s.page.locator('[data-testid=embed-preview]').waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    assert.equal(await s.page.textContent('[data-testid=preview-title]'), 'Checkout outage · haproxy');
    assert.match(await s.page.textContent('[data-testid=preview-status]'), /^Breaks: /);
    await s.page.click('[data-testid=embed-start]');
    await s.page.locator('[data-testid=embed-send]').waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    assert.match(await s.page.textContent('[data-testid=embed-title]'), /^Checkout outage · haproxy$/);
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('a frame below the fold shows its preview and loads when scrolled into view; a message before that loads it too', { timeout: 90_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 1000, height: 700 } });
  try {
    const wasm = wasmRequests(s.page);
    // A docs page next to the app (same origin, so a relative src works), two frames far down.
    await s.page.goto(new URL('embed-demo.html', await appUrl()).href, { waitUntil: 'load', timeout: TIMEOUT.navigation });
    await s.page.evaluate(() => {
      document.body.innerHTML = '';
      window.seen = [];
      window.addEventListener('message', (e) => {
        for (const name of ['far', 'pinged']) {
          if (e.source === document.getElementById(name)?.contentWindow) window.seen.push({ name, ...e.data });
        }
      });
      const spacer = document.createElement('div');
      spacer.style.height = '4000px';
      document.body.append(spacer);
      for (const [name, fault] of [['far', 'app_down'], ['pinged', 'slow_app']]) {
        const f = document.createElement('iframe');
        f.id = name;
        f.width = '600';
        f.height = '400';
        f.setAttribute('sandbox', 'allow-scripts allow-same-origin');
        f.src = `./?embed=1&fault=${fault}`; // not loading=lazy: the frame itself loads at once
        document.body.append(f);
      }
    });
    const far = s.page.frameLocator('#far');
    await far.locator('[data-testid=embed-preview]').waitFor({ state: 'attached', timeout: TIMEOUT.mount });
    assert.match(await far.locator('[data-testid=preview-status]').textContent(), /^502 Bad Gateway/);
    await s.page.frameLocator('#pinged').locator('[data-testid=embed-preview]').waitFor({ state: 'attached', timeout: TIMEOUT.mount });
    await s.page.waitForTimeout(800);
    assert.deepEqual(wasm, [], 'out of view: no WebAssembly');

    // A message to a frame that has not loaded: it loads, then answers.
    await s.page.evaluate(() => document.getElementById('pinged').contentWindow.postMessage({ gatewayLab: 1, type: 'ping', id: 'early' }, '*'));
    const pong = await waitFor(async () => (await s.page.evaluate(() => window.seen)).find((e) => e.name === 'pinged' && e.type === 'pong'), 'pong');
    assert.equal(pong.id, 'early');
    const seen = await s.page.evaluate(() => window.seen.filter((e) => e.name === 'pinged').map((e) => e.type));
    assert.ok(seen.indexOf('ready') >= 0 && seen.indexOf('ready') < seen.indexOf('pong'), `ready, then pong: ${seen}`);
    assert.equal(wasm.filter((w) => w.frame.includes('fault=app_down')).length, 0, 'the frame still out of view has loaded nothing');

    await s.page.locator('#far').scrollIntoViewIfNeeded();
    await far.locator('[data-testid=embed-send]').waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    assert.equal(wasm.filter((w) => w.frame.includes('fault=app_down')).length, 1, 'in view: loaded');
    await waitFor(async () => /^502 Bad Gateway/.test(await far.locator('[data-testid=embed-status]').textContent()), 'the live 502');
    assert.equal(await far.locator('[data-testid=embed-preview]').count(), 0);
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});
