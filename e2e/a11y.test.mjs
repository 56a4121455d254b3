// axe-core in the real page: no serious or critical accessibility violations,
// in light and dark, before and after breaking the upstream.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { launch, openApp, chooseFault, sendRequest, waitForText, sel } from './lib.mjs';

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
  test(`axe-core: no serious or critical violations (${colorScheme})`, { timeout: 60_000 }, async () => {
    const context = await browser.newContext({ colorScheme, viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    try {
      await openApp(page);
      assert.deepEqual(await audit(page), [], 'fresh page');
      await chooseFault(page, 'app_down');
      await sendRequest(page);
      await waitForText(page, sel.status, '502 Bad Gateway');
      assert.deepEqual(await audit(page), [], 'after a 502');
    } finally {
      await context.close();
    }
  });
}
