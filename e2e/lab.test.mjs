// The retry lab: choose two strategies, run the comparison in virtual time, read both tables.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, withApp, setInput, screenshot, openTab, TIMEOUT } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** { metric id: text } of a result table. */
async function table(page, testid) {
  return page.$$eval(`[data-testid=${testid}] tr[data-metric]`, (rows) =>
    Object.fromEntries(rows.map((r) => [r.dataset.metric, r.querySelector('td').textContent.trim()])));
}

const percent = (s) => Number(s.match(/^([\d.]+) %/)[1]);
const amplification = (s) => Number(s.match(/^([\d.]+) =/)[1]);

async function runComparison(page) {
  const before = Number(await page.getAttribute('[data-testid=lab-output]', 'data-runs'));
  await page.click('[data-testid=lab-run]');
  // Wait for this comparison's tables, not the previous ones.
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid=lab-output]').dataset.runs) > n
    && document.querySelector('[data-testid=lab-table-b]'), before, { timeout: TIMEOUT.result, polling: 50 });
  return { a: await table(page, 'lab-table-a'), b: await table(page, 'lab-table-b') };
}

test('retry storm: no jitter vs full jitter, both tables read', { timeout: 90_000 }, () =>
  withApp(browser, async (page) => {
    await openTab(page, 'lab');
    await page.locator('[data-testid=lab]').scrollIntoViewIfNeeded();
    assert.equal(await page.inputValue('[data-testid=lab-experiment]'), 'retry_storm');
    // Strategy A: exponential backoff without jitter, as in the experiment file.
    await page.selectOption('[data-testid=lab-a-preset]', 'scenario');
    await page.selectOption('[data-testid=lab-a-jitter]', 'none');
    // Strategy B: the same with full jitter.
    await page.selectOption('[data-testid=lab-b-preset]', 'scenario');
    await page.selectOption('[data-testid=lab-b-jitter]', 'full');
    assert.equal(await page.inputValue('[data-testid=lab-b-preset]'), 'custom');
    const { a, b } = await runComparison(page);
    // The same figures the native test asserts (tests/retries.rs), now read from the page.
    assert.ok(percent(a.success) < 10, `no jitter: ${a.success}`);
    assert.ok(percent(b.success) > 99.9, `full jitter: ${b.success}`);
    assert.ok(amplification(a.amplification) > 3.5, a.amplification);
    assert.ok(amplification(b.amplification) < 2.1, b.amplification);
    assert.match(a.outcomes, /503: \d+/);
    // Charts: two per strategy, drawn as SVG with bars.
    assert.equal(await page.locator('[data-testid=lab-results] svg.chart').count(), 4);
    assert.ok((await page.locator('[data-testid=lab-results] svg.chart rect.o-503').count()) > 5);
    await screenshot(page, 'lab-retry-storm-1280');
  }));

test('two presets on the flaky experiment: none vs Python requests loop', { timeout: 60_000 }, () =>
  withApp(browser, async (page) => {
    await openTab(page, 'lab');
    await page.selectOption('[data-testid=lab-experiment]', 'flaky_503');
    await page.selectOption('[data-testid=lab-a-preset]', 'none');
    await page.selectOption('[data-testid=lab-b-preset]', 'fetch_with_retry');
    // fetchWithRetry retries only 502: against 503s it never retries.
    const first = await runComparison(page);
    assert.equal(amplification(first.a.amplification), 1);
    assert.equal(amplification(first.b.amplification), 1);
    // Ticking "retry on 503" turns it into 3 tries: (1 - 0.3^3) / (1 - 0.3) = 1.39.
    await page.check('[data-testid=lab-b-on-503]');
    await setInput(page, 'lab-requests', 4000);
    const { a, b } = await runComparison(page);
    assert.ok(Math.abs(percent(a.success) - 70) < 2, a.success);
    assert.ok(Math.abs(amplification(b.amplification) - 1.39) < 0.03, b.amplification);
    assert.ok(Math.abs(percent(b.success) - 97.3) < 1, b.success);
  }));

test('breaker timeline on the outage experiment, and the proxy side in the same view', { timeout: 60_000 }, () =>
  withApp(browser, async (page) => {
    await openTab(page, 'lab');
    await page.selectOption('[data-testid=lab-experiment]', 'outage');
    await page.selectOption('[data-testid=lab-b-preset]', 'breaker');
    assert.match(await page.textContent('[data-testid=lab-proxy]'), /proxy_next_upstream error timeout/);
    const { a, b } = await runComparison(page);
    assert.match(b.guards, /^[1-9]\d* \//, `the breaker rejected calls: ${b.guards}`);
    assert.match(a.guards, /^0 \//);
    const band = page.locator('[data-testid=lab-results] svg.band');
    assert.equal(await band.count(), 1, 'only strategy B has a breaker');
    assert.ok((await band.locator('rect.b-open').count()) >= 2, 'it opened, probed and opened again');
    await screenshot(page, 'lab-outage-breaker-1280');
  }, { viewport: { width: 1280, height: 900 }, colorScheme: 'dark' }));

test('the lab fits a phone screen', { timeout: 60_000 }, () =>
  withApp(browser, async (page) => {
    await openTab(page, 'lab');
    await runComparison(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `horizontal overflow ${overflow}px`);
    await page.locator('[data-testid=lab-table-a]').scrollIntoViewIfNeeded();
    await screenshot(page, 'lab-360');
  }, { viewport: { width: 360, height: 740 } }));

test('a preset named after a snippet shows its code next to it, as written', { timeout: 60_000 }, () =>
  withApp(browser, async (page) => {
    await openTab(page, 'lab');
    await page.locator('[data-testid=lab]').scrollIntoViewIfNeeded();
    await page.selectOption('[data-testid=lab-a-preset]', 'fetch_with_retry');
    const js = await page.locator('[data-testid=lab-a-snippet] pre').textContent();
    assert.match(js, /^async function fetchWithRetry\(url, retries = 3\) \{\n/);
    assert.match(js, /if \(res\.status !== 502\) return res;\n\s+await new Promise\(\(r\) => setTimeout\(r, 2 \*\* i \* 1000\)\);\n\s+\}\n\s+throw new Error\("Max retries exceeded"\);/);
    assert.equal(await page.locator('[data-testid=lab-a-snippet] figcaption').textContent(), 'JavaScript, as this preset runs it:');
    await page.selectOption('[data-testid=lab-b-preset]', 'python_requests');
    assert.match(await page.locator('[data-testid=lab-b-snippet] pre').textContent(), /def get_with_retry\(url, tries=5\):[\s\S]*time\.sleep\(min\(2 \*\* i, 30\)\)\n\s+raise Exception\("Max retries exceeded"\)$/);
    // Presets that are not a snippet show none; editing a knob makes it custom, and the code goes.
    await page.selectOption('[data-testid=lab-b-preset]', 'exponential');
    assert.equal(await page.locator('[data-testid=lab-b-snippet]').count(), 0);
    await page.selectOption('[data-testid=lab-a-jitter]', 'full');
    assert.equal(await page.locator('[data-testid=lab-a-snippet]').count(), 0);
    await page.selectOption('[data-testid=lab-a-preset]', 'fetch_with_retry');
    await page.locator('[data-testid=lab-a-snippet]').scrollIntoViewIfNeeded();
    await screenshot(page, 'lab-snippet-1280');
  }));
