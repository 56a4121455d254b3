// Full-page screenshots of the broken app (app_down, one request) on desktop and phone,
// saved to target/screenshots/ for people (and reviewers) to look at.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { launch, newPage, openApp, assertNoErrors, breakAndSend, screenshot } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

for (const [width, height, colorScheme] of [[1280, 800, 'light'], [360, 740, 'light'], [1280, 800, 'dark'], [360, 740, 'dark']]) {
  test(`screenshot after app_down + one request at ${width}x${height}, ${colorScheme}`, { timeout: 60_000 }, async () => {
    const s = await newPage(browser, { viewport: { width, height }, colorScheme });
    try {
      await openApp(s.page);
      await breakAndSend(s.page, 'app_down', '502 Bad Gateway');
      const path = await screenshot(s.page, `app_down-${width}x${height}-${colorScheme}`);
      assert.ok(statSync(path).size > 1000, `${path} looks empty`);
      console.log(`saved ${path}`);
      assertNoErrors(s);
    } finally {
      await s.close();
    }
  });
}
