// With ?flavor=haproxy the page speaks HAProxy's language everywhere (issue 15, item 3): the
// palette (titles, causes, knob labels), the terminal (help, systemctl, journalctl, its
// suggestions), the proxy panel (haproxy.cfg with tune.bufsize), the 502/503/504 comparison and
// the embed (its fault picker, its outcome with the termination state in words, on screen and in
// the `outcome` event the host gets). Panels are found by data-testid; one that is not visible is
// brought into view by its tab when the page has tabs, else by scrolling (see `reveal`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newPage, appUrl, assertNoErrors, sendRequest, waitForText, waitForCount, count, sel, openTab, runTerminal, TIMEOUT,
} from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** Words that belong to nginx only (directives, its program and user, its log paths). */
const NGINX_ONLY = [
  'nginx', 'proxy_pass', 'proxy_read_timeout', 'proxy_connect_timeout', 'proxy_buffer', 'proxy_next_upstream',
  'keepalive_timeout', 'limit_req', 'nodelay', 'www-data', '/var/log/nginx',
];

/** HAProxy's connect-failure explanation contrasts it with nginx on purpose (503, not 502). */
const CONTRAST = 'Unlike nginx it answers 503 Service Unavailable, not 502';

function assertNoNginxWords(what, text) {
  const found = NGINX_ONLY.filter((w) => text.replaceAll(CONTRAST, '').includes(w));
  assert.deepEqual(found, [], `${what} under HAProxy names nginx's words ${JSON.stringify(found)}:\n${text}`);
}

/** The element `[data-testid=testid]` in the tab `tab` (its view= name), opened and scrolled to. */
async function reveal(page, testid, tab) {
  const loc = page.locator(`[data-testid=${testid}]`).first();
  await openTab(page, tab);
  await loc.waitFor({ state: 'attached', timeout: TIMEOUT.mount });
  await loc.scrollIntoViewIfNeeded();
  await loc.waitFor({ state: 'visible', timeout: TIMEOUT.action });
  return loc;
}

const run = runTerminal;

async function open(suffix, body, ready = sel.app) {
  const s = await newPage(browser);
  try {
    await s.page.goto((await appUrl()) + suffix, { waitUntil: 'load', timeout: TIMEOUT.navigation });
    await s.page.locator(ready).waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    await body(s.page);
    assertNoErrors(s);
  } finally {
    await s.close();
  }
}

test('HAProxy: the palette, the terminal, the proxy panel and the comparison speak HAProxy', { timeout: 120_000 }, () =>
  open('?flavor=haproxy', async (page) => {
    // The palette: every fault's title and cause, then the knobs of two faults whose knobs are
    // nginx's elsewhere (rate_limited's limit_req parameters, oversized_header's buffer).
    const palette = await reveal(page, 'palette', 'build');
    await palette.locator('summary').click();
    await page.locator('[data-testid=palette-rate_limited]').check();
    await page.locator('[data-testid=palette-oversized_header]').check();
    await page.locator('[data-testid=palette-slow_app]').check();
    await page.locator('[data-testid=knob-rate_limited-burst]').waitFor({ state: 'visible' });
    assert.equal(await page.locator('[data-testid=knob-rate_limited-nodelay]').count(), 0, 'nodelay is limit_req\'s, not HAProxy\'s');
    const paletteText = await palette.innerText();
    assertNoNginxWords('the palette', paletteText);
    assert.match(await page.locator('[data-testid=palette-title-slow_app]').textContent(), /^App slower than timeout server$/);
    assert.match(await page.locator('[data-testid=palette-title-rate_limited]').textContent(), /http-request deny/);
    assert.match(paletteText, /header bytes \(vs tune\.bufsize\)/);

    // The terminal: help, systemctl and journalctl of the proxy's unit, and the suggestions.
    await reveal(page, 'terminal', 'terminal');
    const help = await run(page, 'help');
    assertNoNginxWords('help', help);
    assert.match(help, /haproxy -c -f \/etc\/haproxy\/haproxy\.cfg/);
    assert.match(help, /journalctl -u app\|haproxy/);
    const status = await run(page, 'systemctl status haproxy');
    assertNoNginxWords('systemctl status haproxy', status);
    assert.match(status, /haproxy\.service - HAProxy Load Balancer/);
    const journal = await run(page, 'journalctl -u haproxy -n 5');
    assertNoNginxWords('journalctl -u haproxy', journal);
    assertNoNginxWords('ls of a path the lab does not model', await run(page, 'ls /etc/shadow'));
    const suggestions = await page.locator('[data-testid=terminal-suggestion]').allTextContents();
    assert.ok(suggestions.includes('journalctl -u haproxy -n 5'), JSON.stringify(suggestions));
    assertNoNginxWords('the suggested commands', suggestions.join('\n'));

    // The proxy panel: HAProxy's knobs and haproxy.cfg, tune.bufsize in global.
    const config = await reveal(page, 'config-preview', 'config');
    const cfg = await config.textContent();
    assert.match(cfg, /^global\n {4}log stdout format raw local0\n {4}tune\.bufsize 16384\n/m);
    assertNoNginxWords('haproxy.cfg', cfg);
    await page.locator('[data-testid=bufsize]').waitFor({ state: 'visible' });
    const panel = await page.locator('#config').innerText();
    // The proxy picker offers nginx by name; everything else is HAProxy's.
    assertNoNginxWords('the proxy panel', panel.replace('nginx 1.22', ''));

    // 502 vs 503 vs 504: the same three breakages, titled in HAProxy's words, with their httplog lines.
    const run3 = await reveal(page, 'compare-run', 'compare');
    await run3.click();
    await waitForCount(page, '[data-testid=compare-col]', 3);
    const compare = await page.locator('[data-testid=compare]').innerText();
    assertNoNginxWords('the comparison', compare);
    assert.match(compare, /App slower than timeout server/);
    assert.match(compare, / 504 \d+ - - sH-- /);
  }));

test('nginx: the same word sources still speak nginx (palette, help, comparison)', { timeout: 90_000 }, () =>
  open('', async (page) => {
    const palette = await reveal(page, 'palette', 'build');
    await palette.locator('summary').click();
    await page.locator('[data-testid=palette-rate_limited]').check();
    await page.locator('[data-testid=knob-rate_limited-nodelay]').waitFor({ state: 'visible' });
    assert.match(await page.locator('[data-testid=palette-title-slow_app]').textContent(), /proxy_read_timeout/);
    await reveal(page, 'terminal', 'terminal');
    const help = await run(page, 'help');
    assert.match(help, /nginx -t, nginx -s reload/);
    assert.doesNotMatch(help, /haproxy/);
    const config = await reveal(page, 'config-preview', 'config');
    assert.doesNotMatch(await config.textContent(), /tune\.bufsize/);
  }));

test('HAProxy embed: the fault picker, the outcome on screen and the host\'s outcome event say sH-- in words', { timeout: 90_000 }, async () => {
  const s = await newPage(browser);
  try {
    // A host page on the same server (about:blank has no origin to frame from), framing the embed.
    const url = await appUrl();
    await s.page.goto(url, { waitUntil: 'load', timeout: TIMEOUT.navigation });
    await s.page.evaluate((src) => {
      window.events = [];
      window.addEventListener('message', (e) => window.events.push(e.data));
      document.body.innerHTML = `<iframe id="embed" src="${src}" width="600" height="420"></iframe>`;
    }, `${url}?embed=1&fault=slow_app&flavor=haproxy`);
    const frame = s.page.frameLocator('#embed');
    await frame.locator('[data-testid=embed]').waitFor({ state: 'visible', timeout: TIMEOUT.mount });
    await frame.locator('[data-testid=embed-send]').click();
    const outcome = await s.page.waitForFunction(
      () => window.events.find((e) => e && e.gatewayLab === 1 && e.type === 'outcome' && e.status === 504),
      null, { timeout: TIMEOUT.result, polling: 100 },
    ).then((h) => h.jsonValue());
    assert.equal(outcome.log, 'haproxy');
    assert.equal(outcome.termination.code, 'sH--');
    assert.match(outcome.termination.sentence, /^sH--: timeout server expired before the server returned its response headers/);
    const shown = await frame.locator('[data-testid=embed-termination]').textContent();
    assert.equal(shown, outcome.termination.sentence);
    assert.equal(await frame.locator('[data-testid=embed-log-title]').textContent(), 'HAProxy log (option httplog)');
    assert.match(await frame.locator('[data-testid=embed-title]').textContent(), /^App slower than timeout server · haproxy$/);
    const options = (await frame.locator('[data-testid=embed-fault] option').allTextContents()).join('\n');
    assertNoNginxWords('the embed\'s fault picker', options);
    assertNoNginxWords('the embed', await frame.locator('[data-testid=embed]').innerText());
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('nginx embed: the outcome event carries no termination state', { timeout: 60_000 }, () =>
  open('?embed=1&fault=slow_app', async (page) => {
    await page.locator('[data-testid=embed-send]').click();
    await waitForText(page, '[data-testid=embed-status]', '504');
    assert.equal(await page.locator('[data-testid=embed-termination]').count(), 0);
    assert.equal(await page.locator('[data-testid=embed-log-title]').textContent(), 'nginx error.log');
  }, '[data-testid=embed]'));

// Where HAProxy's request log is: not /var/log/nginx, the unit's journal. A request sent from the
// stage shows up in `journalctl -u haproxy` with its termination state.
test('HAProxy: a request\'s httplog line reaches journalctl -u haproxy', { timeout: 90_000 }, () =>
  open('?fault=app_down&flavor=haproxy', async (page) => {
    await sendRequest(page);
    await waitForText(page, sel.status, '503 Service Unavailable');
    await reveal(page, 'terminal', 'terminal');
    const journal = await run(page, 'journalctl -u haproxy -n 3');
    assert.match(journal, / 503 \d+ - - SC-- /);
    assertNoNginxWords('journalctl -u haproxy', journal);
  }));

// Apache, Caddy and Varnish speak their own words too: no other proxy's directive, program, unit
// or log path in the palette (every fault's title and cause), the terminal (help, the unit's
// status and journal, the suggestions), the proxy panel (its own config) and the 502/503/504
// comparison. The per-proxy comparison and the proxy picker name every proxy on purpose and are
// left out.
const OWN_WORDS = {
  nginx: NGINX_ONLY,
  haproxy: ['haproxy', 'HAProxy', 'timeout server', 'timeout connect', 'http-request deny', 'tune.bufsize', 'option redispatch'],
  apache: ['apache2', 'Apache', 'ProxyTimeout', 'ProxyPass', 'mod_proxy', 'BalancerMember', '/var/log/apache2'],
  caddy: ['Caddy', 'caddy', 'reverse_proxy', 'Caddyfile', 'lb_try_duration', 'dial_timeout', 'response_header_timeout'],
  varnish: ['Varnish', 'varnish', 'first_byte_timeout', 'VCL', 'FetchError', 'Guru Meditation'],
};

/** Words another proxy shares with this one (Debian runs Apache's workers as www-data too). */
const SHARED = { apache: ['www-data'] };

function assertOwnWords(flavor, what, text) {
  const found = Object.entries(OWN_WORDS)
    .filter(([f]) => f !== flavor)
    .flatMap(([f, words]) => words.filter((w) => text.includes(w) && !(SHARED[flavor] ?? []).includes(w)).map((w) => `${f}: ${w}`));
  assert.deepEqual(found, [], `${what} under ${flavor} names another proxy's words ${JSON.stringify(found)}:\n${text}`);
}

const UNIT = { apache: 'apache2', caddy: 'caddy', varnish: 'varnish' };

for (const flavor of ['apache', 'caddy', 'varnish']) {
  test(`${flavor}: the palette, the terminal, the proxy panel and the comparison speak ${flavor}'s words only`, { timeout: 120_000 }, () =>
    open(`?flavor=${flavor}`, async (page) => {
      const palette = await reveal(page, 'palette', 'build');
      await palette.locator('summary').click();
      await page.locator('[data-testid=palette-slow_app]').waitFor({ state: 'visible' });
      // Faults the flavor does not model say so with its own message (which may name the other
      // proxy's feature: "limit_req is nginx's"); the others speak its words.
      const refused = await page.$$eval('[data-testid=palette] li[data-refused]', (els) => els.map((el) => el.textContent));
      for (const r of refused) assert.match(r, /Not modelled under (Apache|Caddy|Varnish): /);
      assert.ok(refused.length >= 3, `${flavor} refuses some faults (TLS to the backend, limit_req): ${refused.length}`);
      const modelled = await page.$$eval('[data-testid=palette] li:not([data-refused])', (els) => els.map((el) => el.innerText).join('\n'));
      assertOwnWords(flavor, 'the palette', modelled);

      await reveal(page, 'terminal', 'terminal');
      const help = await run(page, 'help');
      assertOwnWords(flavor, 'help', help);
      assert.ok(help.includes(UNIT[flavor]), `help names ${UNIT[flavor]}:\n${help}`);
      const status = await run(page, `systemctl status ${UNIT[flavor]}`);
      assertOwnWords(flavor, `systemctl status ${UNIT[flavor]}`, status);
      assert.match(status, new RegExp(`${UNIT[flavor]}\\.service`));
      assertOwnWords(flavor, `journalctl -u ${UNIT[flavor]}`, await run(page, `journalctl -u ${UNIT[flavor]} -n 5`));
      const suggestions = await page.locator('[data-testid=terminal-suggestion]').allTextContents();
      assertOwnWords(flavor, 'the suggested commands', suggestions.join('\n'));

      await reveal(page, 'config-preview', 'config');
      // The proxy panel without the proxy picker (which lists every proxy by name).
      const panel = await page.$eval('#config', (el) => {
        const c = el.cloneNode(true);
        c.querySelectorAll('select').forEach((s) => s.remove());
        return c.textContent;
      });
      assertOwnWords(flavor, 'the proxy panel', panel);

      const run3 = await reveal(page, 'compare-run', 'compare');
      await run3.click();
      await waitForCount(page, '[data-testid=compare-col]', 3);
      assertOwnWords(flavor, 'the comparison', await page.locator('[data-testid=compare]').innerText());
    }));
}
