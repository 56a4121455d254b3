// The loading state in index.html (public/boot.js, Trunk's data-initializer): what a reader sees
// before the WebAssembly arrives, on a slow link, and when it cannot arrive at all.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { launch, newPage, appUrl, assertNoErrors, screenshot, TIMEOUT } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('on a throttled link the page says what it is and shows progress before the app mounts', { timeout: 120_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 1280, height: 800 } });
  try {
    const cdp = await s.context.newCDPSession(s.page);
    await cdp.send('Network.enable');
    // 1.6 Mbps down, 150 ms: the link issue 15 measured a 7.4 s blank page on.
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 150, downloadThroughput: 200_000, uploadThroughput: 93_750 });
    await s.page.goto(await appUrl(), { waitUntil: 'commit', timeout: TIMEOUT.navigation });
    const boot = s.page.locator('[data-testid=boot]');
    await boot.waitFor({ state: 'visible', timeout: 10_000 });
    assert.match(await boot.textContent(), /Gateway Lab/);
    assert.match(await boot.textContent(), /runs in your browser/);
    // Progress moves past zero while the wasm downloads.
    await s.page.waitForFunction(() => Number(document.getElementById('boot-bar')?.value) > 0, null, { timeout: 30_000 });
    const status = await s.page.locator('#boot-status').textContent();
    assert.match(status, /Loading the simulator… \d+ %/);
    await screenshot(s.page, 'boot-throttled');
    // Then the app replaces it.
    await s.page.locator('[data-testid=app]').waitFor({ state: 'visible', timeout: 90_000 });
    assert.equal(await boot.count(), 0, 'the loading state is gone once the app is up');
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('a failed download says so, in words, instead of a blank page', { timeout: 60_000 }, async () => {
  const s = await newPage(browser);
  try {
    await s.page.route(/\.wasm$/, (route) => route.fulfill({ status: 404, body: 'not found' }));
    await s.page.goto(await appUrl(), { waitUntil: 'load', timeout: TIMEOUT.navigation });
    const boot = s.page.locator('[data-testid=boot]');
    await s.page.waitForFunction(() => document.getElementById('boot')?.classList.contains('boot-failed'), null, { timeout: 20_000 });
    assert.equal(await boot.getAttribute('role'), 'alert');
    assert.match(await s.page.locator('#boot-status').textContent(), /could not start: the simulator \(WebAssembly\) did not load .*reload the page/);
    assert.equal(await s.page.locator('[data-testid=app]').count(), 0);
  } finally {
    await s.close();
  }
});

test('without WebAssembly the page says what is missing', { timeout: 60_000 }, async () => {
  const s = await newPage(browser);
  try {
    await s.page.addInitScript(() => { delete window.WebAssembly; });
    await s.page.goto(await appUrl(), { waitUntil: 'load', timeout: TIMEOUT.navigation });
    await s.page.waitForFunction(() => document.getElementById('boot')?.classList.contains('boot-failed'), null, { timeout: 20_000 });
    assert.match(await s.page.locator('#boot-status').textContent(), /cannot run WebAssembly/);
  } finally {
    await s.close();
  }
});
