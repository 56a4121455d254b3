// Issue 16 items 2 and 8 through the page: the ready scenarios in the picker, their
// status and log lines, and the Config tab's controls for them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, withApp, sendRequest, texts, waitForText, waitForCount, count, sel, openTab, openTabs } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const errorLines = '[data-testid=error-log] [data-testid=error-log-line]';

test('the picker offers the new ready scenarios', { timeout: 60_000 }, () =>
  withApp(browser, async (page) => {
    await openTab(page, 'build');
    const values = await page.$$eval('[data-testid=scenario-select] option', (os) => os.map((o) => o.value));
    for (const v of ['localhost_ipv6', 'websocket_upgrade', 'websocket_idle_timeout']) {
      assert.ok(values.includes(v), `scenario-select should offer ${v}: ${JSON.stringify(values)}`);
    }
  }));

test('localhost_ipv6: 200, and error.log names the [::1] peer it was refused on', { timeout: 60_000 }, () =>
  withApp(browser, async (page) => {
    await openTabs(page, 'logs', 'build');
    await page.selectOption('[data-testid=scenario-select]', 'localhost_ipv6');
    await waitForText(page, sel.status, '200 OK');
    await waitForCount(page, errorLines, 2);
    const lines = await texts(page, errorLines);
    assert.ok(lines[0].includes('connect() failed (111: Connection refused) while connecting to upstream') && lines[0].includes('upstream: "http://[::1]:5000/users"'), JSON.stringify(lines));
    // The Config tab: the /etc/hosts knob is on, and the exported config says what localhost becomes.
    await openTab(page, 'config');
    assert.equal(await page.isChecked('[data-testid=localhost-ipv6]'), true);
    await waitForText(page, '[data-testid=config-preview]', 'into [::1]:5000 and 127.0.0.1:5000');
    // Off: one peer, and the next request is not refused.
    await page.uncheck('[data-testid=localhost-ipv6]');
    await waitForText(page, '[data-testid=config-preview]', 'localhost to 127.0.0.1 only');
  }));

test('websocket_upgrade: 426 without the headers; the Config tab adds them', { timeout: 90_000 }, () =>
  withApp(browser, async (page) => {
    await openTabs(page, 'logs', 'build');
    await page.selectOption('[data-testid=scenario-select]', 'websocket_upgrade');
    await waitForText(page, sel.status, '426 Upgrade Required');
    assert.equal(await count(page, errorLines), 0, 'nothing in error.log');
    await openTab(page, 'config');
    await page.selectOption('[data-testid=http-version]', '1.1');
    await page.check('[data-testid=upgrade-headers]');
    await waitForText(page, '[data-testid=config-preview]', 'proxy_set_header Upgrade "$http_upgrade";');
    await waitForText(page, '[data-testid=config-preview]', 'proxy_http_version 1.1;');
    // A short proxy_read_timeout, so the idle tunnel ends soon.
    await page.fill('[data-testid=read-timeout]', '1');
    await page.locator('[data-testid=read-timeout]').blur();
    await waitForText(page, '[data-testid=config-preview]', 'proxy_read_timeout 1s;');
    await sendRequest(page);
    await waitForText(page, sel.status, '101 Switching Protocols', 30_000);
  }));
