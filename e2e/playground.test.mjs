// Every catalog fault through the UI: break it, see the status and the log line,
// apply the engine's fix, see the next request succeed. Plus the proxy panel.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, openApp, assertNoErrors, withApp, setInput, chooseFault, sendRequest,
  count, texts, waitForText, waitForCount, sel, openTab, openTabs,
} from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// fault → [status text shown, error.log substring or null]. null status: the fault needs
// load or timing a single click does not create (checked natively in tests/faults.rs).
const CATALOG = {
  app_down: ['502 Bad Gateway', 'connect() failed (111: Connection refused) while connecting to upstream'],
  wrong_port: ['502 Bad Gateway', 'connect() failed (111: Connection refused)'],
  unix_socket_missing: ['502 Bad Gateway', '[crit]'],
  unix_socket_permission: ['502 Bad Gateway', '(13: Permission denied) while connecting to upstream'],
  crash_mid_request: ['502 Bad Gateway', 'upstream prematurely closed connection while reading response header from upstream'],
  oom_kill: ['502 Bad Gateway', 'upstream prematurely closed connection'],
  slow_app: ['504 Gateway Time-out', 'upstream timed out (110: Connection timed out) while reading response header from upstream'],
  connect_black_hole: ['504 Gateway Time-out', 'upstream timed out (110: Connection timed out) while connecting to upstream'],
  overload: null,
  maintenance: ['503 Service Unavailable', null],
  invalid_header: ['502 Bad Gateway', 'upstream sent invalid header: "Bad\\x20..."'],
  not_http: ['No status line (HTTP/0.9 bytes)', 'upstream sent no valid HTTP/1.0 header'],
  oversized_header: ['502 Bad Gateway', 'upstream sent too big header while reading response header from upstream'],
  dies_after_headers: ['200 OK', 'upstream prematurely closed connection while reading upstream'],
  keepalive_mismatch: null,
  rolling_deploy: ['502 Bad Gateway', 'connect() failed (111: Connection refused)'],
  dns_failure: ['No response: could not connect', null],
  // proxy_ssl_verify is off by default: an invalid certificate passes (its own test below).
  tls_cert_invalid: null,
  tls_handshake_failure: ['502 Bad Gateway', 'SSL_do_handshake() failed'],
  db_pool_exhausted: ['504 Gateway Time-out', 'upstream timed out'],
  rate_limited: null,
  plain_http_to_tls: ['502 Bad Gateway', 'upstream prematurely closed connection while reading response header from upstream'],
  invalid_chunked: ['No response: empty reply', 'upstream sent invalid chunked response while reading upstream'],
  selinux_connect_denied: ['502 Bad Gateway', 'failed (13: Permission denied) while connecting to upstream'],
  sni_required: ['502 Bad Gateway', 'SSL alert number 40) while SSL handshaking to upstream'],
};

test('the fault palette offers the whole catalog', { timeout: 60_000 }, () =>
  withApp(browser, async (page) => {
    const values = await page.$$eval(`${sel.fault} option`, (os) => os.map((o) => o.value));
    assert.deepEqual(values.filter((v) => v !== 'none').sort(), Object.keys(CATALOG).sort());
  }));

for (const [fault, expected] of Object.entries(CATALOG)) {
  if (!expected) continue;
  const [status, errorText] = expected;
  test(`${fault}: ${status}${errorText ? `, "${errorText}"` : ''}; the fix brings back 200`, { timeout: 60_000 }, () =>
    withApp(browser, async (page) => {
      await openTab(page, 'logs');
      await chooseFault(page, fault);
      const errorsBefore = await count(page, sel.errorLine);
      await sendRequest(page);
      await waitForText(page, sel.status, status);
      if (errorText) {
        await waitForCount(page, sel.errorLine, errorsBefore + 1);
        const lines = (await texts(page, sel.errorLine)).slice(errorsBefore);
        assert.ok(lines.some((l) => l.includes(errorText)), `error.log should contain "${errorText}", got ${JSON.stringify(lines)}`);
      } else {
        assert.equal(await count(page, sel.errorLine), errorsBefore, 'no error.log line expected');
      }
      if (fault === 'dies_after_headers') {
        await waitForText(page, '[data-testid=client-console]', 'curl: (18)');
      }
      // The engine's fix, then one more request.
      await page.click('[data-testid=apply-fix]', { timeout: 5_000 });
      const accessBefore = await count(page, sel.accessLine);
      await sendRequest(page);
      await waitForCount(page, sel.accessLine, accessBefore + 1);
      await waitForText(page, sel.status, '200 OK');
      const console = await page.locator('[data-testid=client-console]').textContent();
      assert.ok(!console.includes('curl: ('), `after the fix the client should be happy: ${console}`);
    }));
}

test('tls_cert_invalid: 200 while proxy_ssl_verify is off (the default) and the why says so; turned on, 502 with the verify error; the fix brings back 200', { timeout: 60_000 }, () =>
  withApp(browser, async (page) => {
    await openTab(page, 'logs');
    await chooseFault(page, 'tls_cert_invalid');
    await sendRequest(page);
    await waitForText(page, sel.status, '200 OK');
    await waitForText(page, '[data-testid=explanation]', 'proxy_ssl_verify is off');
    await openTab(page, 'config');
    await page.check('[data-testid=ssl-verify]');
    await waitForText(page, '[data-testid=config-preview]', 'proxy_ssl_verify on;');
    const errorsBefore = await count(page, sel.errorLine);
    await sendRequest(page);
    await waitForText(page, sel.status, '502 Bad Gateway');
    await waitForCount(page, sel.errorLine, errorsBefore + 1);
    const lines = (await texts(page, sel.errorLine)).slice(errorsBefore);
    assert.ok(lines.some((l) => l.includes('upstream SSL certificate verify error: (10:certificate has expired) while SSL handshaking to upstream')), JSON.stringify(lines));
    await page.click('[data-testid=apply-fix]', { timeout: 5_000 });
    await sendRequest(page);
    await waitForText(page, sel.status, '200 OK');
  }));

test('the config preview follows the directive controls and the flavor', { timeout: 60_000 }, () =>
  withApp(browser, async (page) => {
    await openTabs(page, 'logs', 'config');
    const preview = page.locator('[data-testid=config-preview]');
    assert.ok((await preview.textContent()).includes('proxy_pass http://app;'));
    assert.ok(!(await preview.textContent()).includes('proxy_read_timeout'), 'the default 60s is not written');
    await page.fill('[data-testid=read-timeout]', '95');
    await page.press('[data-testid=read-timeout]', 'Enter');
    await page.locator('[data-testid=read-timeout]').blur();
    await waitForText(page, '[data-testid=config-preview]', 'proxy_read_timeout 95s;');
    await chooseFault(page, 'wrong_port');
    await waitForText(page, '[data-testid=config-preview]', 'server 127.0.0.1:3001;');
    await page.selectOption('[data-testid=flavor-select]', 'haproxy');
    await waitForText(page, '[data-testid=config-preview]', 'backend be_app');
    // HAProxy has its own directive for the same wait.
    await setInput(page, 'read-timeout', '95');
    await waitForText(page, '[data-testid=config-preview]', 'timeout server 95000ms');
    // The same breakage through HAProxy: 503 after its retries, not 502.
    await sendRequest(page);
    await waitForText(page, sel.status, '503 Service Unavailable');
    await waitForText(page, '[data-testid=access-log]', 'SC--');
  }));

test('502 vs 503 vs 504: the same request through three breakages', { timeout: 60_000 }, () =>
  withApp(browser, async (page) => {
    await openTab(page, 'compare');
    await page.click('[data-testid=compare-run]');
    await waitForCount(page, '[data-testid=compare-col]', 3);
    const cols = await texts(page, '[data-testid=compare-col]');
    assert.ok(cols[0].includes('502 Bad Gateway') && cols[0].includes('connect() failed (111: Connection refused)'), cols[0]);
    assert.ok(cols[1].includes('503 Service Unavailable') && cols[1].includes('" 503 '), cols[1]);
    assert.ok(cols[2].includes('504 Gateway Time-out') && cols[2].includes('upstream timed out (110: Connection timed out)'), cols[2]);
  }));

test('logs filter and download what they show', { timeout: 60_000 }, () =>
  withApp(browser, async (page) => {
    await openTab(page, 'logs');
    await chooseFault(page, 'app_down');
    await sendRequest(page);
    await chooseFault(page, 'slow_app');
    await sendRequest(page);
    await waitForCount(page, sel.errorLine, 2);
    await page.fill('[data-testid=error-log-filter]', 'timed out');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=error-log-line]').length === 1, null, { timeout: 5_000 });
    assert.ok((await texts(page, sel.errorLine))[0].includes('upstream timed out'));
    const href = await page.getAttribute('[data-testid=error-log-download]', 'href');
    const body = decodeURIComponent(href.replace(/^data:text\/plain;charset=utf-8,/, ''));
    assert.ok(body.includes('upstream timed out') && !body.includes('Connection refused'), body);
    assert.equal(await page.getAttribute('[data-testid=error-log-download]', 'download'), 'error.log');
  }));

test('time controls: slow motion, pause, step one event, play, reset', { timeout: 60_000 }, () =>
  withApp(browser, async (page) => {
    await openTabs(page, 'logs', 'timeline');
    await chooseFault(page, 'slow_app');
    await page.selectOption('[data-testid=speed]', '0'); // slow motion: 0.01×
    await sendRequest(page);
    await waitForText(page, '[data-testid=pending]', '1 request in flight');
    assert.equal(await page.getAttribute('[data-testid=play-pause]', 'aria-pressed'), 'true', 'sending starts the clock');
    await page.click('[data-testid=play-pause]');
    assert.equal(await page.getAttribute('[data-testid=play-pause]', 'aria-pressed'), 'false');
    // Paused: nothing moves on its own.
    const steps0 = await count(page, '[data-testid=timeline] li');
    await page.waitForTimeout(300);
    assert.equal(await count(page, '[data-testid=timeline] li'), steps0, 'paused means paused');
    // Step: one event at a time, straight to the 60 s read timeout: 504.
    let steps = steps0;
    for (let i = 0; i < 20 && !(await page.locator(sel.status).textContent()).includes('504'); i++) {
      await page.click('[data-testid=step]');
      const now = await count(page, '[data-testid=timeline] li');
      assert.ok(now - steps <= 2, `one event adds at most two timeline steps (${steps} → ${now})`);
      steps = now;
    }
    await waitForText(page, sel.status, '504 Gateway Time-out');
    await waitForCount(page, sel.errorLine, 1);
    // Play again at 100×: the virtual clock moves.
    await page.selectOption('[data-testid=speed]', '4');
    const before = await page.locator('[data-testid=clock]').textContent();
    await page.click('[data-testid=play-pause]');
    await page.waitForFunction((b) => document.querySelector('[data-testid=clock]').textContent !== b, before, { timeout: 5_000 });
    // Reset: a fresh run, same configuration.
    await page.click('[data-testid=reset]');
    await waitForText(page, '[data-testid=clock]', '+0.000000s');
    assert.equal(await count(page, sel.errorLine), 0, 'reset clears the logs');
  }));

test('a click on a past request shows its response and timeline', { timeout: 60_000 }, () =>
  withApp(browser, async (page) => {
    await openTab(page, 'timeline');
    await chooseFault(page, 'app_down');
    await sendRequest(page);
    await waitForText(page, sel.status, '502 Bad Gateway');
    await chooseFault(page, 'none');
    await sendRequest(page);
    await waitForText(page, sel.status, '200 OK');
    const chips = await texts(page, '[data-testid=request-chip]');
    assert.deepEqual(chips, ['#1 502', '#2 200']);
    await page.locator('[data-testid=request-chip]').first().click();
    await waitForText(page, sel.status, '502 Bad Gateway');
    await waitForText(page, '[data-testid=timeline]', 'connect() failed (111: Connection refused)');
    assert.equal(await page.locator('[data-testid=request-chip]').first().getAttribute('aria-pressed'), 'true');
    // Sending again follows the newest request.
    await sendRequest(page);
    await waitForText(page, sel.status, '200 OK');
  }));

test('theme picker switches light and dark regardless of the system setting', { timeout: 60_000 }, async () => {
  const context = await browser.newContext({ colorScheme: 'light' });
  const page = await context.newPage();
  try {
    await openApp(page);
    const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const light = await bg();
    await page.selectOption('[data-testid=theme]', 'dark');
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    assert.notEqual(await bg(), light, 'dark changes the background');
    await page.selectOption('[data-testid=theme]', 'system');
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), undefined);
    assert.equal(await bg(), light);
  } finally { await context.close(); }
});

test('topology: upstream servers with their state, requests in flight clickable', { timeout: 60_000 }, () =>
  withApp(browser, async (page) => {
    await chooseFault(page, 'rolling_deploy');
    await sendRequest(page);
    await waitForText(page, '[data-testid=upstream-state]', 'restarting');
    await page.click('[data-testid=apply-fix]');
    // The fix adds a second instance: two upstream boxes now.
    await waitForCount(page, '[data-testid^=box-upstream]', 2);
    await chooseFault(page, 'slow_app');
    await page.selectOption('[data-testid=speed]', '0'); // slow motion
    await sendRequest(page);
    await waitForCount(page, '[data-testid=inflight]', 1);
    await page.locator('[data-testid=inflight]').first().click();
    await waitForText(page, '[data-testid=status]', 'Waiting');
    assert.equal(await page.locator('[data-testid=request-chip][aria-pressed=true]').textContent(), '#2 …');
  }));

test('palette: several faults at once, knobs change the outcome, bad knobs are refused with a message', { timeout: 60_000 }, () =>
  withApp(browser, async (page) => {
    await openTab(page, 'build');
    await page.click('[data-testid=palette] summary');
    await page.check('[data-testid=palette-slow_app]');
    await waitForText(page, '[data-testid=active-faults]', '1 active');
    // 5 s is below proxy_read_timeout (60 s): slow, but fine.
    await setInput(page, 'knob-slow_app-delay_ms', '5000');
    await sendRequest(page);
    await waitForText(page, sel.status, '200 OK');
    await waitForText(page, '[data-testid=client-console]', '5.0 s');
    // A second fault on top: maintenance answers 503 (after the slow part).
    await page.check('[data-testid=palette-maintenance]');
    await waitForText(page, '[data-testid=active-faults]', '2 active');
    await sendRequest(page);
    await waitForText(page, sel.status, '503 Service Unavailable');
    // A knob the engine refuses: the message names the field, nothing changes.
    await setInput(page, 'knob-slow_app-probability', '2');
    await waitForText(page, '[data-testid=config-error]', 'faults[0].probability: must be between 0 and 1');
    await waitForText(page, '[data-testid=active-faults]', '2 active');
  }));

test('faults that need load: a burst shows rate limiting (503) and overload (seconds of latency); the fixes clear them', { timeout: 90_000 }, () =>
  withApp(browser, async (page) => {
    // rate_limited: 200 requests at 50/s against limit_req 1 r/s → nginx's own 503s.
    await openTab(page, 'logs');
    await chooseFault(page, 'rate_limited');
    await page.click('[data-testid=send-burst]');
    await waitForCount(page, '[data-testid=request-chip]', 40);
    let chips = await texts(page, '[data-testid=request-chip]');
    assert.ok(chips.filter((c) => c.endsWith(' 503')).length > 30, chips.join(' '));
    await waitForText(page, sel.errorLine, 'limiting requests, excess:');
    await page.click('[data-testid=apply-fix]');
    await page.click('[data-testid=send-burst]');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=request-chip]')].at(-1)?.textContent.startsWith('#400'), null, { timeout: 10_000 });
    chips = await texts(page, '[data-testid=request-chip]');
    // rate=100r/s burst=20 nodelay: the 50/s burst passes.
    assert.ok(chips.every((c) => c.endsWith(' 200')), `after the fix: ${chips.join(' ')}`);
    // overload: the same burst against 4 workers and a backlog of 16.
    await page.reload();
    await page.locator(sel.app).waitFor();
    await chooseFault(page, 'overload');
    await page.click('[data-testid=send-burst]');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=request-chip]')].at(-1)?.textContent === '#200 200', null, { timeout: 10_000 });
    const slow = await page.locator('[data-testid=client-console]').textContent();
    const secs = Number((slow.match(/, ([0-9.]+) s\)/) || [])[1]);
    assert.ok(secs > 3, `the last request of the burst waited in the queue: ${slow}`);
    // Nothing failed (nginx's timeouts are 60 s), so no "Fix it" panel: the fix for overload is
    // capacity, i.e. the fault goes away. The same burst is fast again.
    await openTab(page, 'build');
    await page.click('[data-testid=palette] summary');
    await page.uncheck('[data-testid=palette-overload]');
    await page.click('[data-testid=send-burst]');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=request-chip]')].at(-1)?.textContent === '#400 200', null, { timeout: 10_000 });
    const fast = await page.locator('[data-testid=client-console]').textContent();
    assert.ok(/ ms\)/.test(fast), `after removing the overload the burst is served in milliseconds: ${fast}`);
  }));

test('no layout jumps: cumulative layout shift stays under 0.1 while loading and sending', { timeout: 60_000 }, async () => {
  const s = await newPage(browser);
  try {
    const { page } = s;
    await page.addInitScript(() => {
      window.__cls = 0;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) if (!e.hadRecentInput) window.__cls += e.value;
      }).observe({ type: 'layout-shift', buffered: true });
    });
    await openApp(page);
    await page.waitForTimeout(500);
    const onLoad = await page.evaluate(() => window.__cls);
    assert.ok(onLoad < 0.1, `layout shift while loading: ${onLoad}`);
    await chooseFault(page, 'app_down');
    await sendRequest(page);
    await waitForText(page, sel.status, '502 Bad Gateway');
    await page.waitForTimeout(300);
    // Shifts right after a click count as expected (hadRecentInput); the rest must stay small.
    const total = await page.evaluate(() => window.__cls);
    assert.ok(total < 0.1, `cumulative layout shift: ${total}`);
    assertNoErrors(s);
  } finally { await s.close(); }
});

test('proxy directives: each control changes the rendered config', { timeout: 60_000 }, () =>
  withApp(browser, async (page) => {
    await openTabs(page, 'logs', 'config');
    await setInput(page, 'connect-timeout', 3);
    await waitForText(page, '[data-testid=config-preview]', 'proxy_connect_timeout 3s;');
    await setInput(page, 'next-upstream-tries', 2);
    await waitForText(page, '[data-testid=config-preview]', 'proxy_next_upstream_tries 2;');
    await setInput(page, 'buffer-size', 16);
    await setInput(page, 'buffers-size', 16);
    await waitForText(page, '[data-testid=config-preview]', 'proxy_buffers 8 16k;');
    await waitForText(page, '[data-testid=config-preview]', 'proxy_buffer_size 16k;');
    await setInput(page, 'keepalive', 8);
    await waitForText(page, '[data-testid=config-preview]', 'keepalive 8;');
    await waitForText(page, '[data-testid=config-preview]', 'proxy_http_version 1.1;');
    await page.selectOption('[data-testid=error-log-level]', 'warn');
    await waitForText(page, '[data-testid=config-preview]', 'error.log warn;');
    // A combination nginx refuses: proxy_buffer_size 64k with 16k buffers.
    await setInput(page, 'buffer-size', 64);
    await chooseFault(page, 'none');
    await sendRequest(page);
    await waitForText(page, sel.status, 'No response: could not connect');
    await waitForText(page, '[data-testid=proxy-stderr]', 'proxy_busy_buffers_size');
    await page.selectOption('[data-testid=flavor-select]', 'haproxy');
    await setInput(page, 'retries', 1);
    await waitForText(page, '[data-testid=config-preview]', 'retries 1');
    await page.check('[data-testid=redispatch]');
    await waitForText(page, '[data-testid=config-preview]', 'option redispatch');
  }));

test('keepalive_mismatch through a ready scenario: the GET is retried, the POST gets 502; the fix removes the race', { timeout: 60_000 }, () =>
  withApp(browser, async (page) => {
    await openTabs(page, 'logs', 'timeline', 'config', 'build');
    await page.selectOption('[data-testid=scenario-select]', 'keepalive_mismatch');
    await waitForText(page, '[data-testid=scenario-description]', 'keepalive 16');
    await waitForCount(page, '[data-testid=request-chip]', 3);
    assert.deepEqual(await texts(page, '[data-testid=request-chip]'), ['#1 200', '#2 200', '#3 502']);
    const lines = await texts(page, sel.errorLine);
    assert.equal(lines.filter((l) => l.includes('upstream prematurely closed connection while reading response header from upstream')).length, 2, lines.join('\n'));
    // Request 2 needed two attempts: its timeline shows the retry.
    await page.locator('[data-testid=request-chip]').nth(1).click();
    await waitForText(page, '[data-testid=timeline]', 'reuses idle keepalive connection');
    await page.locator('[data-testid=request-chip]').nth(2).click();
    await page.click('[data-testid=apply-fix]');
    await waitForText(page, '[data-testid=config-preview]', 'keepalive_timeout 4s;');
    await page.click('[data-testid=reset]');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=request-chip]')].map((c) => c.textContent).join(' ') === '#1 200 #2 200 #3 200', null, { timeout: 5_000 });
    assert.equal(await count(page, sel.errorLine), 0);
  }));

test('topology: a finished request stays at the client, coloured by its outcome', { timeout: 60_000 }, () =>
  withApp(browser, async (page) => {
    await chooseFault(page, 'app_down');
    await sendRequest(page);
    await waitForCount(page, '[data-testid=done]', 1);
    assert.match(await page.getAttribute('[data-testid=done]', 'class'), /done fail/);
    await chooseFault(page, 'none');
    await sendRequest(page);
    await page.locator('[data-testid=done][aria-label^="request #2:"]').waitFor();
    assert.match(await page.getAttribute('[data-testid=done][aria-label^="request #2:"]', 'class'), /done ok/);
    assert.match(await page.getAttribute('[data-testid=done][aria-label^="request #1:"]', 'class'), /done fail/);
  }));
