// The codec chunk (issue 20, src/ui/codec.rs): reading JSON (a link's scenario, the lessons, an
// embed host's message) is a wasm chunk of its own. The plain page never downloads it (its
// Lessons tab lists the lessons from build.rs's index, and Start reads them); a
// page opened on a link with a scenario says "Opening the link's scenario…" with Send disabled
// until it arrives, then shows the link's scenario; a chunk that cannot be downloaded leaves the
// default scenario, a clear message and "Try again". Screenshots: target/screenshots/codec-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, openApp, appUrl, assertNoErrors, screenshot, sendRequest, waitForText, sel, TIMEOUT, holdChunk, refuseChunk } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const CODEC = '**/split_codec-*.wasm';

test('the plain page never downloads the codec chunk: the Lessons tab lists the lessons without it, and Start reads them', { timeout: 120_000 }, async () => {
  const s = await newPage(browser);
  const { page } = s;
  try {
    const { release, asked } = await holdChunk(page, CODEC);
    await openApp(page);
    const send = page.locator('[data-testid=send-request]');
    await send.waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    assert.ok(await send.isEnabled(), 'Send is enabled without the codec chunk');
    assert.equal(await page.locator('[data-testid=opening]').count(), 0, 'nothing to open');
    await sendRequest(page);
    await waitForText(page, sel.status, '200');
    // The Lessons tab (the default) lists every lesson, its summary and its steps (catalog::INDEX,
    // written by build.rs), with no JSON read.
    await page.locator('[data-testid=lessons]').waitFor({ state: 'visible', timeout: TIMEOUT.result });
    const options = await page.locator('[data-testid=lesson-select] option').allTextContents();
    assert.ok(options.length >= 8, `the lessons are listed: ${options.length}`);
    assert.equal(options[0], '1. The app is not running');
    assert.match(await page.locator('.lessons .lesson-summary').textContent(), /The most common 502/);
    await page.waitForTimeout(1_500);
    assert.equal(asked(), 0, 'the plain page did not ask for the codec chunk');
    // Start: the lessons are read now, and the button says so while they load.
    const start = page.locator('[data-testid=lesson-start]');
    await start.click();
    await page.waitForFunction(() => document.querySelector('[data-testid=lesson-start]')?.textContent.trim() === 'Loading the lesson…');
    assert.ok(await start.isDisabled(), 'Start waits for the lessons');
    assert.ok(asked() >= 1, 'Start asked for the codec chunk');
    await screenshot(page, 'codec-lesson-loading');
    release();
    await page.locator('[data-testid=lesson][data-lesson=app-not-running]').waitFor({ state: 'visible', timeout: TIMEOUT.result });
    assert.equal((await start.textContent()).trim(), 'Restart lesson');
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('a link with a scenario: "Opening the link\'s scenario…" and Send disabled until the codec chunk arrives', { timeout: 120_000 }, async () => {
  const s = await newPage(browser);
  const { page } = s;
  try {
    const { release } = await holdChunk(page, CODEC);
    await page.goto(`${await appUrl()}?fault=slow_app`, { waitUntil: 'load' });
    const opening = page.locator('[data-testid=opening]');
    await opening.waitFor({ state: 'attached', timeout: TIMEOUT.mount });
    assert.equal((await opening.textContent()).trim(), "Opening the link's scenario…");
    assert.equal(await opening.getAttribute('role'), 'status');
    assert.ok(await page.locator('[data-testid=send-request]').isDisabled(), 'Send waits for the scenario');
    assert.equal((await page.locator(sel.status).textContent()).trim(), 'No request sent yet', 'no result of another scenario');
    // What the reader sees: the page's preview of the link's scenario (public/boot.js, drawn when
    // previews.json arrived before the wasm), which hides the live root while it opens and says the
    // same in its status line, not "Loading the simulator… 100 %"; or, without a preview, the live
    // stage's own line.
    if (await page.locator('#boot.boot-page').count()) {
      await page.waitForFunction(() => document.getElementById('boot-status')?.textContent.trim() === "Opening the link's scenario…", null, { timeout: TIMEOUT.mount });
      assert.ok(await page.locator('#boot-status').isVisible(), "the preview's status line is on screen");
    } else {
      assert.ok(await opening.isVisible(), 'the live stage says it is opening the link');
    }
    await screenshot(page, 'codec-opening');
    release();
    await page.locator(sel.app).waitFor({ state: 'visible', timeout: TIMEOUT.result });
    assert.equal(await page.inputValue(sel.fault), 'slow_app');
    assert.equal(await opening.count(), 0);
    await sendRequest(page);
    await waitForText(page, sel.status, '504');
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('a codec chunk that fails to download: the default scenario, a clear message, and "Try again" opens the link', { timeout: 120_000 }, async () => {
  const s = await newPage(browser);
  const { page } = s;
  try {
    const refused = await refuseChunk(page, CODEC);
    await page.goto(`${await appUrl()}?fault=slow_app`, { waitUntil: 'load' });
    const failed = page.locator('[data-testid=opening-failed]');
    await failed.waitFor({ state: 'visible', timeout: TIMEOUT.result });
    assert.ok(refused() >= 1, 'the chunk was requested');
    assert.match(await failed.innerText(), /Could not open the link's scenario: its part of the simulator did not download, so the page shows the default scenario\. Check the connection and try again\./);
    assert.equal(await failed.getAttribute('role'), 'alert');
    await screenshot(page, 'codec-failed');
    assert.equal(await page.inputValue(sel.fault), 'none', 'the default scenario');
    assert.ok(await page.locator('[data-testid=send-request]').isEnabled(), 'the page still works');
    await page.unroute(CODEC);
    await failed.getByRole('button', { name: 'Try again' }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="fault-select"]')?.value === 'slow_app', null, { timeout: TIMEOUT.result }).catch(() => {});
    assert.equal(await page.inputValue(sel.fault), 'slow_app');
    assert.equal(await failed.count(), 0);
    for (const e of s.consoleErrors) assert.match(e, /split_codec|Failed to fetch|ERR_CONNECTION_RESET|TypeError/, `unexpected console error: ${e}`);
    assert.deepEqual(s.pageErrors, []);
  } finally {
    await s.close();
  }
});
