// The stage (issue 15, item 1): after a fault's action, the status the client got and the FULL log
// line of that request are inside the first viewport, with no scrolling: for every catalog fault and
// both proxies, at 1280×800. At 360×740 the picker and Send are in the first screen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { launch, newPage, appUrl, assertNoErrors, screenshot, sel, TIMEOUT } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** The catalog faults the picker offers (its option values, "none" left out). */
async function catalog(page) {
  return (await page.$$eval(`${sel.fault} option`, (os) => os.map((o) => o.value))).filter((v) => v !== 'none');
}

/** Box of the first match, relative to the viewport. */
const box = (page, s) => page.locator(s).first().boundingBox();

/** Performs the fault's action: its traffic pattern when the page offers one, else one Send. */
async function act(page) {
  const pattern = page.locator('[data-testid=send-pattern]');
  if ((await pattern.count()) && (await pattern.isVisible())) await pattern.click();
  else await page.click(sel.send);
}

for (const flavor of ['nginx', 'haproxy']) {
  test(`${flavor}: for every catalog fault the status and its full log line are in the first viewport at 1280×800`, { timeout: 300_000 }, async () => {
    const s = await newPage(browser, { viewport: { width: 1280, height: 800 } });
    try {
      const open = async () => {
        await s.page.goto(`${await appUrl()}?flavor=${flavor}`, { waitUntil: 'load', timeout: TIMEOUT.navigation });
        await s.page.locator(sel.app).waitFor({ state: 'visible', timeout: TIMEOUT.mount });
      };
      await open();
      const faults = await catalog(s.page);
      assert.ok(faults.length >= 21, `the picker offers the catalog: ${faults.length}`);
      const misses = [];
      for (const fault of faults) {
        // A fresh page for each: a user with a real error starts from the picker, not after 20 others.
        await open();
        await s.page.selectOption(sel.fault, fault);
        // The chips show the newest 40 requests: the newest one's number tells that this action's ran.
        const newest = () => s.page.evaluate(() => {
          const chips = document.querySelectorAll('[data-testid=request-chip]');
          return chips.length ? Number(/#(\d+)/.exec(chips[chips.length - 1].textContent)?.[1] ?? 0) : 0;
        });
        const before = await newest();
        await act(s.page);
        // Bounded wait until a newer request has its answer on screen.
        const deadline = Date.now() + TIMEOUT.result;
        while ((await newest()) <= before || (await s.page.locator(sel.status).textContent()).includes('Waiting')) {
          if (Date.now() > deadline) assert.fail(`${fault}: no new request answered within ${TIMEOUT.result} ms`);
          await s.page.waitForTimeout(100);
        }
        if (!(await s.page.locator('[data-testid=stage-log-line]').count())) {
          misses.push(`${fault}: no log line on the stage (status ${await s.page.locator(sel.status).textContent()})`);
          continue;
        }
        const scrolled = await s.page.evaluate(() => window.scrollY);
        const st = await box(s.page, sel.status);
        const ln = await box(s.page, '[data-testid=stage-log-line]');
        const line = (await s.page.locator('[data-testid=stage-log-line]').textContent()).trim();
        // Full: nginx's error.log line with its request context, or a whole access / httplog line (a
        // pattern may send another request than GET /users: keep-alive mismatch's POST /orders).
        const full = flavor === 'nginx'
          ? /, client: \S+, server: .*, request: "[A-Z]+ \/\S* HTTP\/1\.1"/.test(line) || /^127\.0\.0\.1 - - \[.*\] "[A-Z]+ \/\S* HTTP\/1\.1" \d{3} \d+ /.test(line) || /\[emerg\] \d+#\d+: .* in \/etc\/nginx\//.test(line)
          : /^127\.0\.0\.1:\d+ \[.*\] \S+ \S+ [-\d/]+ -?\d+ \d+ .*"[A-Z]+ \/\S* HTTP\/1\.1"$/.test(line) || /\[ALERT\]/.test(line);
        const inside = st && ln && scrolled === 0 && st.y >= 0 && st.y + st.height <= 800 && ln.y >= 0 && ln.y + ln.height <= 800;
        if (!inside || !full) misses.push(`${fault}: status ${JSON.stringify(st)}, line ${JSON.stringify(ln)}, scrollY ${scrolled}, full ${full}: ${line}`);
      }
      assert.deepEqual(misses, [], 'every fault\'s status and full log line in the first viewport');
      await screenshot(s.page, `stage-1280-${flavor}`);
      assertNoErrors(s);
    } finally {
      await s.close();
    }
  });
}

test('360×740: the picker and Send are in the first screen, with no horizontal scroll', { timeout: 60_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 360, height: 740 } });
  try {
    await s.page.goto(`${await appUrl()}`, { waitUntil: 'load', timeout: TIMEOUT.navigation });
    await s.page.locator(sel.app).waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    for (const s2 of [sel.fault, sel.send]) {
      const b = await box(s.page, s2);
      assert.ok(b && b.y + b.height <= 740, `${s2} in the first screen: ${JSON.stringify(b)}`);
    }
    await s.page.selectOption(sel.fault, 'app_down');
    await s.page.click(sel.send);
    await s.page.locator('[data-testid=stage-log-line]').waitFor({ state: 'visible', timeout: TIMEOUT.result });
    const overflow = await s.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `no horizontal scroll (${overflow} px)`);
    await screenshot(s.page, 'stage-360');
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('after "Apply the fix" the stage says what changed, focus lands on Send, and the next request shows the fix', { timeout: 60_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 1280, height: 800 } });
  try {
    await s.page.goto(`${await appUrl()}`, { waitUntil: 'load', timeout: TIMEOUT.navigation });
    await s.page.locator(sel.app).waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    await s.page.selectOption(sel.fault, 'app_down');
    await s.page.click(sel.send);
    await s.page.locator('[data-testid=apply-fix]').click();
    const note = s.page.locator('[data-testid=fixed-note]');
    await note.waitFor({ state: 'visible', timeout: TIMEOUT.action });
    assert.match(await note.textContent(), /^Fixed: Start the app\. .*send a request/);
    await s.page.waitForFunction(() => document.activeElement?.dataset?.testid === 'send-request', null, { timeout: 5_000 });
    await s.page.keyboard.press('Enter'); // the focused Send
    await s.page.waitForFunction(() => document.querySelector('[data-testid=status]').textContent.startsWith('200 OK'), null, { timeout: TIMEOUT.result });
    assert.equal(await note.count(), 0, 'the note goes once the new answer is on screen');
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('a ready scenario whose break is in its settings: the picker names the scenario, not "Nothing broken"', { timeout: 60_000 }, async () => {
  const s = await newPage(browser);
  try {
    const selectedText = () => s.page.$eval(sel.fault, (el) => el.selectedOptions[0]?.textContent ?? '');
    await s.page.goto(`${await appUrl()}?fault=php_fpm_socket_permission`, { waitUntil: 'load', timeout: TIMEOUT.navigation });
    await s.page.locator(sel.app).waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    await s.page.click(sel.send);
    await s.page.waitForFunction((q) => (document.querySelector(q)?.textContent ?? '').includes('502'), sel.status, { timeout: TIMEOUT.result });
    assert.equal(await s.page.inputValue(sel.fault), 'scenario');
    assert.equal(await selectedText(), 'This scenario: PHP-FPM: the socket\'s owner shuts nginx out');
    assert.match(await s.page.locator('[data-testid=fault-cause]').textContent(), /listen\.owner = nobody/);
    // A catalog fault on top, then none again: the scenario's own break is still what is set.
    await s.page.selectOption(sel.fault, 'app_down');
    assert.equal(await s.page.inputValue(sel.fault), 'app_down');
    await s.page.selectOption(sel.fault, 'none');
    await s.page.waitForFunction((q) => document.querySelector(q).value === 'scenario', sel.fault, { timeout: TIMEOUT.action });
    assert.equal(await s.page.locator(`${sel.fault} option[value=none]`).textContent(), 'No catalog fault (the scenario\'s settings stay)');
    // The default page is healthy and says so.
    await s.page.goto(await appUrl(), { waitUntil: 'load', timeout: TIMEOUT.navigation });
    await s.page.locator(sel.app).waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    assert.equal(await s.page.inputValue(sel.fault), 'none');
    assert.equal(await selectedText(), 'Nothing broken (healthy)');
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});
