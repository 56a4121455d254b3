// A panic shows an overlay with "reset to the default scenario" instead of a frozen page. The
// trigger is a hidden button compiled only into the test build (`--features debug-hooks`, built
// by scripts/test into target/dist-debug-hooks/); the published dist/ has no such button.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launch, newPage, appUrl, screenshot, sel, TIMEOUT } from './lib.mjs';
import { startStaticServer } from './static-server.mjs';

const DEBUG_DIST = fileURLToPath(new URL('../target/dist-debug-hooks/', import.meta.url));

let browser;
let server;
let debugUrl;
before(async () => {
  assert.ok(existsSync(DEBUG_DIST + 'index.html'), 'target/dist-debug-hooks/ is missing: run ./scripts/test (it builds the test variant)');
  ({ server, url: debugUrl } = await startStaticServer({ dir: DEBUG_DIST, base: '/gateway-lab/' }));
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.close();
});

test('a panic shows the overlay, and its reset link opens the default scenario', { timeout: 60_000 }, async () => {
  const s = await newPage(browser);
  try {
    const { page } = s;
    await page.goto(`${debugUrl}?fault=slow_app#s=1.eyJ2ZXJzaW9uIjoxLCJzZWVkIjo1fQ`, { waitUntil: 'load', timeout: TIMEOUT.navigation });
    await page.locator(sel.app).waitFor({ timeout: TIMEOUT.mount });
    // The page works, then panics.
    await page.click(sel.send);
    await page.$eval('[data-testid=debug-panic]', (b) => b.click());
    const overlay = page.locator('[data-testid=panic-overlay]');
    await overlay.waitFor({ timeout: TIMEOUT.action });
    assert.match(await overlay.textContent(), /Gateway Lab stopped/);
    assert.match(await overlay.textContent(), /a deliberate panic/);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'panic-overlay', 'the overlay takes the focus');
    await screenshot(page, 'panic-overlay');
    // The panic was reported, and nothing else went wrong.
    assert.ok(s.consoleErrors.some((e) => e.includes('a deliberate panic')), 'the panic is logged');
    const href = await page.getAttribute('[data-testid=panic-reset]', 'href');
    assert.equal(href, debugUrl, 'reset drops the query and the fragment');
    await page.click('[data-testid=panic-reset]');
    await page.waitForURL(debugUrl);
    await page.locator(sel.app).waitFor({ timeout: TIMEOUT.mount });
    assert.equal(await page.locator('[data-testid=panic-overlay]').count(), 0);
    assert.equal(await page.inputValue(sel.fault), 'none', 'the default scenario');
  } finally {
    await s.close();
  }
});

test('the published build has no debug trigger', { timeout: 30_000 }, async () => {
  const s = await newPage(browser);
  try {
    await s.page.goto(await appUrl(), { waitUntil: 'load', timeout: TIMEOUT.navigation });
    await s.page.locator(sel.app).waitFor({ timeout: TIMEOUT.mount });
    assert.equal(await s.page.locator('[data-testid=debug-panic]').count(), 0);
  } finally {
    await s.close();
  }
});
