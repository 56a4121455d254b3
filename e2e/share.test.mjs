// Share links: the whole scenario round-trips through the URL; a mangled link shows a message
// and the default scenario; readable parameters open a fault, a flavor and a theme.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, withApp, setInput, appUrl, assertNoErrors, chooseFault, sendRequest, waitForText, sel, TIMEOUT, openTab,
} from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** Opens `url` (relative to the app) and waits for the app. */
async function open(s, suffix) {
  await s.page.goto((await appUrl()) + suffix, { waitUntil: 'load', timeout: TIMEOUT.navigation });
  await s.page.locator(sel.app).waitFor({ state: 'visible', timeout: TIMEOUT.mount });
}

test('a share link round-trips the full state', { timeout: 60_000 }, async () => {
  let link;
  await withApp(browser, async (page) => {
    await chooseFault(page, 'slow_app');
    await openTab(page, 'config');
    await page.selectOption('[data-testid=flavor-select]', 'haproxy');
    await setInput(page, 'seed', 4242);
    await setInput(page, 'read-timeout', 7);
    link = await page.inputValue('[data-testid=share-link]');
    assert.match(link, /#s=1\.[A-Za-z0-9_-]+$/);
    await page.click('[data-testid=share]');
  });
  const s = await newPage(browser);
  try {
    await s.page.goto(link, { waitUntil: 'load', timeout: TIMEOUT.navigation });
    await s.page.locator(sel.app).waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    await openTab(s.page, 'config');
    assert.equal(await s.page.inputValue(sel.fault), 'slow_app');
    assert.equal(await s.page.inputValue('[data-testid=flavor-select]'), 'haproxy');
    assert.equal(await s.page.inputValue('[data-testid=seed]'), '4242');
    assert.equal(await s.page.inputValue('[data-testid=read-timeout]'), '7');
    // The reopened page links to exactly the same scenario.
    assert.equal(await s.page.inputValue('[data-testid=share-link]'), link);
    assert.equal(await s.page.locator('[data-testid=link-notice]').count(), 0);
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('a mangled link shows a message and the default scenario, and the page still works', { timeout: 60_000 }, async () => {
  for (const bad of ['#s=1.@@not-base64@@', '#s=9.eyJ2ZXJzaW9uIjoxfQ', '#s=1.eyJ2ZXJzaW9uIjoxLCJzZWVkIjoi']) {
    const s = await newPage(browser);
    try {
      await open(s, bad);
      const notice = await s.page.textContent('[data-testid=link-notice]');
      assert.match(notice, /could not be opened, so the page shows the default scenario/, `${bad}: ${notice}`);
      assert.equal(await s.page.inputValue(sel.fault), 'none', `${bad}: no fault`);
      await sendRequest(s.page);
      await waitForText(s.page, sel.status, '200 OK');
      await s.page.click('.link-notice-close');
      assert.equal(await s.page.locator('[data-testid=link-notice]').count(), 0);
      assertNoErrors(s);
    } finally {
      await s.close();
    }
  }
});

test('readable parameters: fault, flavor, seed and theme', { timeout: 60_000 }, async () => {
  const s = await newPage(browser);
  try {
    await open(s, '?fault=app_down&flavor=nginx&seed=9&theme=dark');
    assert.equal(await s.page.inputValue(sel.fault), 'app_down');
    assert.equal(await s.page.inputValue('[data-testid=seed]'), '9');
    assert.equal(await s.page.getAttribute('html', 'data-theme'), 'dark');
    await waitForText(s.page, sel.status, '502 Bad Gateway');
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});
