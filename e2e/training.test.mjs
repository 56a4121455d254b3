// Lessons, the quiz and its challenges, and presenter mode, in the real browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, withApp, appUrl, assertNoErrors, chooseFault, sendRequest, waitForText, screenshot, sel, TIMEOUT, openTab,
} from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const check = '[data-testid=lesson-check]';
const passed = (page) => page.getAttribute(check, 'data-passed');

async function waitPassed(page, want = 'true') {
  await page.waitForFunction(([s, w]) => document.querySelector(s)?.getAttribute('data-passed') === w, [check, want], { timeout: TIMEOUT.result, polling: 100 });
}

async function open(s, suffix) {
  await s.page.goto((await appUrl()) + suffix, { waitUntil: 'load', timeout: TIMEOUT.navigation });
  await s.page.locator(sel.app).waitFor({ state: 'visible', timeout: TIMEOUT.mount });
}

async function startLesson(page, title) {
  await openTab(page, 'lessons');
  const value = await page.$eval('[data-testid=lesson-select]', (el, t) => [...el.options].find((o) => o.textContent.includes(t))?.value, title);
  assert.ok(value, `a lesson titled ${title}`);
  await page.selectOption('[data-testid=lesson-select]', value);
  await page.click('[data-testid=lesson-start]');
  await page.locator('[data-testid=lesson]').waitFor();
}

test('a lesson is completed end to end by a learner, and a wrong move does not pass', { timeout: 120_000 }, () =>
  withApp(browser, async (page) => {
    await startLesson(page, '502 vs 503 vs 504');
    const steps = [
      ['app_down', '502', 'maintenance'],
      ['maintenance', '503', 'slow_app'],
      ['slow_app', '504', null],
      ['none', '200', null],
    ];
    for (const [i, [fault, status, wrong]] of steps.entries()) {
      assert.equal(await page.getAttribute('[data-testid=lesson-step]', 'data-step'), String(i + 1));
      assert.equal(await passed(page), 'false', `step ${i + 1} is not done before the learner acts`);
      assert.ok(await page.locator('[data-testid=lesson-next]').count() === 0 || await page.isDisabled('[data-testid=lesson-next]'));
      if (wrong) {
        // Another status does not pass the step.
        await chooseFault(page, wrong);
        await sendRequest(page);
        await page.waitForTimeout(300);
        assert.equal(await passed(page), 'false', `step ${i + 1}: ${wrong} must not pass`);
      }
      await chooseFault(page, fault);
      await sendRequest(page);
      await waitForText(page, sel.status, status);
      await waitPassed(page);
      if (i < steps.length - 1) {
        assert.ok((await page.textContent('[data-testid=lesson-explain]')).length > 20, 'the step explains what happened');
        await page.click('[data-testid=lesson-next]');
      }
    }
    await waitForText(page, '[data-testid=lesson-complete]', 'Lesson complete: 502 vs 503 vs 504');
    await screenshot(page, 'lesson-complete');
  }));

test('a lesson link opens the lesson, "Show me" does a step, and an unknown lesson is reported', { timeout: 90_000 }, async () => {
  const s = await newPage(browser);
  try {
    await open(s, '?lesson=timeouts-504');
    const { page } = s;
    assert.equal(await page.getAttribute('[data-testid=lesson]', 'data-lesson'), 'timeouts-504');
    assert.equal(await passed(page), 'false');
    await page.click('[data-testid=lesson-show]');
    await waitPassed(page);
    await waitForText(page, sel.status, '504');
    await waitForText(page, '[data-testid=lesson-explain]', 'proxy_read_timeout');
    assertNoErrors(s);
  } finally {
    await s.close();
  }
  const t = await newPage(browser);
  try {
    await open(t, '?lesson=no-such-lesson');
    await waitForText(t.page, '[data-testid=link-notice]', 'no-such-lesson');
    assert.equal(await t.page.locator('[data-testid=lesson]').count(), 0);
    assertNoErrors(t);
  } finally {
    await t.close();
  }
});

test('the quiz hides the answer until the learner answers, then reveals what the engine did', { timeout: 60_000 }, () =>
  withApp(browser, async (page) => {
    await openTab(page, 'quiz');
    assert.equal(await page.getAttribute('[data-testid=quiz-question]', 'data-question'), 'app-down');
    assert.equal(await page.locator('[data-testid=quiz-reveal]').count(), 0, 'nothing revealed before an answer');
    assert.equal(await page.locator('[data-testid=quiz-status]').count(), 0);
    await page.click('[data-testid=quiz-choice][data-status="504"]');
    await page.locator('[data-testid=quiz-reveal]').waitFor();
    assert.equal(await page.textContent('[data-testid=quiz-status]'), '502');
    assert.equal(await page.getAttribute('[data-testid=quiz-reveal]', 'data-right'), 'false');
    assert.match(await page.textContent('[data-testid=quiz-log]'), /connect\(\) failed \(111: Connection refused\) while connecting to upstream/);
    assert.ok((await page.textContent('[data-testid=quiz-explain]')).length > 20);
    assert.ok(await page.isDisabled('[data-testid=quiz-choice][data-status="200"]'), 'no second guess');
    // The next question starts hidden again; a right answer says so.
    await page.click('[data-testid=quiz-next]');
    assert.equal(await page.getAttribute('[data-testid=quiz-question]', 'data-question'), 'slow-app');
    assert.equal(await page.locator('[data-testid=quiz-reveal]').count(), 0);
    await page.click('[data-testid=quiz-choice][data-status="504"]');
    await page.locator('[data-testid=quiz-reveal]').waitFor();
    assert.equal(await page.getAttribute('[data-testid=quiz-reveal]', 'data-right'), 'true');
    await waitForText(page, '[data-testid=quiz-score]', '1 of 2 right');
  }));

test('a challenge fails without retries and passes with a strategy that meets it', { timeout: 90_000 }, () =>
  withApp(browser, async (page) => {
    await openTab(page, 'quiz');
    await page.selectOption('[data-testid=challenge-select]', { index: 0 });
    await page.click('[data-testid=challenge-run]');
    await page.locator('[data-testid=challenge-verdict]').waitFor({ timeout: TIMEOUT.result });
    assert.equal(await page.getAttribute('[data-testid=challenge-verdict]', 'data-passed'), 'false');
    await page.selectOption('[data-testid=lab-ch-preset]', 'exponential_full_jitter');
    await page.check('[data-testid=lab-ch-on-503]');
    await page.click('[data-testid=challenge-run]');
    await page.waitForFunction(() => document.querySelector('[data-testid=challenge-verdict]')?.getAttribute('data-passed') === 'true', null, { timeout: TIMEOUT.result });
    assert.match(await page.textContent('[data-testid=challenge-verdict]'), /success 99\.\d\d %/);
  }));

test('presenter mode: large type, the room seed, shortcuts, and answers revealed only on R', { timeout: 90_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 1600, height: 900 } });
  try {
    await open(s, '?present=1&seed=77');
    const { page } = s;
    await page.locator('[data-testid=presenter-bar]').waitFor();
    assert.equal((await page.textContent('[data-testid=room-seed]')).replace(/\s+/g, ' ').trim(), 'Room seed 77');
    const big = await page.$eval(sel.app, (el) => parseFloat(getComputedStyle(el).fontSize));
    assert.ok(big >= 19, `presenter font size ${big}px`);
    // Enter sends a request; F applies the fix; ? shows the keys.
    await chooseFault(page, 'app_down');
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Enter');
    await waitForText(page, sel.status, '502');
    await page.keyboard.press('f');
    await page.keyboard.press('Enter');
    await waitForText(page, sel.status, '200');
    await page.keyboard.press('?');
    await page.locator('[data-testid=presenter-keys]').waitFor();
    // Typing in a field is not a shortcut.
    await page.focus('[data-testid=seed]');
    await page.keyboard.press('p');
    assert.equal(await page.locator('[data-testid=presenter-bar]').count(), 1);
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    // The quiz: an answer is recorded but stays hidden until R.
    await openTab(page, 'quiz');
    await page.click('[data-testid=quiz-choice][data-status="502"]');
    await page.waitForTimeout(300);
    assert.equal(await page.locator('[data-testid=quiz-reveal]').count(), 0, 'hidden until the presenter reveals');
    await page.locator('[data-testid=quiz-reveal-button]').waitFor();
    await page.keyboard.press('r');
    await page.locator('[data-testid=quiz-reveal]').waitFor();
    assert.equal(await page.textContent('[data-testid=quiz-status]'), '502');
    await page.evaluate(() => window.scrollTo(0, 0));
    await startLesson(page, 'Timeouts and 504');
    await page.click('[data-testid=lesson-show]');
    await waitPassed(page);
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('n');
    await page.waitForFunction(() => document.querySelector('[data-testid=lesson-step]')?.getAttribute('data-step') === '2', null, { timeout: TIMEOUT.action });
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'presenter-mode');
    await page.keyboard.press('p');
    assert.equal(await page.locator('[data-testid=presenter-bar]').count(), 0);
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('a lesson step that asks for a terminal command: typed by the learner, or run by "Show me"', { timeout: 90_000 }, () =>
  withApp(browser, async (page) => {
    await startLesson(page, 'The app is not running');
    await page.click('[data-testid=lesson-show]');
    await waitPassed(page);
    await page.click('[data-testid=lesson-next]');
    assert.equal(await passed(page), 'false');
    // The learner types it, in the Terminal tab.
    await openTab(page, 'terminal');
    await page.fill('[data-testid=terminal-input]', 'systemctl status app');
    await page.press('[data-testid=terminal-input]', 'Enter');
    await waitForText(page, '[data-testid=terminal-output]', 'inactive (dead)');
    await waitPassed(page);
    // "Show me" runs its command in the terminal too (lesson 2, step 2).
    await startLesson(page, 'A wrong port or a missing socket');
    await page.click('[data-testid=lesson-show]');
    await waitPassed(page);
    await page.click('[data-testid=lesson-next]');
    await page.click('[data-testid=lesson-show]');
    await waitPassed(page);
    await waitForText(page, '[data-testid=terminal-output]', 'ss -tlnp');
    await waitForText(page, '[data-testid=terminal-output]', '127.0.0.1:3000');
  }));
