// The split build (issue 20): the panels behind tabs are wasm chunks (src/ui/lazy.rs) fetched the
// first time their tab opens, with a visible loading state, and a chunk that cannot be downloaded
// gives a clear message and "Try again", never a blank panel. Screenshots:
// target/screenshots/split-loading.png, split-failed.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, openApp, assertNoErrors, screenshot, TIMEOUT, holdChunk, refuseChunk } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const chunkName = (url) => new URL(url).pathname.split('/').pop();

test('a tab fetches its chunk when first opened, says "Loading …" meanwhile, then shows its panel', { timeout: 120_000 }, async () => {
  const s = await newPage(browser);
  const { page } = s;
  try {
    const fetched = [];
    page.on('request', (r) => { if (r.url().endsWith('.wasm')) fetched.push(chunkName(r.url())); });
    // Hold the quiz's chunk until the loading state has been seen.
    const { release } = await holdChunk(page, '**/split_quiz-*.wasm');
    await openApp(page);
    await page.locator('[data-testid=send-request]').waitFor({ state: 'visible' });
    assert.equal(fetched.filter((f) => f.startsWith('split_quiz')).length, 0, `the quiz's chunk is not fetched before its tab opens (fetched: ${fetched.join(', ')})`);
    assert.equal(fetched.filter((f) => f.endsWith('_bg.wasm')).length, 1, 'one main module');

    await page.click('[data-testid=tab-quiz]');
    const loading = page.locator('[data-testid=panel-quiz] [data-testid=panel-loading]');
    await loading.waitFor({ state: 'visible', timeout: TIMEOUT.action });
    assert.equal((await loading.innerText()).trim(), 'Loading the quiz…');
    assert.equal(await loading.getAttribute('role'), 'status');
    await screenshot(page, 'split-loading');
    assert.ok(fetched.some((f) => f.startsWith('split_quiz-')), 'opening the tab fetches its chunk');
    release();
    await page.locator('[data-testid=panel-quiz]').getByText('Predict the status').waitFor({ state: 'visible', timeout: TIMEOUT.result });
    assert.equal(await loading.count(), 0, 'the loading state is gone once the panel is drawn');
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('a chunk that fails to download: a clear message with "Try again", which then loads the panel', { timeout: 120_000 }, async () => {
  const s = await newPage(browser);
  const { page } = s;
  try {
    const refused = await refuseChunk(page, '**/split_terminal-*.wasm');
    await openApp(page);
    await page.click('[data-testid=tab-terminal]');
    const failed = page.locator('[data-testid=panel-terminal] [data-testid=panel-failed]');
    await failed.waitFor({ state: 'visible', timeout: TIMEOUT.result });
    assert.ok(refused() >= 1, 'the chunk was requested');
    assert.match(await failed.innerText(), /Could not load the terminal: its part of the simulator did not download\. Check the connection and try again\./);
    assert.equal(await failed.getAttribute('role'), 'alert');
    await screenshot(page, 'split-failed');
    // The rest of the page still works.
    await page.click('[data-testid=send-request]');
    await page.locator('[data-testid=status]').waitFor({ state: 'visible', timeout: TIMEOUT.result });

    await page.unroute('**/split_terminal-*.wasm');
    await failed.getByRole('button', { name: 'Try again' }).click();
    await page.locator('[data-testid=terminal]').waitFor({ state: 'visible', timeout: TIMEOUT.result });
    assert.equal(await failed.count(), 0);
    // The only errors are the refused download's.
    for (const e of s.consoleErrors) assert.match(e, /split_terminal|Failed to fetch|ERR_CONNECTION_RESET|TypeError/, `unexpected console error: ${e}`);
    assert.deepEqual(s.pageErrors, []);
  } finally {
    await s.close();
  }
});
