// Embed mode (?embed=1), its postMessage API and the full page's Embed button, tested through
// public/embed-demo.html: a docs-like page with two sandboxed iframes, the second driven by the
// page. The demo is served from the same dist/ as the app, so it also proves that a relative src
// works under a sub-path.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, appUrl, assertNoErrors, screenshot, chooseFault, openTab, TIMEOUT, sel,
  ERROR_502, ERROR_504, accessLineRe,
} from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const SANDBOX = 'allow-scripts allow-same-origin';
// Chromium's own line when a sandboxed frame without allow-popups calls window.open.
const POPUP_BLOCKED = /Blocked opening .* in a new window because the request was made in a sandboxed frame/;

async function waitFor(fn, what, timeout = TIMEOUT.result) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`waited ${timeout} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every event the demo page shows in its panel, oldest first: { frame, ...message }. */
async function shownEvents(page) {
  return page.$$eval('[data-testid=demo-events] li', (lis) => lis.map((li) => ({ frame: li.dataset.frame, ...JSON.parse(li.dataset.json) })));
}

/** Waits for the first shown event of `frame` after index `from` that `match`es. */
async function waitForEvent(page, frame, match, what, from = 0) {
  return waitFor(async () => (await shownEvents(page)).slice(from).find((e) => e.frame === frame && match(e)), `${frame}: ${what}`);
}

async function openDemo(s) {
  const url = new URL('embed-demo.html', await appUrl()).href;
  await s.page.goto(url, { waitUntil: 'load', timeout: TIMEOUT.navigation });
  // Lazy frames load when near the viewport: bring both there.
  for (const id of ['#lab-first', '#lab-driven']) await s.page.locator(id).scrollIntoViewIfNeeded();
  // The first frame is start=click: it shows the engine's static preview and loads nothing more
  // (no `ready`) until the reader clicks (issue 20). The second starts once in view.
  await s.page.frameLocator('#lab-first').locator('[data-testid=embed-preview]').waitFor({ state: 'visible', timeout: TIMEOUT.mount });
  await waitForEvent(s.page, 'driven', (e) => e.type === 'ready', 'ready');
  return { first: s.page.frameLocator('#lab-first'), driven: s.page.frameLocator('#lab-driven') };
}

/** Clicks a demo button and waits for the embed's ack of that command. */
async function command(page, testid, expectCommand) {
  const from = (await shownEvents(page)).length;
  await page.click(`[data-testid=${testid}]`);
  return waitForEvent(page, 'driven', (e) => e.type === 'ack' && e.command === expectCommand, `ack of ${expectCommand}`, from);
}

/** Clicks "Send request" on the demo page and returns the next outcome of the driven frame. */
async function sendFromHost(page) {
  const from = (await shownEvents(page)).length;
  await page.click('[data-testid=demo-send]');
  return waitForEvent(page, 'driven', (e) => e.type === 'outcome', 'an outcome', from);
}

test('the demo page embeds two playgrounds in embed mode; both say ready; frames follow resize', { timeout: 90_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 1280, height: 900 } });
  try {
    const { first, driven } = await openDemo(s);
    await first.locator('[data-testid=embed-start]').click();
    await waitForEvent(s.page, 'first', (e) => e.type === 'ready', 'ready after the click');
    for (const [name, frame] of [['first', first], ['driven', driven]]) {
      await frame.locator('[data-testid=embed]').waitFor({ state: 'visible', timeout: TIMEOUT.mount });
      // Compact: no site chrome, none of the full page's panels.
      for (const gone of ['.masthead', 'footer', '[data-testid=app]', '.lab', '.compare-grid', '.config-text']) {
        assert.equal(await frame.locator(gone).count(), 0, `${name}: ${gone} should not be in the embed`);
      }
      for (const there of ['[data-testid=embed-fault]', '[data-testid=embed-send]', '[data-testid=embed-break]', '[data-testid=embed-fix]', '[data-testid=embed-open]']) {
        assert.equal(await frame.locator(there).count(), 1, `${name}: ${there}`);
      }
    }
    for (const id of ['#lab-first', '#lab-driven']) {
      assert.equal(await s.page.getAttribute(id, 'sandbox'), SANDBOX, `${id} sandbox`);
    }
    const ready = (await shownEvents(s.page)).filter((e) => e.type === 'ready');
    const firstReady = ready.find((e) => e.frame === 'first');
    const drivenReady = ready.find((e) => e.frame === 'driven');
    assert.deepEqual(firstReady.scenario, { title: 'App process not running', fault: 'app_down', faults: ['app_down'], flavor: 'nginx', seed: 1 });
    // It mounted waiting and was started by the click that loaded it.
    assert.equal(typeof firstReady.started, 'boolean');
    assert.equal(firstReady.version, 1);
    assert.deepEqual(drivenReady.scenario, { title: 'Healthy upstream', fault: 'none', faults: [], flavor: 'nginx', seed: 1 });
    assert.equal(drivenReady.started, true);
    assert.deepEqual(drivenReady.warnings, []);

    // Each frame's height is the content height it reported.
    for (const [id, frame] of [['#lab-first', 'first'], ['#lab-driven', 'driven']]) {
      const reported = await waitFor(
        () => s.page.evaluate((f) => LAB.log.filter((e) => e.frame === f && e.message.type === 'resize').map((e) => e.message.height).pop(), frame),
        `${frame}: a resize event`,
      );
      const content = await s.page.frameLocator(id).locator('[data-testid=embed]').evaluate((el) => el.scrollHeight);
      assert.equal(reported, content, `${frame}: resize reports the content height`);
      assert.ok(reported > 150 && reported <= 400, `${frame}: ${reported} px fits a 400 px frame`);
      await waitFor(async () => (await s.page.$eval(id, (el) => el.style.height)) === `${reported}px`, `${id} height ${reported}px`);
    }
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('the host page drives the second playground: app down → 502 and its error.log line, fix → 200, slow app → 504', { timeout: 90_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 1280, height: 900 } });
  try {
    const { driven } = await openDemo(s);

    const ack = await command(s.page, 'demo-break-app-down', 'break');
    assert.match(ack.id, /^demo-\d+$/);
    assert.equal(ack.scenario.fault, 'app_down');
    let o = await sendFromHost(s.page);
    assert.equal(o.status, 502);
    assert.equal(o.log, 'error.log');
    assert.match(o.logLine, ERROR_502);
    assert.equal(o.clientResult, 'response');
    assert.match(o.explanation, /ECONNREFUSED/);
    assert.ok(!o.explanation.includes('\n'));
    // The embed shows the same thing.
    assert.match(await driven.locator('[data-testid=embed-status]').textContent(), /^502 Bad Gateway/);
    assert.equal(await driven.locator('[data-testid=embed-log-line]').textContent(), o.logLine);
    assert.equal(await driven.locator('[data-testid=embed-log-title]').textContent(), 'nginx error.log');
    assert.equal(await driven.locator('[data-testid=embed-upstream-state]').textContent(), 'down');

    await command(s.page, 'demo-fix', 'fix');
    o = await sendFromHost(s.page);
    assert.equal(o.status, 200);
    assert.equal(o.log, 'access.log');
    assert.match(o.logLine, accessLineRe(200));
    assert.match(await driven.locator('[data-testid=embed-status]').textContent(), /^200 OK/);

    await command(s.page, 'demo-break-slow-app', 'break');
    o = await sendFromHost(s.page);
    assert.equal(o.status, 504);
    assert.match(o.logLine, ERROR_504);

    // Request ids count up, one outcome per request.
    const ids = (await shownEvents(s.page)).filter((e) => e.frame === 'driven' && e.type === 'outcome').map((e) => e.requestId);
    assert.deepEqual(ids, [1, 2, 3]);
    await s.page.locator('[data-testid=demo-events]').scrollIntoViewIfNeeded();
    await s.page.evaluate(() => window.scrollTo(0, 0));
    const path = await screenshot(s.page, 'embed-demo');
    assert.ok(path.endsWith('embed-demo.png'));
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('start=click: the engine\'s preview under an overlay, no WebAssembly before the click; then the frame\'s own buttons work', { timeout: 90_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 1280, height: 900 } });
  try {
    const wasmOfFirst = [];
    s.page.on('request', (r) => {
      if (r.url().endsWith('.wasm') && r.frame().url().includes('start=click')) wasmOfFirst.push(r.url());
    });
    const { first } = await openDemo(s);
    const start = first.locator('[data-testid=embed-start]');
    assert.ok(await start.isVisible(), 'the overlay is shown');
    assert.equal(await start.textContent(), '▶ Run this example');
    // The static preview: what the click will show, as the engine produced it at build time.
    assert.match(await first.locator('[data-testid=preview-status]').textContent(), /^502 Bad Gateway/);
    assert.match(await first.locator('[data-testid=preview-log-line]').textContent(), ERROR_502);
    assert.equal(await first.locator('.embed-body').getAttribute('inert'), '', 'the controls under the overlay are inert');
    await s.page.waitForTimeout(600);
    assert.deepEqual((await shownEvents(s.page)).filter((e) => e.frame === 'first'), [], 'no event before the click');
    assert.deepEqual(wasmOfFirst, [], 'no WebAssembly requested before the click');

    await start.click();
    const o = await waitForEvent(s.page, 'first', (e) => e.type === 'outcome', 'the scenario\'s own request');
    assert.equal(o.status, 502);
    assert.match(o.logLine, ERROR_502);
    assert.equal(await first.locator('[data-testid=embed-start]').count(), 0, 'the overlay is gone');
    assert.equal(await first.locator('.embed-body').getAttribute('inert'), null);

    // The reader fixes it with the frame's own buttons; the host still hears of it.
    await first.locator('[data-testid=embed-fix]').click();
    const n = (await shownEvents(s.page)).length;
    await first.locator('[data-testid=embed-send]').click();
    const fixed = await waitForEvent(s.page, 'first', (e) => e.type === 'outcome', 'an outcome after the fix', n);
    assert.equal(fixed.status, 200);
    assert.equal(fixed.requestId, 2);
    assert.match(await first.locator('[data-testid=embed-status]').textContent(), /^200 OK/);
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('malformed, foreign and hostile messages are ignored or answered with an error; the embed keeps working', { timeout: 90_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 1280, height: 900 } });
  try {
    const { driven } = await openDemo(s);
    const from = (await shownEvents(s.page)).length;
    await s.page.evaluate(() => {
      const target = document.getElementById('lab-driven').contentWindow;
      const cyclic = { gatewayLab: 1, type: 'break', fault: 'app_down', id: 'cycle' };
      cyclic.self = cyclic;
      const junk = [
        'break', 42, null, true, [1, 2, 3], {}, new Date(0), new Uint8Array(8),
        { type: 'break', fault: 'app_down' }, // no envelope: someone else's message
        { source: 'react-devtools-content-script', payload: { gatewayLab: 1 } },
        { gatewayLab: 1, type: 'ready' }, { gatewayLab: 1, type: 'outcome', status: 502 }, // our own events, echoed
        cyclic, // JSON cannot write it
        { gatewayLab: 1, type: 'send', id: 'big', pad: 'x'.repeat(200_000) }, // over 64 KiB
        { gatewayLab: 1, type: 'send', id: 'bigint', n: 10n },
        { gatewayLab: 1, type: 'explode', id: 'e1' },
        { gatewayLab: 1, type: 'break', fault: 'gremlins', id: 'e2' },
        { gatewayLab: 2, type: 'fix', id: 'e3' },
        { gatewayLab: 1, type: 'send', count: 1e9, id: 'e4' },
        { gatewayLab: 1, type: 'load', scenario: { version: 1, seed: 'x' }, id: 'e5' },
        { gatewayLab: 1, type: 'load', scenario: 'no_such_scenario', id: 'e6' },
        // Well-formed, but the Session refuses it: nothing is broken (it used to be acked).
        { gatewayLab: 1, type: 'fix', id: 'e7' },
      ];
      for (const m of junk) target.postMessage(m, '*');
      // A valid command, but from a sibling frame instead of the parent: not ours to obey.
      document.getElementById('lab-first').contentWindow.eval(
        "parent.document.getElementById('lab-driven').contentWindow.postMessage({ gatewayLab: 1, type: 'break', fault: 'app_down', id: 'sibling' }, '*')",
      );
      target.postMessage({ gatewayLab: 1, type: 'ping', id: 'p1' }, '*');
    });
    await waitForEvent(s.page, 'driven', (e) => e.type === 'pong' && e.id === 'p1', 'pong p1', from);
    await s.page.waitForTimeout(300);
    const after = (await shownEvents(s.page)).slice(from).filter((e) => e.frame === 'driven');
    const errors = after.filter((e) => e.type === 'error');
    assert.deepEqual(errors.map((e) => e.id), ['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7'], JSON.stringify(errors));
    assert.match(errors[0].message, /unknown message type "explode"/);
    assert.match(errors[1].message, /"gremlins" is not a fault/);
    assert.match(errors[2].message, /protocol 1, got 2/);
    assert.match(errors[3].message, /count: a whole number from 1 to 50/);
    assert.match(errors[4].message, /^load: |seed/);
    assert.match(errors[5].message, /not a ready scenario/);
    assert.equal(errors[6].message, 'fix: nothing is broken, so there is nothing to fix');
    assert.deepEqual(after.filter((e) => e.type === 'ack' || e.type === 'outcome'), [], 'nothing was carried out');

    // Still healthy (neither the cyclic break nor the sibling's was obeyed), and still working.
    assert.match(await driven.locator('[data-testid=embed-upstream-state]').textContent(), /listening/);
    const o = await sendFromHost(s.page);
    assert.equal(o.status, 200);
    assert.ok(await driven.locator('[data-testid=embed]').isVisible());
    assert.equal(await driven.locator('[data-testid=link-notice]').count(), 0);
    assert.equal(await driven.locator('[data-testid=panic-overlay]').count(), 0, 'no panic');
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('the embed at 600×400: fits without horizontal overflow (nginx, HAProxy, several servers, 320 px)', { timeout: 90_000 }, async () => {
  const cases = [
    { q: '?embed=1&fault=app_down', w: 600, h: 400, status: '502 Bad Gateway', shot: 'embed-600x400' },
    { q: '?embed=1&fault=app_down&theme=dark', w: 600, h: 400, status: '502 Bad Gateway', shot: 'embed-600x400-dark' },
    { q: '?embed=1&fault=app_down&flavor=haproxy', w: 600, h: 400, status: '503 Service Unavailable' },
    { q: '?embed=1&fault=rolling_deploy', w: 600, h: 400 },
    { q: '?embed=1&fault=gremlins&seed=x', w: 600, h: 400, notice: /could not be opened.*gremlins.*seed="x"/ },
    { q: '?embed=1&fault=slow_app', w: 320, h: 600, status: '504 Gateway Time-out', shot: 'embed-320' },
  ];
  for (const c of cases) {
    const s = await newPage(browser, { viewport: { width: c.w, height: c.h } });
    try {
      await s.page.goto((await appUrl()) + c.q, { waitUntil: 'load', timeout: TIMEOUT.navigation });
      await s.page.locator('[data-testid=embed]').waitFor({ state: 'visible', timeout: TIMEOUT.mount });
      if (c.status) {
        await waitFor(async () => (await s.page.textContent('[data-testid=embed-status]')).startsWith(c.status), `${c.q}: ${c.status}`);
      }
      if (c.notice) {
        // A bad link still gives a working embed, with a line saying what was wrong.
        assert.match(await s.page.textContent('[data-testid=link-notice]'), c.notice);
        await s.page.click('[data-testid=embed-send]');
        await waitFor(async () => (await s.page.textContent('[data-testid=embed-status]')).startsWith('200 OK'), 'a 200 after a bad link');
      }
      const m = await s.page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
        content: document.querySelector('[data-testid=embed]').scrollHeight,
        wide: [...document.querySelectorAll('[data-testid=embed] *')].filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5).map((el) => el.className || el.tagName),
      }));
      assert.ok(m.scrollWidth <= m.clientWidth, `${c.q} at ${c.w}px: scrollWidth ${m.scrollWidth} > ${m.clientWidth}`);
      assert.deepEqual(m.wide, [], `${c.q}: elements past the right edge`);
      if (c.w === 600) assert.ok(m.content <= 400, `${c.q}: content ${m.content} px is taller than the 400 px frame`);
      if (c.shot) await screenshot(s.page, c.shot);
      assertNoErrors(s, c.q);
    } finally {
      await s.close();
    }
  }
});

test('the Embed button gives an iframe snippet whose src opens the same scenario', { timeout: 90_000 }, async () => {
  const s = await newPage(browser);
  let src;
  let clickSrc;
  try {
    await s.page.goto(await appUrl(), { waitUntil: 'load', timeout: TIMEOUT.navigation });
    await s.page.locator(sel.app).waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    await chooseFault(s.page, 'slow_app');
    await openTab(s.page, 'config');
    await s.page.selectOption('[data-testid=flavor-select]', 'haproxy');
    await s.page.click('[data-testid=embed-button]');
    await s.page.locator('[data-testid=embed-dialog]').waitFor({ state: 'visible' });
    const read = async () => s.page.evaluate((html) => {
      const f = new DOMParser().parseFromString(html, 'text/html').querySelector('iframe');
      return Object.fromEntries([...f.attributes].map((a) => [a.name, a.value]));
    }, await s.page.inputValue('[data-testid=embed-snippet]'));
    const attrs = await read();
    assert.equal(attrs.width, '600');
    assert.equal(attrs.height, '400');
    assert.equal(attrs.sandbox, SANDBOX);
    assert.equal(attrs.loading, 'lazy');
    // The frame's title speaks the embed's proxy (HAProxy's timeout server, not nginx's directive).
    assert.equal(attrs.title, 'Gateway Lab: App slower than timeout server (haproxy)');
    src = attrs.src;
    const base = new URL(await appUrl());
    const u = new URL(src);
    assert.equal(u.origin + u.pathname, base.origin + base.pathname, 'the src is this page without its query');
    assert.equal(u.search, '?embed=1');
    assert.match(u.hash, /^#s=1\.[A-Za-z0-9_-]+$/);
    // The share link and the embed carry the same scenario.
    assert.equal(u.hash, new URL(await s.page.inputValue('[data-testid=share-link]')).hash);

    await screenshot(s.page, 'embed-dialog');
    await s.page.check('[data-testid=embed-click-to-start]');
    clickSrc = (await read()).src;
    assert.equal(new URL(clickSrc).search, '?embed=1&start=click');
    await s.page.click('[data-testid=embed-copy]');
    await waitFor(async () => (await s.page.textContent('[data-testid=embed-copy-status]')) !== '', 'a copy status');
    await s.page.click('[data-testid=embed-close]');
    assert.ok(!(await s.page.locator('[data-testid=embed-dialog]').isVisible()));
    assertNoErrors(s);
  } finally {
    await s.close();
  }

  // Open the src: the embed on the same scenario, linking back to the full page on it.
  const e = await newPage(browser, { viewport: { width: 600, height: 400 } });
  try {
    await e.page.goto(src, { waitUntil: 'load', timeout: TIMEOUT.navigation });
    await e.page.locator('[data-testid=embed]').waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    assert.equal(await e.page.inputValue('[data-testid=embed-fault]'), 'slow_app');
    assert.match(await e.page.textContent('[data-testid=embed-title]'), /· haproxy$/);
    assert.equal(await e.page.locator('[data-testid=embed-start]').count(), 0);
    const full = await e.page.getAttribute('[data-testid=embed-open]', 'href');
    assert.equal(new URL(full).hash, new URL(src).hash);
    assert.equal(await e.page.getAttribute('[data-testid=embed-open]', 'target'), '_blank');
    // Not framed and not sandboxed: the link opens the full page in a new tab.
    const [tab] = await Promise.all([e.context.waitForEvent('page'), e.page.click('[data-testid=embed-open]')]);
    await tab.waitForLoadState('load');
    await tab.locator(sel.app).waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    assert.equal(await tab.inputValue(sel.fault), 'slow_app');
    await openTab(tab, 'config');
    assert.equal(await tab.inputValue('[data-testid=flavor-select]'), 'haproxy');
    assert.equal(await tab.evaluate(() => window.opener), null, 'the new tab has no opener');
    assertNoErrors(e);
  } finally {
    await e.close();
  }

  const c = await newPage(browser, { viewport: { width: 600, height: 400 } });
  try {
    await c.page.goto(clickSrc, { waitUntil: 'load', timeout: TIMEOUT.navigation });
    await c.page.locator('[data-testid=embed-start]').waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    assertNoErrors(c);
  } finally {
    await c.close();
  }
});

test('inside a sandbox without allow-popups, "Open in Gateway Lab" shows the address instead', { timeout: 90_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 1280, height: 900 } });
  try {
    const { driven } = await openDemo(s);
    const href = await driven.locator('[data-testid=embed-open]').getAttribute('href');
    await driven.locator('[data-testid=embed-open]').click();
    const blocked = driven.locator('[data-testid=embed-open-blocked]');
    await blocked.waitFor({ state: 'visible' });
    assert.equal(await blocked.locator('input').inputValue(), href);
    assert.equal(s.context.pages().length, 1, 'no tab was opened');
    // Chromium reports the blocked popup itself; nothing else may be logged.
    s.consoleErrors.splice(0, s.consoleErrors.length, ...s.consoleErrors.filter((m) => !POPUP_BLOCKED.test(m)));
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('origin=: the embed takes messages from, and posts events to, that origin only', { timeout: 90_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 1280, height: 900 } });
  try {
    await openDemo(s);
    const origin = new URL(await appUrl()).origin;
    await s.page.evaluate((origin) => {
      window.seen = [];
      window.addEventListener('message', (e) => {
        for (const name of ['mine', 'other']) {
          if (e.source === document.getElementById(`lab-${name}`)?.contentWindow) window.seen.push({ name, ...e.data });
        }
      });
      for (const [name, o] of [['mine', origin], ['other', 'https://elsewhere.example']]) {
        const f = document.createElement('iframe');
        f.id = `lab-${name}`;
        f.setAttribute('sandbox', 'allow-scripts allow-same-origin');
        f.src = `./?embed=1&start=click&seed=x&origin=${encodeURIComponent(o)}`;
        document.querySelector('main').append(f);
      }
    }, origin);
    // start=click: each frame shows its preview and waits; the host's first message makes it load
    // (and is handed to the live embed, which applies its origin policy).
    for (const name of ['mine', 'other']) {
      await s.page.frameLocator(`#lab-${name}`).locator('[data-testid=embed-preview]').waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    }
    const seen = () => s.page.evaluate(() => window.seen);
    await s.page.evaluate(() => {
      for (const name of ['mine', 'other']) document.getElementById(`lab-${name}`).contentWindow.postMessage({ gatewayLab: 1, type: 'ping', id: name }, '*');
    });
    const ready = await waitFor(async () => (await seen()).find((e) => e.name === 'mine' && e.type === 'ready'), 'ready from the frame locked to this origin');
    assert.equal(ready.warnings.length, 1, JSON.stringify(ready.warnings));
    assert.match(ready.warnings[0], /seed="x"/);
    await waitFor(async () => (await seen()).find((e) => e.name === 'mine' && e.type === 'pong' && e.id === 'mine'), 'pong from mine');
    // A ping does not start a click-to-start embed; a command does (the host acts for its reader).
    assert.equal(ready.started, false);
    const mine = s.page.frameLocator('#lab-mine');
    assert.ok(await mine.locator('[data-testid=embed-start]').isVisible());
    await s.page.evaluate(() => document.getElementById('lab-mine').contentWindow.postMessage({ gatewayLab: 1, type: 'send' }, '*'));
    const o = await waitFor(async () => (await seen()).find((e) => e.name === 'mine' && e.type === 'outcome'), 'an outcome from mine');
    assert.equal(o.status, 200);
    assert.equal(await mine.locator('[data-testid=embed-start]').count(), 0);
    await s.page.waitForTimeout(500);
    assert.deepEqual((await seen()).filter((e) => e.name === 'other'), [], 'the frame locked to another origin neither answers nor reports');
    await s.page.frameLocator('#lab-other').locator('[data-testid=embed]').waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    // Chromium says why it dropped the frame's events to the other origin; nothing else may be logged.
    const mismatch = /target origin provided \('https:\/\/elsewhere\.example'\) does not match the recipient window's origin/;
    s.consoleErrors.splice(0, s.consoleErrors.length, ...s.consoleErrors.filter((m) => !mismatch.test(m)));
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('a host command starts a click-to-start embed with its own scenario first', { timeout: 90_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 1280, height: 900 } });
  try {
    await openDemo(s);
    await s.page.evaluate(() => {
      window.seen = [];
      window.addEventListener('message', (e) => {
        if (e.source === document.getElementById('lab-queued')?.contentWindow) window.seen.push(e.data);
      });
      const f = document.createElement('iframe');
      f.id = 'lab-queued';
      f.setAttribute('sandbox', 'allow-scripts allow-same-origin');
      f.src = './?embed=1&start=click&fault=app_down';
      document.querySelector('main').append(f);
    });
    const seen = () => s.page.evaluate(() => window.seen);
    // Not loaded yet (start=click): the preview listens, and the commands make it load; they are
    // carried out once the live embed listens, in order.
    await s.page.frameLocator('#lab-queued').locator('[data-testid=embed-preview]').waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    assert.deepEqual(await seen(), [], 'nothing from the frame before it loads');
    // The host fixes the app and sends: the scenario's own request runs first, when the host's
    // command starts the embed (502, the app is down), then the host's (200).
    await s.page.evaluate(() => {
      const w = document.getElementById('lab-queued').contentWindow;
      w.postMessage({ gatewayLab: 1, type: 'fix' }, '*');
      w.postMessage({ gatewayLab: 1, type: 'send' }, '*');
    });
    await waitFor(async () => (await seen()).filter((e) => e.type === 'outcome').length >= 2, 'two outcomes');
    await s.page.waitForTimeout(300);
    const outcomes = (await seen()).filter((e) => e.type === 'outcome');
    assert.deepEqual(outcomes.map((o) => o.status), [502, 200]);
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});
