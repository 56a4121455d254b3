// The per-proxy comparison (issue 19 item 3): one break through every flavor, a card each, with
// the status the client got, the proxy's tries at the app, how long the client waited, the
// flavor's key log line exactly as the engine writes it, and the version; "not modelled: …" where
// a flavor refuses the scenario. The engine computes it (gateway_core::compare); these tests check
// what the page shows against the statuses the real proxies answered (FIDELITY.md) and against the
// stage, which runs the same engine through the stage's own path (the same line, byte for byte).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, appUrl, assertNoErrors, openTab, sendRequest, waitForText, waitForCount, screenshot, sel, TIMEOUT,
} from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** The app down, as the real servers answered it in the fidelity harness (docs/FIDELITY.md). */
const APP_DOWN = { nginx: 502, haproxy: 503, apache: 503, caddy: 502, varnish: 503 };
const FLAVORS = Object.keys(APP_DOWN);

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

/** Every card as { flavor, status, headline, line, tries, waited, version, refusal }. */
async function cards(page) {
  await waitForCount(page, '[data-testid=proxy-card]', FLAVORS.length);
  return page.$$eval('[data-testid=proxy-card]', (els) => els.map((el) => {
    const t = (s) => el.querySelector(`[data-testid=${s}]`)?.textContent ?? null;
    const status = el.querySelector('[data-testid=proxy-status]');
    return {
      flavor: el.dataset.flavor,
      status: status?.dataset.status ? Number(status.dataset.status) : null,
      headline: status?.textContent ?? null,
      line: t('proxy-line'),
      tries: t('proxy-tries'),
      waited: t('proxy-waited'),
      version: t('proxy-version'),
      refusal: t('proxy-refusal'),
    };
  }));
}

async function chooseBreak(page, id) {
  const chosen = await page.selectOption('[data-testid=proxies-break]', id);
  assert.deepEqual(chosen, [id]);
}

const byFlavor = (cs) => Object.fromEntries(cs.map((c) => [c.flavor, c]));

test('app down through every proxy: each flavor\'s status, its own line, its tries and its version', { timeout: 90_000 }, () =>
  at('?view=compare', async (page) => {
    await openTab(page, 'compare');
    const cs = byFlavor(await cards(page));
    // At least the five verified flavors, in Flavor::ALL's order first.
    const order = (await cards(page)).map((c) => c.flavor);
    assert.deepEqual(order.slice(0, 5), FLAVORS);
    for (const [flavor, status] of Object.entries(APP_DOWN)) {
      assert.equal(cs[flavor].status, status, `${flavor}: ${JSON.stringify(cs[flavor])}`);
      assert.match(cs[flavor].version, /^\d+\.\d+(\.\d+)?$/, `${flavor}'s version`);
    }
    // Each line in its proxy's own format.
    assert.match(cs.nginx.line, /\[error\] \d+#\d+: \*\d+ connect\(\) failed \(111: Connection refused\) while connecting to upstream/);
    assert.match(cs.haproxy.line, / 503 \d+ - - SC-- /);
    assert.match(cs.apache.line, /\(111\)Connection refused: AH00957: /);
    assert.equal(JSON.parse(cs.caddy.line).msg, 'dial tcp 127.0.0.1:3000: connect: connection refused');
    assert.match(cs.varnish.line, /FetchError\s+backend default: fail errno 111 \(Connection refused\)/);
    // HAProxy retries a refused connection 3 times (retries 3), the others try once.
    assert.match(cs.haproxy.tries, /^4 attempts, 4 new connections/);
    assert.match(cs.nginx.tries, /^1 attempt, 1 new connection/);
    assert.equal(cs.haproxy.waited, '3.0 s', 'three 1 s turn-arounds');
    // HAProxy's termination state in words, under its line.
    assert.match(await page.locator('[data-flavor=haproxy] [data-testid=proxy-termination]').textContent(), /^SC--: /);
    // The screen reader's one sentence.
    const summary = await page.locator('[data-testid=proxies-summary]').textContent();
    assert.match(summary, /^App down \(connection refused\): nginx 502 Bad Gateway; HAProxy 503 Service Unavailable; Apache 503 Service Unavailable; Caddy 502 Bad Gateway; Varnish 503 Backend fetch failed/);
  }));

test('the card\'s line is a line the stage\'s run of the same break wrote, byte for byte', { timeout: 120_000 }, async () => {
  // ?fault=app_down runs the ready scenario's own first request at time 0, as the card's run
  // sends its one request: the same request number, connection, client port and timestamps.
  for (const flavor of FLAVORS) {
    await at(`?fault=app_down&flavor=${flavor}`, async (page) => {
      await sendRequest(page);
      await waitForText(page, sel.status, String(APP_DOWN[flavor]));
      await openTab(page, 'logs');
      const written = [
        ...await page.locator('[data-testid=error-log-line]').allTextContents(),
        ...await page.locator('[data-testid=access-log-line]').allTextContents(),
      ];
      await openTab(page, 'compare');
      const card = byFlavor(await cards(page))[flavor];
      assert.equal(card.status, APP_DOWN[flavor]);
      assert.ok(written.includes(card.line), `${flavor}: the card's line ${JSON.stringify(card.line)} is not among the run's lines:\n${written.join('\n')}`);
    });
  }
});

test('the break picker: slow app, dies mid-response (Varnish: not modelled), maintenance, the stage\'s own break', { timeout: 90_000 }, () =>
  at('?fault=app_down', async (page) => {
    await openTab(page, 'compare');
    await cards(page);
    // Keyboard: the select takes focus and an arrow key changes the break.
    await page.locator('[data-testid=proxies-break]').focus();
    await page.keyboard.press('ArrowDown');
    await waitForText(page, '[data-testid=proxies-summary]', 'App slower than the timeouts');
    let cs = byFlavor(await cards(page));
    assert.equal(cs.nginx.status, 504);
    assert.equal(cs.nginx.waited, '60.0 s');
    assert.equal(cs.haproxy.status, 504);
    assert.equal(cs.apache.status, 502, 'Apache answers a backend slower than ProxyTimeout with 502 Proxy Error');
    assert.equal(cs.caddy.status, 200, 'Caddy has no response timeout by default: it waits');
    assert.equal(cs.caddy.waited, '90.0 s');
    assert.equal(cs.varnish.status, 503);
    assert.match(cs.varnish.line, /FetchError\s+first byte timeout/);

    await chooseBreak(page, 'app_resets');
    await waitForText(page, '[data-testid=proxies-summary]', 'App dies mid-response');
    cs = byFlavor(await cards(page));
    assert.match(cs.nginx.headline, /body cut short/);
    assert.match(cs.nginx.line, /upstream prematurely closed connection while reading upstream/);
    assert.equal(cs.varnish.status, null);
    assert.match(cs.varnish.refusal, /^not modelled: what Varnish 7\.1 does for dies_after_headers was not measured/);

    await chooseBreak(page, 'maintenance');
    await waitForText(page, '[data-testid=proxies-summary]', 'Maintenance 503');
    cs = byFlavor(await cards(page));
    for (const f of FLAVORS) assert.equal(cs[f].status, 503, f);

    // The stage's break (app down, from the address) is offered by its title.
    const stageOption = await page.locator('[data-testid=proxies-break] option[value=stage]').textContent();
    assert.equal(stageOption, 'On the stage: App process not running');
    await chooseBreak(page, 'stage');
    cs = byFlavor(await cards(page));
    for (const [f, status] of Object.entries(APP_DOWN)) assert.equal(cs[f].status, status, f);
  }));

test('a flavor that refuses the scenario says why: a WebSocket client under Apache, Caddy and Varnish', { timeout: 60_000 }, () =>
  at('?fault=websocket_upgrade', async (page) => {
    await openTab(page, 'compare');
    await chooseBreak(page, 'stage');
    const cs = byFlavor(await cards(page));
    for (const f of ['apache', 'caddy', 'varnish']) {
      assert.match(cs[f].refusal ?? '', /^not modelled: .*WebSocket/, `${f}: ${JSON.stringify(cs[f])}`);
      assert.equal(cs[f].status, null);
    }
    assert.notEqual(cs.nginx.status, null);
  }));

test('layout: a grid of cards at 1280 and 1920, a stack at 360; the line right under the status', { timeout: 90_000 }, async () => {
  for (const [width, height, columns] of [[1280, 800, 3], [1920, 1080, 3], [360, 740, 1]]) {
    await at('?view=compare', async (page) => {
      await openTab(page, 'compare');
      await cards(page);
      const boxes = await page.$$eval('[data-testid=proxy-card]', (els) => els.map((el) => {
        const r = el.getBoundingClientRect();
        const s = el.querySelector('[data-testid=proxy-status]').getBoundingClientRect();
        const l = el.querySelector('[data-testid=proxy-line]').getBoundingClientRect();
        return { left: r.left, top: r.top, right: r.right, bottom: r.bottom, statusBottom: s.bottom, statusSize: parseFloat(getComputedStyle(el.querySelector('[data-testid=proxy-status]')).fontSize), lineTop: l.top };
      }));
      const firstRow = boxes.filter((b) => Math.abs(b.top - boxes[0].top) < 1).length;
      assert.equal(firstRow, columns, `${width} px: ${firstRow} cards in the first row`);
      for (const b of boxes) {
        assert.ok(b.lineTop - b.statusBottom < 40, `${width} px: the line starts ${b.lineTop - b.statusBottom} px under the status`);
        assert.ok(b.statusSize >= 20, `${width} px: the status is big (${b.statusSize} px)`);
        assert.ok(b.right <= width, `${width} px: a card reaches ${b.right}`);
      }
      const pick = await page.locator('[data-testid=proxies-break]').boundingBox();
      assert.ok(pick.x >= 0 && pick.x + pick.width <= width, `${width} px: the break picker spans ${pick.x}..${pick.x + pick.width}`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${width} px: the page scrolls sideways by ${overflow} px`);
      // The whole set of cards fits in a few screens, not thousands of pixels.
      const span = Math.max(...boxes.map((b) => b.bottom)) - Math.min(...boxes.map((b) => b.top));
      assert.ok(span < (columns === 1 ? 3_000 : 1_200), `${width} px: the cards span ${span} px`);
      await page.locator('[data-testid=compare-proxies]').scrollIntoViewIfNeeded();
      await screenshot(page, `compare-proxies-${width}`);
    }, { viewport: { width, height } });
  }
});
