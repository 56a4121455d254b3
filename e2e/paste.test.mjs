// "Paste a line from your logs" (issue 17 item 4, src/ui/paste.rs): a pasted line loads the run
// that reproduces it; the stage shows its status and log line (in the first screen), the report
// shows the pasted line beside the reproduced one; "not recognised" offers the nearest
// situations; `?paste=` opens the page on a diagnosis; the embed answers a `diagnose` message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { launch, newPage, appUrl, openAt, assertNoErrors, waitForText, sel, TIMEOUT } from './lib.mjs';

const require = createRequire(import.meta.url);
const AXE = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// Shaped like the corpus' php-fpm lines (crates/core/tests/data/diagnose-corpus.jsonl, e.g.
// TrafeX/docker-php-nginx#47), with Debian 12's socket path.
export const FPM = '2023/05/14 09:12:44 [crit] 1204#1204: *7 connect() to unix:/run/php/php8.2-fpm.sock failed (2: No such file or directory) while connecting to upstream, client: 203.0.113.9, server: example.org, request: "GET /index.php HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", host: "example.org"';
// The corpus' HAProxy SC-- line (infrarunbook.com, haproxy-503-service-unavailable-error).
export const SC = 'Apr 3 14:22:01 sw-infrarunbook-01 haproxy[2847]: 10.0.1.55:54321 [03/Apr/2026:14:22:01.042] web-frontend web-backend/- 0/-1/-1/-1/0 503 212 - - SC-- 3/3/0/0/0 0/0 "GET /api/status HTTP/1.1"';
const SSHD = 'Dec  6 05:12:01 web1 sshd[2211]: Accepted publickey for deploy from 192.0.2.44 port 50522 ssh2: ED25519 SHA256:Zm9vYmFy';

const DIAGNOSIS = 40_000; // the catalog's first build (~1 s in wasm, slower on a busy machine) and the run

/** Pastes `text` into the box and diagnoses it (the button, or Ctrl+Enter). */
export async function paste(page, text, { keys = false } = {}) {
  await page.locator('[data-testid=paste-text]').fill(text);
  if (keys) await page.locator('[data-testid=paste-text]').press('Control+Enter');
  else await page.click('[data-testid=paste-diagnose]');
}

async function auditPaste(page) {
  await page.addScriptTag({ content: AXE });
  const found = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  return found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** The element's box is wholly inside the viewport. */
async function inViewport(page, selector) {
  const b = await page.locator(selector).first().boundingBox();
  const v = page.viewportSize();
  return b && b.y >= 0 && b.y + b.height <= v.height && b.x >= 0 && b.x + b.width <= v.width ? true : JSON.stringify(b);
}

test('the php-fpm socket line: 502, the reproduced line beside the pasted one, cause, fix; status and log line in the first screen', { timeout: 90_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 1280, height: 800 } });
  try {
    await openAt(s.page, '');
    // Collapsed: one line. Focus expands it and starts preparing the catalog.
    const box = s.page.locator('[data-testid=paste-text]');
    assert.equal(await box.getAttribute('rows'), '1');
    assert.equal(await box.getAttribute('maxlength'), String(256 * 1024));
    await box.focus();
    assert.equal(await box.getAttribute('rows'), '4');
    await paste(s.page, FPM, { keys: true });
    await waitForText(s.page, sel.status, '502', DIAGNOSIS);
    await waitForText(s.page, '[data-testid=stage-log-line]', 'unix:/run/php/php8.2-fpm.sock', DIAGNOSIS);
    await waitForText(s.page, '[data-testid=paste-verdict]', 'Recognised', DIAGNOSIS);
    const reproduced = await s.page.locator('[data-testid=paste-reproduced]').first().textContent();
    assert.match(reproduced, /connect\(\) to unix:\/run\/php\/php8\.2-fpm\.sock failed \(2: No such file or directory\) while connecting to upstream/);
    assert.equal(await s.page.locator('[data-testid=paste-pasted]').first().textContent(), FPM);
    // Differences are marked (at least the times and pids differ).
    assert.ok((await s.page.locator('[data-testid=paste-pair] mark').count()) > 0, 'differences are marked');
    assert.ok((await s.page.locator('[data-testid=paste-cause]').textContent()).length > 10);
    assert.ok((await s.page.locator('[data-testid=paste-fix]').textContent()).length > 10);
    // The lesson on that situation is offered (lesson 2's "Show me" breaks the upstream with it).
    assert.match(await s.page.locator('[data-testid=paste-lesson]').textContent(), /missing socket/);
    // The paste box does not push the stage's answer below the fold.
    assert.equal(await inViewport(s.page, sel.status), true, 'status in the viewport');
    assert.equal(await inViewport(s.page, '[data-testid=stage-log-line]'), true, 'log line in the viewport');
    // The address carries the reproduction (a new history entry).
    assert.match(s.page.url(), /#s=1\./);
    const serious = await auditPaste(s.page);
    assert.deepEqual(serious, [], JSON.stringify(serious, null, 1));
    // Another run (Reset) retires the report: it spoke of the run the diagnosis loaded.
    await s.page.click('[data-testid=reset]');
    await s.page.locator('[data-testid=paste-report]').waitFor({ state: 'detached', timeout: TIMEOUT.action });
    assert.equal(await s.page.locator('[data-testid=paste-verdict]').count(), 0);
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('an HAProxy SC-- line: 503 under HAProxy', { timeout: 90_000 }, async () => {
  const s = await newPage(browser);
  try {
    await openAt(s.page, '');
    await paste(s.page, SC);
    await waitForText(s.page, sel.status, '503', DIAGNOSIS);
    await waitForText(s.page, '[data-testid=footer-proxy]', 'HAProxy', DIAGNOSIS);
    await waitForText(s.page, '[data-testid=paste-reproduced]', 'SC--', DIAGNOSIS);
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('at 360 px: no sideways scroll, the lines whole, the cause and fix as wide as the report', { timeout: 120_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 360, height: 740 } });
  const measure = () => s.page.evaluate(() => {
    const list = document.querySelector('.paste-why').getBoundingClientRect();
    // How far right of the list each cause/fix/alternatives text starts (0 when stacked under its label).
    const indents = [...document.querySelectorAll('.paste-why dd')].map((dd) => Math.round(dd.getBoundingClientRect().left - list.left));
    const lines = [...document.querySelectorAll('[data-testid=paste-pair] .paste-line')].map((el) => el.scrollHeight - el.clientHeight);
    return { sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth, list: Math.round(list.width), indents, hidden: Math.max(...lines) };
  });
  try {
    await openAt(s.page, '');
    // HAProxy's report lists other causes: a label column as wide as "Also writes these lines"
    // once left the cause and fix a sliver.
    await paste(s.page, SC);
    await waitForText(s.page, '[data-testid=paste-reproduced]', 'SC--', DIAGNOSIS);
    let m = await measure();
    assert.ok(m.sw <= m.cw, `scrolls sideways: ${JSON.stringify(m)}`);
    assert.ok(m.indents.length >= 3 && m.indents.every((x) => x <= 1), `the cause and fix sit beside a label column: ${JSON.stringify(m)}`);
    // The php-fpm line wraps to about ten lines at this width: none of it is hidden.
    await paste(s.page, FPM);
    await waitForText(s.page, '[data-testid=paste-reproduced]', 'php8.2-fpm.sock', DIAGNOSIS);
    m = await measure();
    assert.ok(m.sw <= m.cw, `scrolls sideways: ${JSON.stringify(m)}`);
    assert.ok(m.hidden <= 1, `a pasted or reproduced line is cut: ${JSON.stringify(m)}`);
    // The answer to the paste comes first on a phone: its status and whole log line in the first screen.
    await s.page.evaluate(() => window.scrollTo(0, 0));
    assert.equal(await inViewport(s.page, sel.status), true, 'status in the first screen at 360 px');
    assert.equal(await inViewport(s.page, '[data-testid=stage-log-line]'), true, 'log line in the first screen at 360 px');
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('a line from unrelated software: not recognised, the nearest situations load; binary input gets the engine\'s message', { timeout: 90_000 }, async () => {
  const s = await newPage(browser);
  try {
    await openAt(s.page, '?fault=app_down');
    await waitForText(s.page, sel.status, '502');
    assert.equal(await s.page.locator('[data-testid=stage-stale]').count(), 0);
    await paste(s.page, SSHD);
    await waitForText(s.page, '[data-testid=paste-not-recognised]', 'Not recognised', DIAGNOSIS);
    assert.equal(await s.page.locator('[data-testid=paste-report]').count(), 0, 'no reproduction shown');
    // The stage still shows the run from before the paste (app_down's 502), and says so.
    await waitForText(s.page, '[data-testid=stage-stale]', 'Not from your paste', TIMEOUT.action);
    assert.equal(await inViewport(s.page, '[data-testid=stage-stale]'), true, 'the note is in the first screen');
    // A request sent now is the user's: the note goes.
    await s.page.click(sel.send);
    await s.page.locator('[data-testid=stage-stale]').waitFor({ state: 'detached', timeout: TIMEOUT.action });
    await paste(s.page, SSHD + ' ');
    await s.page.locator('[data-testid=stage-stale]').waitFor({ state: 'visible', timeout: DIAGNOSIS });
    const candidates = s.page.locator('[data-testid=paste-candidate]');
    assert.ok((await candidates.count()) >= 1, 'nearest candidates offered');
    // Loading one is a new history entry with its scenario in the address.
    const before = s.page.url();
    const last = candidates.last();
    await last.click();
    assert.equal(await last.getAttribute('aria-pressed'), 'true');
    assert.equal(await s.page.locator('[data-testid=stage-stale]').count(), 0, 'a loaded candidate is what the stage shows');
    assert.notEqual(s.page.url(), before, 'the candidate was loaded');
    assert.match(s.page.url(), /#s=1\./);
    const serious = await auditPaste(s.page);
    assert.deepEqual(serious, [], JSON.stringify(serious, null, 1));
    // At 360 px the note comes right under the verdict, in the first screen.
    await s.page.setViewportSize({ width: 360, height: 740 });
    await paste(s.page, SSHD);
    await s.page.locator('[data-testid=stage-stale]').waitFor({ state: 'visible', timeout: DIAGNOSIS });
    await s.page.evaluate(() => window.scrollTo(0, 0));
    assert.equal(await inViewport(s.page, '[data-testid=stage-stale]'), true, 'the note is in the first screen at 360 px');
    await s.page.setViewportSize({ width: 1280, height: 800 });
    // Binary: the engine's own message, at once.
    await paste(s.page, '\u0000\u0001\u0002PK\u0003\u0004\u0000\u0000binary');
    await waitForText(s.page, '[data-testid=paste-unusable]', 'binary', DIAGNOSIS);
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

// The diagnosis is the wasm chunk `diagnose` (src/ui/lazy.rs, issue 20): not fetched before the page
// is interactive, fetched on focus or a submitted paste with "Loading the log reader…" meanwhile; a
// chunk that cannot be downloaded says so with "Try again", which then diagnoses the waiting paste.
test('the log reader is a chunk fetched on focus: its loading state, a failed download with "Try again"', { timeout: 120_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 1280, height: 800 } });
  const { page } = s;
  try {
    const fetched = [];
    page.on('request', (r) => { if (r.url().endsWith('.wasm')) fetched.push(new URL(r.url()).pathname.split('/').pop()); });
    let refused = 0;
    await page.route('**/split_diagnose-*.wasm', (route) => { refused += 1; return route.abort('connectionreset'); });
    await openAt(page, '');
    await page.locator(sel.send).waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    // The pointer over the box does not fetch it either (only focus or a paste does).
    await page.locator('[data-testid=paste-text]').hover();
    await page.waitForTimeout(500);
    assert.equal(fetched.filter((f) => f.startsWith('split_diagnose')).length, 0, `not fetched before focus (fetched: ${fetched.join(', ')})`);
    await paste(page, FPM);
    const failed = page.locator('[data-testid=paste-failed]');
    await failed.waitFor({ state: 'visible', timeout: TIMEOUT.result });
    assert.ok(refused >= 1, 'the chunk was requested');
    assert.equal(await failed.getAttribute('role'), 'alert');
    assert.match(await failed.innerText(), /Could not load the log reader: its part of the simulator did not download\. Check the connection and try again\./);
    assert.equal(await page.locator('[data-testid=paste-diagnose]').isDisabled(), false, 'Diagnose is not stuck');
    // The rest of the page works.
    await page.click(sel.send);
    await page.locator(sel.status).waitFor({ state: 'visible', timeout: TIMEOUT.result });

    // Try again, the chunk held until "Loading the log reader…" has been seen.
    await page.unroute('**/split_diagnose-*.wasm');
    let release;
    const held = new Promise((r) => { release = r; });
    await page.route('**/split_diagnose-*.wasm', async (route) => { await held; await route.continue(); });
    await failed.getByRole('button', { name: 'Try again' }).click();
    await waitForText(page, '[data-testid=paste-status]', 'Loading the log reader…', TIMEOUT.action);
    assert.equal(await failed.count(), 0);
    release();
    await waitForText(page, sel.status, '502', DIAGNOSIS);
    await waitForText(page, '[data-testid=paste-verdict]', 'Recognised', DIAGNOSIS);
    assert.match(await page.locator('[data-testid=paste-reproduced]').first().textContent(), /unix:\/run\/php\/php8\.2-fpm\.sock/);
    for (const e of s.consoleErrors) assert.match(e, /split_diagnose|Failed to fetch|ERR_CONNECTION_RESET|TypeError/, `unexpected console error: ${e}`);
    assert.deepEqual(s.pageErrors, []);
  } finally {
    await s.close();
  }
});

test('?paste= opens the page on a diagnosis; a damaged one is a notice', { timeout: 90_000 }, async () => {
  const s = await newPage(browser);
  try {
    await openAt(s.page, `?paste=${encodeURIComponent(FPM)}`);
    await waitForText(s.page, sel.status, '502', DIAGNOSIS);
    await waitForText(s.page, '[data-testid=stage-log-line]', 'unix:/run/php/php8.2-fpm.sock', DIAGNOSIS);
    assert.equal(await s.page.locator('[data-testid=paste-text]').inputValue(), FPM);
    await openAt(s.page, '?paste=%E2%82');
    await waitForText(s.page, '[data-testid=link-notice]', 'paste=', TIMEOUT.action);
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('the embed answers a diagnose message with a diagnosis, and an odd one with an error', { timeout: 90_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 1280, height: 900 } });
  try {
    await s.page.goto(new URL('embed-demo.html', await appUrl()).href, { waitUntil: 'load', timeout: TIMEOUT.navigation });
    await s.page.locator('#lab-driven').scrollIntoViewIfNeeded();
    const frame = s.page.frameLocator('#lab-driven');
    await frame.locator('[data-testid=embed]').waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    // Replies from the driven frame, straight from the window's message events.
    await s.page.evaluate(() => {
      window.__replies = [];
      window.addEventListener('message', (e) => {
        if (e.source === document.querySelector('#lab-driven').contentWindow && e.data?.gatewayLab === 1) window.__replies.push(e.data);
      });
    });
    const ask = async (message) => {
      await s.page.evaluate((m) => document.querySelector('#lab-driven').contentWindow.postMessage({ gatewayLab: 1, ...m }, location.origin), message);
      await s.page.waitForFunction((id) => window.__replies.some((r) => r.id === id && r.type !== 'ack'), message.id, { timeout: DIAGNOSIS, polling: 100 });
      return s.page.evaluate((id) => window.__replies.find((r) => r.id === id && r.type !== 'ack'), message.id);
    };
    // The first diagnose waits for the log reader's chunk (src/ui/lazy.rs): a message sent right
    // after it is carried out after its answer, in order, as when the diagnosis ran at once.
    await s.page.evaluate((text) => {
      const w = document.querySelector('#lab-driven').contentWindow;
      w.postMessage({ gatewayLab: 1, type: 'diagnose', text, id: 'o1' }, location.origin);
      w.postMessage({ gatewayLab: 1, type: 'fix', id: 'o2' }, location.origin);
    }, FPM);
    await s.page.waitForFunction(() => ['o1', 'o2'].every((id) => window.__replies.some((r) => r.id === id)), null, { timeout: DIAGNOSIS, polling: 100 });
    const order = await s.page.evaluate(() => window.__replies.filter((r) => r.id === 'o1' || r.id === 'o2').map((r) => `${r.id}:${r.type}`));
    assert.deepEqual(order, ['o1:diagnosis', 'o2:ack'], 'the fix is carried out after the diagnosis');
    const fixed = await s.page.evaluate(() => window.__replies.find((r) => r.id === 'o2'));
    // Fixed, in the diagnosed scenario (not the one from before it).
    assert.equal(fixed.scenario.fault, 'none', JSON.stringify(fixed));
    assert.match(fixed.scenario.title, /^Diagnosed: /, JSON.stringify(fixed));
    const d = await ask({ type: 'diagnose', text: FPM, id: 'd1' });
    assert.equal(d.type, 'diagnosis', JSON.stringify(d));
    assert.equal(d.recognised, true, JSON.stringify(d));
    assert.equal(d.flavor, 'nginx');
    assert.equal(d.placed, 1);
    assert.equal(d.unplaced, 0);
    assert.ok(d.fault, JSON.stringify(d));
    assert.match(d.reproduced, /unix:\/run\/php\/php8\.2-fpm\.sock/);
    const h = await ask({ type: 'diagnose', text: SC, id: 'd2' });
    assert.equal(h.recognised, true, JSON.stringify(h));
    assert.equal(h.flavor, 'haproxy', JSON.stringify(h));
    const no = await ask({ type: 'diagnose', text: SSHD, id: 'd3' });
    assert.equal(no.type, 'diagnosis');
    assert.equal(no.recognised, false);
    assert.ok(no.nearest.length >= 1 && /not recognised/.test(no.message), JSON.stringify(no));
    for (const [i, odd] of [{ type: 'diagnose' }, { type: 'diagnose', text: 7 }, { type: 'diagnose', text: '   ' }].entries()) {
      const e = await ask({ ...odd, id: `odd${i}` });
      assert.equal(e.type, 'error', JSON.stringify(e));
      assert.match(e.message, /^text: /);
    }
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});
