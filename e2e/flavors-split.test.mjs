// The proxy flavors other than nginx are a wasm chunk (issue 20, src/ui/flavors.rs): the main
// module runs nginx only. A page opened on an HAProxy scenario says "Loading HAProxy's model…" with
// Send disabled until the chunk `flavors` arrives, then runs HAProxy (503, its SC-- log line); a
// chunk that cannot be downloaded leaves a clear message and "Try again", which opens the scenario.
// Screenshots: target/screenshots/flavors-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, appUrl, assertNoErrors, screenshot, sendRequest, waitForText, sel, TIMEOUT, holdChunk, refuseChunk } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const FLAVORS = '**/split_flavors-*.wasm';
const LINK = '?flavor=haproxy&fault=app_down';
// The stage's log line (HAProxy's httplog line for HAProxy).
const LINE = '[data-testid=stage-log-line]';

test('?flavor=haproxy: "Loading HAProxy\'s model…" and Send disabled until the flavors chunk arrives, then HAProxy\'s 503 and SC-- line', { timeout: 120_000 }, async () => {
  const s = await newPage(browser);
  const { page } = s;
  try {
    const { release, asked } = await holdChunk(page, FLAVORS);
    await page.goto(`${await appUrl()}${LINK}`, { waitUntil: 'load' });
    const loading = page.locator('[data-testid=flavor-loading]');
    await loading.waitFor({ state: 'attached', timeout: TIMEOUT.mount });
    assert.equal((await loading.innerText()).trim(), "Loading HAProxy's model…");
    assert.equal(await loading.getAttribute('role'), 'status');
    assert.ok(asked() >= 1, 'the flavors chunk was requested');
    assert.ok(await page.locator('[data-testid=send-request]').first().isDisabled(), 'Send waits for the model');
    assert.equal(await page.locator(sel.app).count(), 0, 'the stage is not ready yet');
    await screenshot(page, 'flavors-loading');
    release();
    await page.locator(sel.app).waitFor({ state: 'visible', timeout: TIMEOUT.result });
    assert.equal(await loading.count(), 0);
    assert.equal(await page.inputValue(sel.fault), 'app_down');
    await sendRequest(page);
    await waitForText(page, sel.status, '503');
    assert.match(await page.locator(LINE).textContent(), / 503 \d+ - - SC-- /);
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('the plain page (nginx) is interactive and answers without the flavors chunk', { timeout: 120_000 }, async () => {
  const s = await newPage(browser);
  const { page } = s;
  try {
    const asked = await refuseChunk(page, FLAVORS);
    await page.goto(`${await appUrl()}?fault=app_down`, { waitUntil: 'load' });
    await page.locator(sel.app).waitFor({ state: 'visible', timeout: TIMEOUT.result });
    await sendRequest(page);
    await waitForText(page, sel.status, '502');
    assert.equal(asked(), 0, 'nginx needs no flavors chunk');
    assert.equal(await page.locator('[data-testid=flavor-failed]').count(), 0);
  } finally {
    await s.close();
  }
});

test('a flavors chunk that fails to download: a clear message, and "Try again" opens HAProxy', { timeout: 120_000 }, async () => {
  const s = await newPage(browser);
  const { page } = s;
  try {
    const refused = await refuseChunk(page, FLAVORS);
    await page.goto(`${await appUrl()}${LINK}`, { waitUntil: 'load' });
    const failed = page.locator('[data-testid=flavor-failed]');
    await failed.waitFor({ state: 'visible', timeout: TIMEOUT.result });
    assert.ok(refused() >= 1, 'the chunk was requested');
    assert.match(await failed.innerText(), /Could not load HAProxy's model: its part of the simulator did not download, so the page stays on the scenario it had\. Check the connection and try again\./);
    assert.equal(await failed.getAttribute('role'), 'alert');
    await screenshot(page, 'flavors-failed');
    assert.ok(await page.locator(sel.send).isEnabled(), 'the page still works');
    await page.unroute(FLAVORS);
    await failed.getByRole('button', { name: 'Try again' }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="fault-select"]')?.value === 'app_down', null, { timeout: TIMEOUT.result }).catch(() => {});
    assert.equal(await page.inputValue(sel.fault), 'app_down');
    await failed.waitFor({ state: 'detached', timeout: TIMEOUT.result });
    await sendRequest(page);
    await waitForText(page, sel.status, '503');
    assert.match(await page.locator(LINE).textContent(), / 503 \d+ - - SC-- /);
    for (const e of s.consoleErrors) assert.match(e, /split_flavors|Failed to fetch|ERR_CONNECTION_RESET|TypeError/, `unexpected console error: ${e}`);
    assert.deepEqual(s.pageErrors, []);
  } finally {
    await s.close();
  }
});

test('an embed of an HAProxy scenario waits for the flavors chunk ("Loading HAProxy\'s model…", Send inert), then answers 503', { timeout: 120_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 600, height: 400 } });
  const { page } = s;
  try {
    const { release } = await holdChunk(page, FLAVORS);
    await page.goto(`${await appUrl()}?embed=1&fault=app_down&flavor=haproxy`, { waitUntil: 'load' });
    const loading = page.locator('[data-testid=flavor-loading]');
    await loading.waitFor({ state: 'attached', timeout: TIMEOUT.mount });
    assert.equal((await loading.innerText()).trim(), "Loading HAProxy's model…");
    assert.equal(await page.locator('[data-testid=embed]').count(), 0, 'the embed is not ready yet');
    assert.ok(await page.locator('[data-testid=embed-opening] .embed-body').evaluate((el) => el.inert), 'its controls are inert');
    release();
    await page.locator('[data-testid=embed]').waitFor({ state: 'visible', timeout: TIMEOUT.result });
    await page.waitForFunction(() => (document.querySelector('[data-testid=embed-status]')?.textContent ?? '').startsWith('503 Service Unavailable'), null, { timeout: TIMEOUT.result });
    assert.equal(await loading.count(), 0);
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('back to an HAProxy address (popstate) waits for the flavors chunk, then opens it', { timeout: 120_000 }, async () => {
  const s = await newPage(browser);
  const { page } = s;
  try {
    const { release } = await holdChunk(page, FLAVORS);
    await page.goto(await appUrl(), { waitUntil: 'load' });
    await page.locator(sel.app).waitFor({ state: 'visible', timeout: TIMEOUT.result });
    await page.evaluate((link) => {
      history.pushState(null, '', link);
      history.pushState(null, '', '?');
      history.back();
    }, LINK);
    const loading = page.locator('[data-testid=flavor-loading]');
    await loading.waitFor({ state: 'visible', timeout: TIMEOUT.result });
    assert.ok(await page.locator(sel.send).isDisabled(), 'Send waits for the model');
    release();
    await loading.waitFor({ state: 'detached', timeout: TIMEOUT.result });
    assert.equal(await page.inputValue(sel.fault), 'app_down');
    await sendRequest(page);
    await waitForText(page, sel.status, '503');
    assert.match(await page.locator(LINE).textContent(), / 503 \d+ - - SC-- /);
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});
