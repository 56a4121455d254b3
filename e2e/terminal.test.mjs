// The diagnosis terminal in the real page: commands typed into it follow a fault being
// switched on and off, the OOM kill shows in `docker inspect`, `systemctl stop|start app`
// change the run (and the topology redraws at once), `nginx -t` tests the configuration,
// suggestions, history and `clear` work, and it fits a phone. Screenshots: target/screenshots/terminal*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { statSync } from 'node:fs';
import {
  launch, newPage, openApp, assertNoErrors, withApp, chooseFault, sendRequest, waitForText,
  waitForCount, count, texts, sel, SCREENSHOT_DIR, TIMEOUT, openTab, openTabs, runTerminal,
} from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const T = {
  terminal: '[data-testid=terminal]',
  input: '[data-testid=terminal-input]',
  output: '[data-testid=terminal-output]',
  entry: '[data-testid=terminal-entry]',
  suggestion: '[data-testid=terminal-suggestion]',
};

const run = runTerminal;

function activeLine(text) {
  return text.split('\n').find((l) => l.includes('Active:')) ?? '(no Active: line)';
}

test('terminal commands follow app_down switched on and off', { timeout: 90_000 }, () =>
  withApp(browser, async (page) => {
    await openTabs(page, 'logs', 'terminal'); // the logs are read too: their panel stays mounted
    await page.locator(T.terminal).waitFor();
    assert.equal(await page.getAttribute(T.terminal, 'aria-label'), 'Diagnosis terminal');

    await chooseFault(page, 'app_down');
    let status = await run(page, 'systemctl status app');
    assert.match(activeLine(status), /Active: inactive \(dead\)/, status);
    assert.ok(status.startsWith('○ app.service'), status);
    let ss = await run(page, 'ss -tlnp');
    assert.ok(ss.includes('0.0.0.0:80'), `nginx listens: ${ss}`);
    assert.ok(!ss.includes(':3000'), `nothing listens on :3000 while the app is down: ${ss}`);
    let curl = await run(page, 'curl -v http://localhost/users');
    assert.ok(curl.includes('< HTTP/1.1 502 Bad Gateway'), curl);
    assert.ok(curl.includes('<h1>502 Bad Gateway</h1>'), curl);
    const direct = await run(page, 'curl http://127.0.0.1:3000/users');
    assert.equal(direct.trim(), "curl: (7) Failed to connect to 127.0.0.1 port 3000 after 0 ms: Couldn't connect to server");
    // The terminal's curl was a real request: the page's access log has it.
    await waitForText(page, '[data-testid=access-log]', '"curl/7.88.1"');

    await chooseFault(page, 'none');
    status = await run(page, 'systemctl status app');
    assert.match(activeLine(status), /Active: active \(running\) since /, status);
    assert.ok(status.includes('Main PID: 2817 (node)'), status);
    assert.ok(status.includes('systemd[1]: Started app.service.'), status);
    ss = await run(page, 'ss -tlnp');
    assert.ok(ss.includes('127.0.0.1:3000') && ss.includes('users:(("node",pid=2817,fd=18))'), ss);
    curl = await run(page, 'curl -v http://localhost/users');
    assert.ok(curl.includes('< HTTP/1.1 200 OK'), curl);
    assert.ok(curl.includes('[{"id":1,"name":"Ada"},{"id":2,"name":"Linus"}]'), curl);
    assert.equal((await run(page, 'tail -n 1 /var/log/nginx/access.log | grep -c " 200 "')).trim(), '1');
  }));

test('oom_kill: after the kill docker inspect says OOMKilled and systemd says oom-kill', { timeout: 60_000 }, () =>
  withApp(browser, async (page) => {
    await openTab(page, 'terminal');
    await chooseFault(page, 'oom_kill');
    assert.ok((await run(page, 'docker inspect app | grep -i oom')).includes('"OOMKilled": false'), 'not before the kill');
    // A request makes the app allocate past the limit.
    await sendRequest(page);
    await waitForText(page, sel.status, '502 Bad Gateway');
    const oom = await run(page, 'docker inspect app | grep -i oom');
    assert.ok(oom.includes('"OOMKilled": true,'), oom);
    const status = await run(page, 'systemctl status app');
    assert.match(activeLine(status), /activating \(auto-restart\) \(Result: oom-kill\)/, status);
    assert.ok(status.includes('Main PID: 2817 (code=killed, signal=KILL)'), status);
    const kernel = await run(page, 'journalctl -k');
    assert.ok(kernel.includes('kernel: Out of memory: Killed process 2817 (node)'), kernel);
  }));

test('systemctl stop app makes Send fail with 502, systemctl start app brings 200; nginx -t', { timeout: 90_000 }, () =>
  withApp(browser, async (page) => {
    await openTabs(page, 'logs', 'terminal'); // the logs are read too: their panel stays mounted
    await page.locator(T.terminal).waitFor();
    const upstream = '[data-testid=upstream-state]';
    assert.equal((await page.textContent(upstream)).trim(), 'listening');

    const stop = await run(page, 'systemctl stop app');
    assert.equal(stop.trim(), '', 'systemctl prints nothing when the job is done');
    // No request was sent and virtual time did not move: the topology still redraws.
    await page.waitForFunction((s) => document.querySelector(s)?.textContent.trim() === 'down', upstream, { timeout: TIMEOUT.action });
    const status = await run(page, 'systemctl status app');
    assert.match(activeLine(status), /Active: inactive \(dead\)/, status);
    assert.ok(status.includes('systemd[1]: Stopped app.service.'), status);

    await sendRequest(page);
    await waitForText(page, sel.status, '502 Bad Gateway');
    await waitForText(page, sel.errorLine, 'connect() failed (111: Connection refused)');

    assert.equal((await run(page, 'systemctl start app')).trim(), '');
    await page.waitForFunction((s) => document.querySelector(s)?.textContent.trim() === 'listening', upstream, { timeout: TIMEOUT.action });
    await sendRequest(page);
    await waitForText(page, sel.status, '200 OK');

    const t = await run(page, 'nginx -t');
    assert.equal(
      t.trim(),
      'nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\nnginx: configuration file /etc/nginx/nginx.conf test is successful',
    );
    const typo = await run(page, 'ngnix -t');
    assert.ok(typo.includes('bash: ngnix: command not found') && typo.includes('Did you mean nginx?') && typo.includes('help'), typo);
  }));

test('suggestions run, arrow keys recall, clear empties; it fits 360 px', { timeout: 60_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 360, height: 740 } });
  try {
    await openApp(s.page);
    const page = s.page;
    await openTab(page, 'terminal');
    const suggestions = await texts(page, T.suggestion);
    assert.ok(suggestions.includes('systemctl status app') && suggestions.includes('ss -tlnp'), suggestions.join(' | '));
    await page.locator(T.suggestion, { hasText: 'ss -tlnp' }).click();
    await waitForCount(page, T.entry, 1);
    assert.ok((await page.locator(`${T.entry} pre`).first().textContent()).includes('LISTEN'));
    await run(page, 'date');
    await page.focus(T.input);
    await page.keyboard.press('ArrowUp');
    assert.equal(await page.inputValue(T.input), 'date');
    await page.keyboard.press('ArrowUp');
    assert.equal(await page.inputValue(T.input), 'ss -tlnp');
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.inputValue(T.input), 'date');
    await page.fill(T.input, 'nosuch');
    await page.press(T.input, 'Enter');
    await waitForText(page, T.output, 'bash: nosuch: command not found');
    // No horizontal scrolling of the page at 360 px; the transcript wraps inside itself.
    await run(page, 'ss -tlnp');
    await run(page, 'systemctl status nginx');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
    await mkdir(SCREENSHOT_DIR, { recursive: true });
    const phone = `${SCREENSHOT_DIR}terminal-360.png`;
    await page.locator(T.terminal).screenshot({ path: phone });
    assert.ok(statSync(phone).size > 1000);
    await page.fill(T.input, 'clear');
    await page.press(T.input, 'Enter');
    await page.waitForFunction((e) => document.querySelectorAll(e).length === 0, T.entry, { timeout: TIMEOUT.action });
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('screenshot of the terminal after diagnosing a crash', { timeout: 60_000 }, () =>
  withApp(browser, async (page) => {
    await openTab(page, 'terminal');
    await chooseFault(page, 'crash_mid_request');
    await run(page, 'curl -sS http://localhost/users -o /dev/null -w "%{http_code}\\n"');
    await run(page, 'systemctl status app');
    await run(page, 'ss -tlnp');
    await run(page, 'docker ps -a');
    await mkdir(SCREENSHOT_DIR, { recursive: true });
    const path = `${SCREENSHOT_DIR}terminal.png`;
    await page.locator(T.terminal).screenshot({ path });
    assert.ok(statSync(path).size > 1000, `${path} looks empty`);
    console.log(`saved ${path}`);
  }));
