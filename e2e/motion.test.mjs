// Motion you can follow (issue 15, item 2): after Send, the stage's request is replayed hop by hop
// over screen time a person can watch, whatever its virtual duration, and a waiting proxy shows its
// timer running toward proxy_read_timeout (nginx) or timeout server (HAProxy). The status does not
// wait for the replay. With prefers-reduced-motion the end state shows at once, timer included.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { launch, newPage, appUrl, assertNoErrors, sel, TIMEOUT } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const dot = '[data-testid=motion-dot]';
const timer = '[data-testid=motion-timer]';

async function open(s, query) {
  await s.page.goto(`${await appUrl()}${query}`, { waitUntil: 'load', timeout: TIMEOUT.navigation });
  await s.page.locator(sel.app).waitFor({ state: 'visible', timeout: TIMEOUT.mount });
}

/** One reading of the replay: the dot's state and place, and the timer's text. */
const sample = (page) => page.evaluate(([d, t]) => {
  const c = document.querySelector(d);
  const g = c?.closest('g');
  const m = g?.getAttribute('transform')?.match(/translate\(([-\d.e]+) ([-\d.e]+)\)/);
  const tm = document.querySelector(t);
  return {
    state: c?.getAttribute('data-state') ?? 'missing',
    at: m ? [Number(m[1]), Number(m[2])] : null,
    timer: tm && !tm.classList.contains('motion-off') ? tm.textContent.replace(/\s+/g, ' ').trim() : '',
    fired: !!tm?.classList.contains('fired'),
    ms: performance.now(),
  };
}, [dot, timer]);

/** The virtual time a timer reading shows, in seconds ("waiting 12.4 s", "timed out at 60.0 s"). */
function seconds(text) {
  const m = /(?:waiting|timed out at) ([\d.]+) (µs|ms|s)\b/.exec(text);
  if (!m) return null;
  return Number(m[1]) * { 'µs': 1e-6, ms: 1e-3, s: 1 }[m[2]];
}

/** Samples the replay every 100 ms until it is done (bounded). */
async function watch(page, limitMs = 10_000) {
  const samples = [];
  const deadline = Date.now() + limitMs;
  for (;;) {
    const s = await sample(page);
    samples.push(s);
    if (s.state === 'done' || Date.now() > deadline) return samples;
    await page.waitForTimeout(100);
  }
}

for (const [flavor, directive] of [['nginx', 'proxy_read_timeout'], ['haproxy', 'timeout server']]) {
  test(`${flavor}: a slow app's request is drawn over seconds, the proxy's ${directive} counting up to its limit`, { timeout: 60_000 }, async () => {
    const s = await newPage(browser, { viewport: { width: 1280, height: 800 } });
    try {
      await open(s, `?fault=slow_app&flavor=${flavor}`);
      await s.page.click(sel.send);
      // The engine's answer is on screen at once; the replay is only the journey.
      await s.page.locator(sel.status).filter({ hasText: '504' }).waitFor({ timeout: 2_000 });
      const samples = await watch(s.page);
      const moving = samples.filter((x) => x.state === 'moving');
      assert.ok(moving.length >= 10, `moving for at least ~1 s of screen time: ${moving.length} samples`);
      const span = moving[moving.length - 1].ms - moving[0].ms;
      assert.ok(span >= 1_000, `the replay lasts ${span} ms`);
      // The dot goes through distinct places on its way (each hop drawn, not a jump to the end).
      const places = new Set(moving.filter((x) => x.at).map((x) => x.at.map(Math.round).join(',')));
      assert.ok(places.size >= 5, `distinct dot positions: ${[...places].join(' ')}`);
      // The waiting proxy's timer names its directive and counts up toward 60 s.
      const timed = moving.filter((x) => x.timer.includes(directive) && seconds(x.timer) !== null);
      assert.ok(timed.length >= 5, `the timer shows for a while: ${JSON.stringify(samples.map((x) => x.timer))}`);
      const values = timed.map((x) => seconds(x.timer));
      for (let i = 1; i < values.length; i++) assert.ok(values[i] >= values[i - 1], `the timer never goes back: ${values}`);
      assert.ok(values.some((v) => v > 1 && v < 59), `an intermediate reading: ${values}`);
      assert.match(timed[0].timer, new RegExp(`${directive} 60s`));
      const end = samples[samples.length - 1];
      assert.equal(end.state, 'done', 'the replay ends');
      assert.ok(end.fired, 'it ends with the timer run out');
      assert.match(end.timer, new RegExp(`${directive} 60s.*timed out at 60\\.0 s`));
      assertNoErrors(s);
    } finally {
      await s.close();
    }
  });
}

test('a new Send restarts the replay on the new request, and the controls stay usable meanwhile', { timeout: 60_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 1280, height: 800 } });
  try {
    await open(s, '?fault=slow_app');
    await s.page.click(sel.send);
    await s.page.waitForTimeout(1_500);
    const mid = await sample(s.page);
    assert.equal(mid.state, 'moving');
    // Send again mid-replay: the click is taken at once and the replay starts over.
    await s.page.click(sel.send, { timeout: 1_000 });
    const again = await sample(s.page);
    assert.equal(again.state, 'moving');
    assert.equal(again.timer, '', 'back to the first hop: no wait yet');
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('with prefers-reduced-motion the end state shows at once, the timer\'s final value in text', { timeout: 60_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, reducedMotion: 'reduce', timezoneId: 'UTC', locale: 'en-US' });
  try {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${await appUrl()}?fault=slow_app`, { waitUntil: 'load', timeout: TIMEOUT.navigation });
    await page.locator(sel.app).waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    await page.click(sel.send);
    await page.waitForTimeout(150);
    const first = await sample(page);
    assert.equal(first.state, 'done', 'no movement: the end state at once');
    assert.match(first.timer, /proxy_read_timeout 60s.*timed out at 60\.0 s/);
    await page.waitForTimeout(600);
    const later = await sample(page);
    assert.deepEqual(later.at, first.at, 'the dot does not move');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
