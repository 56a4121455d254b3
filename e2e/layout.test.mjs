// The page's layout (issue 15, items 1, 5, 6, 8, 10): the tabs below the stage (keyboard, view=,
// panels that stay mounted), a short page, Back and Forward through choices, the lesson bar next to
// its result, "Next lesson", presenter mode as a projector stage, and layout shift.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, appUrl, assertNoErrors, chooseFault, sendRequest, waitForText, screenshot, openTab,
  sel, TIMEOUT, TABS,
} from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** Runs `body(page)` on a fresh page at `suffix` (viewport and colour scheme optional), then checks for errors. */
async function at(suffix, body, options = {}) {
  const s = await newPage(browser, options);
  try {
    await s.page.goto((await appUrl()) + suffix, { waitUntil: 'load', timeout: TIMEOUT.navigation });
    await s.page.locator(sel.app).waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    await body(s.page);
    assertNoErrors(s, suffix || 'default page');
  } finally {
    await s.close();
  }
}

const selectedTab = (page) => page.$eval('[role=tab][aria-selected=true]', (el) => el.dataset.testid.replace(/^tab-/, ''));
const focusedTab = (page) => page.evaluate(() => document.activeElement?.dataset?.testid ?? document.activeElement?.tagName);
const viewParam = (page) => new URL(page.url()).searchParams.get('view');

/** Whether the element's box is wholly inside the viewport. */
async function inViewport(page, selector) {
  return page.locator(selector).first().evaluate((el) => {
    const r = el.getBoundingClientRect();
    return r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth && r.height > 0;
  });
}

async function waitPassed(page) {
  await page.waitForFunction(() => document.querySelector('[data-testid=lesson-check]')?.getAttribute('data-passed') === 'true', null, { timeout: TIMEOUT.result, polling: 100 });
}

test('tabs: a WAI-ARIA tablist in order, roving tabindex, arrows, Home and End; a click opens a panel', { timeout: 60_000 }, () =>
  at('', async (page) => {
    const tabs = await page.$$eval('[role=tablist] [role=tab]', (els) => els.map((el) => ({
      name: el.dataset.testid.replace(/^tab-/, ''), label: el.textContent.trim(), selected: el.getAttribute('aria-selected'),
      tabindex: el.getAttribute('tabindex'), controls: el.getAttribute('aria-controls'),
    })));
    assert.deepEqual(tabs.map((t) => t.name), TABS);
    assert.deepEqual(tabs.map((t) => t.label), ['Lessons', 'nginx logs', 'Timeline', 'Terminal', '502 vs 503 vs 504', 'Quiz', 'Retry lab', 'Build', 'nginx.conf']);
    assert.deepEqual(tabs.map((t) => t.selected), TABS.map((_, i) => String(i === 0)));
    assert.deepEqual(tabs.map((t) => t.tabindex), TABS.map((_, i) => (i === 0 ? '0' : '-1')), 'roving tabindex');
    for (const t of tabs) {
      const panel = page.locator(`#${t.controls}`);
      assert.equal(await panel.getAttribute('role'), 'tabpanel');
      assert.equal(await panel.getAttribute('aria-labelledby'), `tab-${t.name}`);
    }
    // Only the open tab's panel is mounted at first.
    assert.equal(await page.locator('[data-testid=terminal]').count(), 0, 'the terminal mounts when its tab opens');
    await page.focus('[data-testid=tab-lessons]');
    await page.keyboard.press('ArrowRight');
    assert.equal(await selectedTab(page), 'logs');
    assert.equal(await focusedTab(page), 'tab-logs');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await selectedTab(page), 'config', 'ArrowLeft wraps to the last tab');
    await page.keyboard.press('Home');
    assert.equal(await selectedTab(page), 'lessons');
    await page.keyboard.press('End');
    assert.equal(await selectedTab(page), 'config');
    assert.equal(await focusedTab(page), 'tab-config');
    assert.equal(await page.getAttribute('[data-testid=tab-config]', 'tabindex'), '0');
    assert.equal(await page.getAttribute('[data-testid=tab-lessons]', 'tabindex'), '-1');
    assert.ok(await page.locator('[data-testid=panel-config]').isVisible());
    assert.ok(!(await page.locator('[data-testid=panel-lessons]').isVisible()), 'the other panels are hidden');
    assert.equal(viewParam(page), 'config', 'the address names the tab');
    // HAProxy: the labels that name the proxy follow it; so does the tagline.
    await page.selectOption('[data-testid=flavor-select]', 'haproxy');
    await waitForText(page, '[data-testid=tab-config]', 'haproxy.cfg');
    await waitForText(page, '[data-testid=tab-logs]', 'HAProxy logs');
    await waitForText(page, '[data-testid=tagline]', 'watch what HAProxy does');
  }));

test('tabs: a panel stays mounted when hidden (the terminal keeps its history)', { timeout: 60_000 }, () =>
  at('', async (page) => {
    await openTab(page, 'terminal');
    await page.fill('[data-testid=terminal-input]', 'date');
    await page.press('[data-testid=terminal-input]', 'Enter');
    await page.locator('[data-testid=terminal-entry]').first().waitFor();
    await openTab(page, 'quiz');
    await openTab(page, 'terminal');
    assert.equal(await page.locator('[data-testid=terminal-entry]').count(), 1, 'the transcript survived');
  }));

test('view= opens its tab and scrolls it into view; view=topology is the stage; a bad view is reported', { timeout: 120_000 }, async () => {
  for (const view of TABS) {
    await at(`?view=${view}`, async (page) => {
      assert.equal(await selectedTab(page), view, `view=${view}`);
      await page.locator(`[data-testid=panel-${view}]`).waitFor({ state: 'visible' });
      // Scrolled as far as the page allows towards the tabs: the tablist is in view.
      await page.waitForFunction(() => {
        const r = document.querySelector('[role=tablist]').getBoundingClientRect();
        const maxScroll = document.documentElement.scrollHeight - window.innerHeight;
        return r.top >= -1 && r.bottom <= window.innerHeight && (r.top < 80 || window.scrollY >= maxScroll - 1);
      }, null, { timeout: TIMEOUT.action });
      assert.equal(viewParam(page), view, 'the address keeps view=');
    });
  }
  await at('?view=topology', async (page) => {
    assert.equal(await selectedTab(page), 'lessons');
    assert.ok(await inViewport(page, sel.send));
    assert.equal(await page.locator('[data-testid=link-notice]').count(), 0);
  });
  await at('?view=nowhere', async (page) => {
    await waitForText(page, '[data-testid=link-notice]', 'view="nowhere" is not a section');
  });
});

test('the page is short: under 1,700 px at 1280×800 with the default tab, and no horizontal scroll at 360×740', { timeout: 60_000 }, async () => {
  await at('?fault=app_down', async (page) => {
    await waitForText(page, sel.status, '502');
    const h = await page.evaluate(() => document.documentElement.scrollHeight);
    console.log(`page height at 1280×800: ${h} px`);
    assert.ok(h < 1700, `page height ${h} px`);
    // The clock's controls are on the stage now.
    assert.ok(await page.locator('[data-testid=stage] [data-testid=step]').isVisible());
  });
  await at('?fault=app_down', async (page) => {
    await waitForText(page, sel.status, '502');
    for (const tab of TABS) {
      await openTab(page, tab);
      const w = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(w <= 360, `${tab}: page width ${w} px at 360`);
    }
    await page.evaluate(() => window.scrollTo(0, 0));
    assert.ok(await inViewport(page, sel.send), 'Send in the first screen at 360×740');
  }, { viewport: { width: 360, height: 740 } });
});

test('Back after choosing two faults returns to the first fault\'s scenario, Forward to the second', { timeout: 60_000 }, () =>
  at('', async (page) => {
    const start = page.url();
    await chooseFault(page, 'app_down');
    const first = page.url();
    assert.notEqual(first, start, 'the address follows the choice');
    await chooseFault(page, 'slow_app');
    assert.notEqual(page.url(), first);
    // Other changes replace the entry: the seed is not a step of Back.
    await page.fill('[data-testid=seed]', '9');
    await page.locator('[data-testid=seed]').blur();
    await page.goBack();
    await page.waitForFunction(() => document.querySelector('[data-testid="fault-select"]').value === 'app_down', null, { timeout: TIMEOUT.action });
    assert.equal(page.url(), first);
    await sendRequest(page);
    await waitForText(page, sel.status, '502 Bad Gateway');
    await page.goForward();
    await page.waitForFunction(() => document.querySelector('[data-testid="fault-select"]').value === 'slow_app', null, { timeout: TIMEOUT.action });
    assert.equal(await page.inputValue('[data-testid=seed]'), '9');
    await page.goBack();
    await page.goBack();
    await page.waitForFunction(() => document.querySelector('[data-testid="fault-select"]').value === 'none', null, { timeout: TIMEOUT.action });
    // A reload keeps what the address says.
    await page.goForward();
    await page.waitForFunction(() => document.querySelector('[data-testid="fault-select"]').value === 'app_down', null, { timeout: TIMEOUT.action });
    await page.reload();
    await page.locator(sel.app).waitFor();
    assert.equal(await page.inputValue(sel.fault), 'app_down');
  }));

for (const [width, height] of [[1280, 720], [1920, 1080]]) {
  test(`presenter ${width}×${height}: after Show me the lesson step, the status (≥ 48 px) and the wrapped log line (≥ 22 px) are on one screen`, { timeout: 60_000 }, () =>
    at('?present=1&lesson=app-not-running', async (page) => {
      await page.click('[data-testid=lesson-show]');
      await waitPassed(page);
      await waitForText(page, sel.status, '502 Bad Gateway');
      await page.locator('[data-testid=stage-log-line]').waitFor();
      assert.equal(await page.evaluate(() => window.scrollY), 0, 'nothing scrolled');
      for (const s of ['[data-testid=lesson-step]', sel.status, '[data-testid=stage-log-line]', '[data-testid=presenter-bar]']) {
        assert.ok(await inViewport(page, s), `${s} inside the ${width}×${height} viewport`);
      }
      const status = await page.$eval(sel.status, (el) => parseFloat(getComputedStyle(el).fontSize));
      assert.ok(status >= 48, `status ${status} px`);
      const line = await page.$eval('[data-testid=stage-log-line]', (el) => ({ size: parseFloat(getComputedStyle(el).fontSize), ws: getComputedStyle(el).whiteSpace, wide: el.scrollWidth <= el.clientWidth }));
      assert.ok(line.size >= 22, `log line ${line.size} px`);
      assert.match(line.ws, /pre-wrap|normal/);
      assert.ok(line.wide, 'the log line wraps (no horizontal scroll)');
      await screenshot(page, `presenter-${width}x${height}`);
    }, { viewport: { width, height } }));
}

test('presenter: the bar never covers content while scrolling', { timeout: 60_000 }, () =>
  at('?present=1&lesson=app-not-running&view=quiz', async (page) => {
    assert.equal(await page.$eval('[data-testid=presenter-bar]', (el) => getComputedStyle(el).position), 'static');
    for (const y of [0, 150, 400, 800]) {
      await page.evaluate((y) => window.scrollTo(0, y), y);
      const covered = await page.$eval('[data-testid=presenter-bar]', (bar) => {
        const r = bar.getBoundingClientRect();
        const points = [[r.left + 4, r.top + 4], [r.left + r.width / 2, r.top + r.height / 2], [r.right - 4, r.bottom - 4]];
        return points.filter(([x, y]) => y >= 0 && y < window.innerHeight).map(([x, y]) => document.elementFromPoint(x, y)).filter((el) => el && !bar.contains(el)).map((el) => el.outerHTML.slice(0, 80));
      });
      assert.deepEqual(covered, [], `scrolled to ${y}: what is drawn where the bar is`);
    }
  }, { viewport: { width: 1280, height: 720 } }));

test('presenter: Enter on a focused Start lesson starts it; arrows on a focused tab move tabs, not the clock', { timeout: 60_000 }, () =>
  at('?present=1', async (page) => {
    await page.focus('[data-testid=lesson-start]');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid=lesson]').waitFor();
    assert.equal(await page.locator('[data-testid=request-chip]').count(), 0, 'Enter started the lesson and sent nothing');
    const clock = await page.textContent('[data-testid=clock]');
    await page.focus('[data-testid=tab-lessons]');
    await page.keyboard.press('ArrowRight');
    assert.equal(await selectedTab(page), 'logs');
    assert.equal(await page.textContent('[data-testid=clock]'), clock, 'no step of the clock');
    // Enter on a focused tab is the tab's, not Send's.
    await page.keyboard.press('Enter');
    assert.equal(await page.locator('[data-testid=request-chip]').count(), 0);
  }, { viewport: { width: 1280, height: 720 } }));

test('the end of a lesson offers the next lesson; N does the same in presenter mode', { timeout: 90_000 }, async () => {
  const finish = async (page) => {
    for (let step = 1; ; step++) {
      await page.click('[data-testid=lesson-show]');
      await waitPassed(page);
      if (await page.locator('[data-testid=lesson-complete]').count()) break;
      await page.click('[data-testid=lesson-next]');
      assert.ok(step < 10, 'the lesson ends');
    }
  };
  await at('?lesson=app-not-running', async (page) => {
    await finish(page);
    await waitForText(page, '[data-testid=lesson-next-lesson]', 'Next lesson: A wrong port or a missing socket');
    await page.click('[data-testid=lesson-next-lesson]');
    await page.waitForFunction(() => document.querySelector('[data-testid=lesson]')?.dataset.lesson === 'wrong-port-or-socket', null, { timeout: TIMEOUT.action });
    assert.equal(await page.getAttribute('[data-testid=lesson-step]', 'data-step'), '1');
    assert.equal(new URL(page.url()).searchParams.get('lesson'), 'wrong-port-or-socket');
  });
  await at('?present=1&lesson=app-not-running', async (page) => {
    await finish(page);
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('n');
    await page.waitForFunction(() => document.querySelector('[data-testid=lesson]')?.dataset.lesson === 'wrong-port-or-socket', null, { timeout: TIMEOUT.action });
  }, { viewport: { width: 1280, height: 720 } });
});

test('"Open it in the playground" from the quiz brings the stage into view and focuses Send', { timeout: 60_000 }, () =>
  at('?view=quiz', async (page) => {
    await page.click('[data-testid=quiz-choice][data-status="502"]');
    await page.locator('[data-testid=quiz-reveal]').waitFor();
    await page.click('[data-testid=quiz-open]');
    await page.waitForFunction(() => document.activeElement?.dataset?.testid === 'send-request', null, { timeout: TIMEOUT.action });
    assert.ok(await inViewport(page, sel.send), 'Send in view');
    assert.equal(await page.inputValue(sel.fault), 'app_down');
  }, { viewport: { width: 1280, height: 720 } }));

test('layout shift under 0.1 on load and on opening each tab', { timeout: 60_000 }, async () => {
  const s = await newPage(browser);
  try {
    const { page } = s;
    await page.addInitScript(() => {
      window.__cls = 0;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) if (!e.hadRecentInput) window.__cls += e.value;
      }).observe({ type: 'layout-shift', buffered: true });
    });
    await page.goto(await appUrl(), { waitUntil: 'load' });
    await page.locator(sel.app).waitFor();
    await page.waitForTimeout(500);
    const onLoad = await page.evaluate(() => window.__cls);
    assert.ok(onLoad < 0.1, `layout shift while loading: ${onLoad}`);
    for (const tab of TABS) {
      // Keyboard input counts as recent input too; measure with the tab opened by script, no input at all.
      const before = await page.evaluate(() => window.__cls);
      await page.evaluate((t) => document.querySelector(`[data-testid=tab-${t}]`).click(), tab);
      await page.locator(`[data-testid=panel-${tab}]`).waitFor({ state: 'visible' });
      await page.waitForTimeout(300);
      const shift = (await page.evaluate(() => window.__cls)) - before;
      assert.ok(shift < 0.1, `layout shift on opening ${tab}: ${shift}`);
    }
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});
