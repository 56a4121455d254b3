// The page's state after a link or a load (issue 14): query parameters mean the same in any order,
// a parameter that cannot be honoured is reported in the link notice, and the log panels show the
// newest run's lines, not rows left over from an earlier run with the same line numbers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, openAt, assertNoErrors, scenarioInLink, fragmentFor, chooseFault, sendRequest, waitForText, texts,
  sel, TIMEOUT, ERROR_502, ERROR_504, accessLineRe, openTab,
} from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const notice = '[data-testid=link-notice]';
const embed = '[data-testid=embed]';

/** Runs `body(page, session)` on a fresh page opened at `suffix`, then checks for page errors. */
async function at(suffix, body, ready = sel.app) {
  const s = await newPage(browser);
  try {
    await openAt(s.page, suffix, ready);
    await body(s.page, s);
    assertNoErrors(s, suffix);
  } finally {
    await s.close();
  }
}

/** The link notice's text, or null when there is none. */
async function noticeText(page) {
  return (await page.locator(notice).count()) ? (await page.textContent(notice)).trim() : null;
}

/**
 * What the full page shows: the fault picker, the status of the newest request, the flavor
 * picker (the config panel mounts after the first paint: waited for), the seed, the theme, the
 * lesson in progress, the scenario the share link carries, and the link notice.
 */
async function fullPageState(page) {
  // The flavor picker is in the Config tab (mounted when the tab first opens).
  await openTab(page, 'config');
  const lesson = page.locator('[data-testid=lesson]');
  return {
    fault: await page.inputValue(sel.fault),
    status: (await page.textContent(sel.status)).trim(),
    flavor: await page.inputValue('[data-testid=flavor-select]'),
    seed: await page.inputValue('[data-testid=seed]'),
    theme: await page.getAttribute('html', 'data-theme'),
    lesson: (await lesson.count()) ? await lesson.getAttribute('data-lesson') : null,
    shared: scenarioInLink(await page.inputValue('[data-testid=share-link]')),
    notice: await noticeText(page),
  };
}

/** What the embed shows: its fault picker, status, title (ends with the flavor), and the full page's address it links to. */
async function embedState(page) {
  const open = new URL(await page.getAttribute('[data-testid=embed-open]', 'href'));
  return {
    fault: await page.inputValue('[data-testid=embed-fault]'),
    status: (await page.textContent('[data-testid=embed-status]')).trim(),
    title: (await page.textContent('[data-testid=embed-title]')).trim(),
    theme: await page.getAttribute('html', 'data-theme'),
    // "Open in Gateway Lab" keeps theme, lesson and view, and carries the scenario.
    openParams: Object.fromEntries(open.searchParams),
    shared: scenarioInLink(open.href),
    notice: await noticeText(page),
  };
}

/** Waits until the status shows `prefix` (the page runs a linked scenario's own requests at load). */
async function waitStatus(page, prefix, selector = sel.status) {
  await waitForText(page, selector, prefix);
}

/** Opens every address of `orders`, checks each with `check(state, q)`, and that all show the same. */
async function sameInEveryOrder(orders, { ready = sel.app, status, read = fullPageState, statusSel = sel.status }, check) {
  let first;
  for (const q of orders) {
    await at(q, async (page) => {
      if (status) await waitStatus(page, status, statusSel);
      const state = await read(page);
      check(state, q);
      if (first === undefined) first = { q, state };
      else assert.deepEqual(state, first.state, `${q} shows the same as ${first.q}`);
    }, ready);
  }
}

// ------------------------------------------------------------------------ a. parameter order
test('order: ?seed=7&fault=app_down opens App down as ?fault=app_down&seed=7 does (502, seed 7)', { timeout: 60_000 }, () =>
  sameInEveryOrder(['?fault=app_down&seed=7', '?seed=7&fault=app_down'], { status: '502' }, (s, q) => {
    assert.equal(s.fault, 'app_down', `${q}: the fault picker`);
    assert.equal(s.status, '502 Bad Gateway', `${q}: the status after the page's own request`);
    assert.equal(s.seed, '7', `${q}: the seed`);
    assert.equal(s.flavor, 'nginx', q);
    assert.equal(s.shared.seed, 7, `${q}: the share link's seed`);
    assert.deepEqual(s.shared.faults?.map((f) => f.type), ['app_down'], `${q}: the share link's faults`);
    assert.equal(s.notice, null, `${q}: nothing to report`);
  }));

test('order: ?flavor=haproxy&fault=slow_app opens the slow app behind HAProxy as ?fault=slow_app&flavor=haproxy does', { timeout: 60_000 }, () =>
  sameInEveryOrder(['?fault=slow_app&flavor=haproxy', '?flavor=haproxy&fault=slow_app'], { status: '504' }, (s, q) => {
    assert.equal(s.fault, 'slow_app', `${q}: the fault picker`);
    assert.match(s.status, /^504 /, `${q}: the status after the page's own request`);
    assert.equal(s.flavor, 'haproxy', `${q}: the flavor picker`);
    assert.equal(s.shared.proxy?.flavor, 'haproxy', `${q}: the share link's flavor`);
    assert.deepEqual(s.shared.faults?.map((f) => f.type), ['slow_app'], q);
    assert.equal(s.notice, null, `${q}: nothing to report`);
  }));

test('order: fault, flavor, seed, theme and retry in six orders open the same page', { timeout: 120_000 }, () =>
  sameInEveryOrder([
    '?fault=app_down&flavor=haproxy&seed=7&theme=dark&retry=python_requests',
    '?seed=7&theme=dark&retry=python_requests&flavor=haproxy&fault=app_down',
    '?retry=python_requests&fault=app_down&theme=dark&seed=7&flavor=haproxy',
    '?theme=dark&flavor=haproxy&fault=app_down&retry=python_requests&seed=7',
    '?flavor=haproxy&retry=python_requests&seed=7&fault=app_down&theme=dark',
    '?seed=7&fault=app_down&flavor=haproxy&theme=dark&retry=python_requests',
  ], { status: '503' }, (s, q) => {
    assert.equal(s.fault, 'app_down', `${q}: the fault picker`);
    assert.equal(s.status, '503 Service Unavailable', `${q}: HAProxy's answer for App down`);
    assert.equal(s.flavor, 'haproxy', q);
    assert.equal(s.seed, '7', q);
    assert.equal(s.theme, 'dark', q);
    assert.equal(s.shared.clients?.retry?.max_attempts, 5, `${q}: python_requests' 5 tries in the share link`);
    assert.equal(s.notice, null, `${q}: nothing to report`);
  }));

test('order: lesson, seed and theme in any order open the lesson with the room seed', { timeout: 90_000 }, () =>
  sameInEveryOrder(['?lesson=timeouts-504&seed=7&theme=dark', '?seed=7&theme=dark&lesson=timeouts-504', '?theme=dark&lesson=timeouts-504&seed=7'], {}, (s, q) => {
    assert.equal(s.lesson, 'timeouts-504', q);
    assert.equal(s.seed, '7', q);
    assert.equal(s.theme, 'dark', q);
    assert.equal(s.notice, null, q);
  }));

test('order: all seven (fault, flavor, seed, theme, lesson, retry, embed=1) in six orders open the same embed', { timeout: 120_000 }, () =>
  sameInEveryOrder([
    '?embed=1&fault=slow_app&flavor=haproxy&seed=7&theme=dark&lesson=timeouts-504&retry=python_requests',
    '?seed=7&flavor=haproxy&theme=dark&embed=1&lesson=timeouts-504&retry=python_requests&fault=slow_app',
    '?retry=python_requests&lesson=timeouts-504&theme=dark&seed=7&flavor=haproxy&fault=slow_app&embed=1',
    '?flavor=haproxy&fault=slow_app&embed=1&retry=python_requests&seed=7&lesson=timeouts-504&theme=dark',
    '?lesson=timeouts-504&embed=1&seed=7&fault=slow_app&theme=dark&retry=python_requests&flavor=haproxy',
    '?theme=dark&retry=python_requests&fault=slow_app&lesson=timeouts-504&flavor=haproxy&embed=1&seed=7',
  ], { ready: embed, read: embedState, statusSel: '[data-testid=embed-status]' }, (s, q) => {
    assert.equal(s.fault, 'slow_app', `${q}: the embed's fault picker`);
    assert.match(s.title, /· haproxy$/, `${q}: the embed's title names the flavor`);
    assert.equal(s.theme, 'dark', q);
    assert.equal(s.shared.seed, 7, `${q}: the seed ("Open in Gateway Lab" link)`);
    assert.equal(s.shared.proxy?.flavor, 'haproxy', q);
    assert.equal(s.shared.clients?.retry?.max_attempts, 5, `${q}: python_requests`);
    assert.deepEqual(s.shared.faults?.map((f) => f.type), ['slow_app'], q);
    assert.equal(s.openParams.lesson, 'timeouts-504', `${q}: the lesson is passed on`);
    assert.equal(s.notice, null, q);
  }));

test('order: the embed runs the linked fault whichever parameter comes first (its own request: 502)', { timeout: 60_000 }, () =>
  sameInEveryOrder(['?embed=1&seed=7&fault=app_down', '?seed=7&embed=1&fault=app_down', '?fault=app_down&seed=7&embed=1'],
    { ready: embed, read: embedState, statusSel: '[data-testid=embed-status]', status: '502' }, (s, q) => {
      assert.equal(s.fault, 'app_down', q);
      assert.match(s.status, /^502 Bad Gateway/, q);
      assert.equal(s.shared.seed, 7, q);
    }));

// ------------------------------------------------------------------ a. what cannot be honoured
const SLOW_APP_SEED_3 = fragmentFor({ seed: 3, faults: [{ type: 'slow_app' }] });

test('a parameter that cannot be honoured is named in the link notice, in any order', { timeout: 120_000 }, async () => {
  const cases = [
    // The fragment's whole scenario wins over fault=; the reader is told. seed= still applies.
    { q: `?seed=7&fault=app_down${SLOW_APP_SEED_3}`, fault: 'slow_app', seed: '7', notice: /fault="app_down" was ignored/ },
    { q: `?fault=app_down&seed=7${SLOW_APP_SEED_3}`, fault: 'slow_app', seed: '7', notice: /fault="app_down" was ignored/ },
    // A key given twice with different values: the last one, and a word about it.
    { q: '?fault=app_down&seed=7&fault=slow_app', fault: 'slow_app', seed: '7', notice: /fault is given 2 times/ },
    { q: '?fault=slow_app&fault=app_down&seed=7', fault: 'app_down', seed: '7', notice: /fault is given 2 times/ },
    // Unknown values, as before: the rest of the link still applies.
    { q: '?seed=7&fault=gremlins', fault: 'none', seed: '7', notice: /gremlins/ },
    { q: '?flavor=traefik&fault=slow_app', fault: 'slow_app', seed: null, notice: /flavor="traefik"/ },
  ];
  for (const c of cases) {
    await at(c.q, async (page) => {
      await page.locator(notice).waitFor({ state: 'visible', timeout: TIMEOUT.action }).catch(() => {});
      const s = await fullPageState(page);
      assert.match(s.notice ?? '(no notice)', c.notice, `${c.q}: the link notice`);
      assert.match(s.notice, /Parts of this link were ignored/, `${c.q}: the rest of the link was opened`);
      assert.equal(s.fault, c.fault, `${c.q}: the fault picker`);
      if (c.seed) assert.equal(s.seed, c.seed, `${c.q}: the seed`);
    });
  }
});

// Not a parse question: on the full page a lesson starts from its own scenario (lessons.rs), so
// fault= (and flavor=, retry=, a fragment) next to lesson= cannot be honoured: the notice says so.
test('lesson= with fault= on the full page: the notice says the fault was ignored', { timeout: 60_000 }, () =>
  at('?fault=app_down&lesson=timeouts-504', async (page) => {
    const s = await fullPageState(page);
    assert.equal(s.lesson, 'timeouts-504');
    assert.ok(s.fault === 'app_down' || /fault="app_down"/.test(s.notice ?? ''), `fault ${s.fault}, notice ${s.notice}`);
  }));

// ------------------------------------------------------------------------- b. stale log panels
const errorPanelLines = '[data-testid=error-log] [data-testid=error-log-line]';
const accessPanelLines = '[data-testid=access-log] [data-testid=access-log-line]';

/** The logs are in the Logs tab: opens it (its panel stays mounted) and waits until its panels are in the page. */
async function waitForLogPanels(page) {
  await openTab(page, 'logs');
  await page.locator('[data-testid=error-log]').waitFor({ state: 'attached', timeout: TIMEOUT.mount });
  await page.locator('[data-testid=access-log]').waitFor({ state: 'attached', timeout: TIMEOUT.mount });
}

/** Waits (bounded) until the panel's lines satisfy `ok`; fails with what they show. */
async function waitForPanel(page, selector, ok, what, timeout = TIMEOUT.action) {
  const end = Date.now() + timeout;
  let lines;
  for (;;) {
    lines = await texts(page, selector);
    if (ok(lines)) return lines;
    if (Date.now() > end) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${what}; the panel shows ${JSON.stringify(lines, null, 1)}`);
}

test('stale panels: App down → Send, then a quiz question opened in the playground (504): the logs show the 504 run', { timeout: 90_000 }, () =>
  at('', async (page) => {
    await waitForLogPanels(page);
    await chooseFault(page, 'app_down');
    await sendRequest(page);
    await waitStatus(page, '502');
    await waitForPanel(page, errorPanelLines, (l) => l.length === 1 && ERROR_502.test(l[0]), 'the 502 run: one connect() failed line');
    await waitForPanel(page, accessPanelLines, (l) => l.length === 1 && accessLineRe(502).test(l[0]), 'the 502 run: one access line');

    // The quiz's slow-app question (its scenario logs one error.log line too: same line number).
    await openTab(page, 'quiz');
    await page.locator('[data-testid=quiz-question]').waitFor({ state: 'attached', timeout: TIMEOUT.mount });
    for (let i = 0; i < 20 && (await page.getAttribute('[data-testid=quiz-question]', 'data-question')) !== 'slow-app'; i++) {
      await page.click('[data-testid=quiz-next]');
    }
    assert.equal(await page.getAttribute('[data-testid=quiz-question]', 'data-question'), 'slow-app');
    await page.click('[data-testid=quiz-choice][data-status="504"]');
    await page.locator('[data-testid=quiz-reveal]').waitFor();
    await page.click('[data-testid=quiz-open]');
    await waitStatus(page, '504 Gateway Time-out');
    assert.equal(await page.inputValue(sel.fault), 'slow_app');

    await waitForPanel(page, errorPanelLines, (l) => l.length === 1 && ERROR_504.test(l[0]) && !l.some((x) => x.includes('Connection refused')),
      'error.log after opening the 504 case: one "upstream timed out" line and no "connect() failed (111: Connection refused)"');
    await waitForPanel(page, accessPanelLines, (l) => l.length === 1 && accessLineRe(504).test(l[0]),
      'access.log after opening the 504 case: one line with status 504 (not the earlier 502)');
  }));

test('stale panels: a ready scenario loaded after a run that logged as many error.log lines shows its own lines', { timeout: 90_000 }, () =>
  at('', async (page) => {
    await waitForLogPanels(page);
    // Both log one error.log line (and one access line) with the same status, 502: only the text differs.
    const dns = /\[error\] \d+#\d+: \*\d+ app\.internal could not be resolved \(3: Host not found\)/;
    const tls = /\[error\] \d+#\d+: \*\d+ upstream SSL certificate verify error: \(10:certificate has expired\) while SSL handshaking to upstream/;
    await openTab(page, 'build');
    await page.selectOption('[data-testid=scenario-select]', 'dns_failure');
    await waitStatus(page, '502');
    await waitForPanel(page, errorPanelLines, (l) => l.length === 1 && dns.test(l[0]), 'dns_failure: one "could not be resolved" line');
    await page.selectOption('[data-testid=scenario-select]', 'tls_cert_invalid');
    await waitForText(page, '[data-testid=scenario-description]', 'certificate');
    await waitStatus(page, '502');
    await waitForPanel(page, errorPanelLines, (l) => l.length === 1 && tls.test(l[0]) && !l.some((x) => x.includes('could not be resolved')),
      'error.log after loading tls_cert_invalid: its "certificate has expired" line, not dns_failure\'s');
    // The access line of the new run: https upstream, its own timestamp and byte count.
    const now = await texts(page, accessPanelLines);
    assert.equal(now.length, 1, JSON.stringify(now));
    assert.match(now[0], accessLineRe(502));
  }));
