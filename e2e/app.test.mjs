// The app loads cleanly, and its logs run on the simulation's virtual clock.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, openApp, assertNoErrors, appUrl,
  breakAndSend, texts, sel,
} from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('page loads, the app mounts within 10 s, no console errors and no page errors', { timeout: 60_000 }, async () => {
  const s = await newPage(browser);
  try {
    await openApp(s.page);
    assert.ok(await s.page.locator(sel.app).isVisible(), '[data-testid=app] should be visible');
    // Served under a sub-path: every asset must have loaded relative to it.
    assert.ok(new URL(s.page.url()).pathname.startsWith(new URL(await appUrl()).pathname), `unexpected URL ${s.page.url()}`);
    // Give late errors (async init, first effects) a moment to surface.
    await s.page.waitForTimeout(500);
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('log timestamps come from the virtual clock (2026/11/21), not the real date', { timeout: 60_000 }, async () => {
  const s = await newPage(browser);
  try {
    // Make the browser's real clock say 2031: the logs must not care.
    await s.page.clock.setFixedTime(new Date('2031-05-05T12:34:56Z'));
    await openApp(s.page);
    assert.equal(await s.page.evaluate(() => new Date().getUTCFullYear()), 2031, 'the fake real clock is in place');

    await breakAndSend(s.page, 'app_down', '502 Bad Gateway');
    const errorLines = await texts(s.page, sel.errorLine);
    assert.ok(errorLines.length > 0, 'an error.log line is expected after a 502');
    assert.ok(errorLines[0].startsWith('2026/11/21 '), `first error line should start with 2026/11/21: ${errorLines[0]}`);
    const accessLines = await texts(s.page, sel.accessLine);
    assert.match(accessLines[accessLines.length - 1], /\[21\/Nov\/2026:\d{2}:\d{2}:\d{2} \+0000\]/);
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

