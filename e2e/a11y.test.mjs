// axe-core in the real page: no serious or critical accessibility violations, in light and dark,
// before and after breaking the upstream, on every tab below the stage, in presenter mode and in the embed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { launch, openApp, openAt, openTab, chooseFault, sendRequest, waitForText, sel, TABS } from './lib.mjs';

const require = createRequire(import.meta.url);
const AXE = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function audit(page) {
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

for (const colorScheme of ['light', 'dark']) {
  test(`axe-core: no serious or critical violations on every tab (${colorScheme})`, { timeout: 120_000 }, async () => {
    const context = await browser.newContext({ colorScheme, viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    try {
      await openApp(page);
      assert.deepEqual(await audit(page), [], 'fresh page');
      await chooseFault(page, 'app_down');
      await sendRequest(page);
      await waitForText(page, sel.status, '502 Bad Gateway');
      assert.deepEqual(await audit(page), [], 'after a 502');
      for (const tab of TABS) {
        await openTab(page, tab);
        assert.deepEqual(await audit(page), [], `the ${tab} tab`);
      }
    } finally {
      await context.close();
    }
  });

  test(`axe-core: presenter mode during a lesson, and the embed (${colorScheme})`, { timeout: 90_000 }, async () => {
    const context = await browser.newContext({ colorScheme, viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    try {
      await openAt(page, '?present=1&lesson=app-not-running');
      await page.click('[data-testid=lesson-show]');
      await waitForText(page, sel.status, '502 Bad Gateway');
      assert.deepEqual(await audit(page), [], 'presenter mode after Show me');
      await page.keyboard.press('?');
      await openTab(page, 'quiz');
      assert.deepEqual(await audit(page), [], 'presenter mode, the keys and the quiz');
      await openAt(page, '?embed=1&fault=app_down', '[data-testid=embed]');
      await waitForText(page, '[data-testid=embed-status]', '502');
      assert.deepEqual(await audit(page), [], 'the embed');
    } finally {
      await context.close();
    }
  });
}
