// The loading state in index.html (public/boot.js, Trunk's data-initializer): what a reader sees
// before the WebAssembly arrives, on a slow link, and when it cannot arrive at all.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { launch, newPage, appUrl, assertNoErrors, screenshot, TIMEOUT } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** The page on the 1.6 Mbps / 150 ms link (what issue 15 measured a 7.4 s blank page on). */
async function throttled(viewport, query = '') {
  const s = await newPage(browser, { viewport });
  const cdp = await s.context.newCDPSession(s.page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 150, downloadThroughput: 200_000, uploadThroughput: 93_750 });
  await s.page.goto((await appUrl()) + query, { waitUntil: 'commit', timeout: TIMEOUT.navigation });
  return s;
}

test('on a throttled link the page says what it is and shows progress before the app mounts', { timeout: 120_000 }, async () => {
  const s = await throttled({ width: 1280, height: 800 });
  try {
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

test("the page's start is on screen while the wasm downloads, as the engine draws it (issue 20)", { timeout: 150_000 }, async () => {
  for (const [w, h] of [[1280, 800], [360, 740], [1920, 1080]]) {
    const s = await throttled({ width: w, height: h });
    try {
      const preview = s.page.locator('[data-testid=page-preview]');
      await preview.waitFor({ state: 'visible', timeout: 15_000 });
      // Still downloading: the stage is drawn before the simulator can run.
      assert.equal(await s.page.locator('[data-testid=app]').count(), 0, `${w}: the preview comes before the app`);
      const boxes = await preview.locator('.embed-box').allTextContents();
      assert.equal(boxes.length, 3, `${w}: client, proxy and app: ${boxes}`);
      assert.match(boxes[0], /client.*idle.*curl\/8\.5\.0 from 127\.0\.0\.1/);
      assert.match(boxes[1], /nginx.*running/);
      assert.match(boxes[2], /app.*listening.*127\.0\.0\.1:3000/);
      const detail = await preview.locator('.embed-box.proxy .embed-box-detail').textContent();
      // The live stage's own words, which boot.js repeats (read back once the app is up).
      const words = {
        cause: await preview.locator('.cause').textContent(),
        burst: await preview.locator('button.burst').textContent(),
        paste: await preview.locator('.paste-text').getAttribute('placeholder'),
        send: await preview.locator('button.send').textContent(),
      };
      assert.equal((await preview.locator('.status').textContent()).trim(), 'No request sent yet');
      const send = preview.locator('button.send');
      assert.ok(await send.isDisabled(), 'Send waits for the simulator');
      // The loading bar sits under Send, in the first screen, as does the status.
      await s.page.waitForFunction(() => Number(document.getElementById('boot-bar')?.value) > 0, null, { timeout: 60_000 });
      assert.ok(await preview.locator('.controls #boot-bar').count(), 'the bar is in the controls');
      for (const what of ['.status', '#boot-status', 'button.send']) {
        const b = await preview.locator(what).boundingBox();
        assert.ok(b && b.y + b.height <= h, `${w}×${h}: ${what} is in the first screen (${JSON.stringify(b)})`);
      }
      await screenshot(s.page, `page-preview-${w}`);
      // The live stage replaces it, and says the same.
      await s.page.locator('[data-testid=app]').waitFor({ state: 'visible', timeout: 120_000 });
      assert.equal(await s.page.locator('[data-preview]').count(), 0, 'the preview is gone once the app is up');
      assert.equal(await s.page.locator('[data-testid=boot]').count(), 0);
      assert.equal((await s.page.locator('[data-testid=box-proxy] .topo-detail').textContent()).trim(), detail.trim(), "the preview's proxy is the live one");
      assert.equal((await s.page.locator('[data-testid=status]').textContent()).trim(), 'No request sent yet');
      assert.deepEqual({
        cause: await s.page.locator('[data-testid=fault-cause]').textContent(),
        burst: await s.page.locator('[data-testid=send-burst]').textContent(),
        paste: await s.page.locator('[data-testid=paste-text]').getAttribute('placeholder'),
        send: await s.page.locator('[data-testid=send-request]').textContent(),
      }, words, "public/boot.js's words are the live stage's");
      assertNoErrors(s);
    } finally {
      await s.close();
    }
  }
});

test("a docs link's scenario is on screen while the wasm downloads: its status and log line, as the live page then shows them", { timeout: 120_000 }, async () => {
  const s = await throttled({ width: 1280, height: 800 }, '?fault=app_down');
  try {
    const preview = s.page.locator('[data-testid=page-preview]');
    await preview.waitFor({ state: 'visible', timeout: 20_000 });
    assert.equal(await s.page.locator('[data-testid=app]').count(), 0, 'the preview comes before the app');
    const status = (await preview.locator('.status').textContent()).trim();
    const line = (await preview.locator('[data-testid=preview-log-line]').textContent()).trim();
    const picked = (await preview.locator('.controls select option').textContent()).trim();
    assert.equal(status, '502 Bad Gateway');
    assert.match(line, /connect\(\) failed \(111: Connection refused\) while connecting to upstream/);
    assert.match(await preview.locator('.embed-box.upstream').textContent(), /down/);
    await screenshot(s.page, 'page-preview-app_down-1280');
    await s.page.locator('[data-testid=app]').waitFor({ state: 'visible', timeout: 90_000 });
    assert.equal(await s.page.locator('[data-preview]').count(), 0);
    assert.equal((await s.page.locator('[data-testid=status]').textContent()).trim(), status, "the preview's status is the live one");
    assert.equal((await s.page.locator('[data-testid=stage-log-line]').textContent()).trim(), line, "the preview's log line is the live one");
    assert.equal((await s.page.locator('[data-testid=fault-select] option:checked').textContent()).trim(), picked, "the preview's picker is the live one");
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('an address whose stage is not known before the wasm runs (a lesson) gets the plain loading screen', { timeout: 120_000 }, async () => {
  const s = await throttled({ width: 1280, height: 800 }, '?lesson=01-app-not-running');
  try {
    const boot = s.page.locator('[data-testid=boot]');
    await boot.waitFor({ state: 'visible', timeout: 10_000 });
    await s.page.waitForFunction(() => Number(document.getElementById('boot-bar')?.value) > 0, null, { timeout: 60_000 });
    assert.equal(await s.page.locator('[data-testid=page-preview]').count(), 0, "a lesson's stage is not the start's");
    await s.page.locator('[data-testid=app]').waitFor({ state: 'visible', timeout: 90_000 });
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
