// The address bar follows the state (issue 15, item 8): a reload, or a URL copied from the address
// bar, reopens what was on screen; the default scenario keeps a clean address.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { launch, newPage, openApp, appUrl, assertNoErrors, chooseFault, sendRequest, waitForText, sel, TIMEOUT } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('a reload and a copied address keep the scenario; the default keeps a clean address', { timeout: 90_000 }, async () => {
  const s = await newPage(browser);
  try {
    await openApp(s.page);
    const base = await appUrl();
    assert.equal(s.page.url(), base, 'the default scenario: no fragment');
    await chooseFault(s.page, 'slow_app');
    await s.page.waitForFunction(() => location.hash.startsWith('#s=1.'), null, { timeout: 5_000 });
    const copied = s.page.url();
    // Reload: the same fault is chosen and a request gives the same answer.
    await s.page.reload({ waitUntil: 'load' });
    await s.page.locator(sel.app).waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    assert.equal(await s.page.inputValue(sel.fault), 'slow_app');
    await sendRequest(s.page);
    await waitForText(s.page, sel.status, '504');
    assert.equal(await s.page.locator('[data-testid=link-notice]').count(), 0, 'the address it wrote reads back without a notice');
    // The address, pasted into another tab.
    const t = await newPage(browser);
    try {
      await t.page.goto(copied, { waitUntil: 'load' });
      await t.page.locator(sel.app).waitFor({ state: 'visible', timeout: TIMEOUT.mount });
      assert.equal(await t.page.inputValue(sel.fault), 'slow_app');
      assertNoErrors(t, 'copied address');
    } finally {
      await t.close();
    }
    // Healing goes back to the clean address; presenter mode is kept in it.
    await chooseFault(s.page, 'none');
    await s.page.waitForFunction(() => location.hash === '', null, { timeout: 5_000 });
    await s.page.click('[data-testid=presenter-toggle]');
    await s.page.waitForFunction(() => location.search === '?present=1', null, { timeout: 5_000 });
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});
