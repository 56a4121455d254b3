// Helpers for Gateway Lab's browser tests (Node's built-in test runner + playwright-core).
//
// The browser is the system Chromium (/usr/bin/chromium, from apt); playwright-core never
// downloads one. The app URL comes from GATEWAY_LAB_URL (scripts/test sets it to the release
// build served under a sub-path). Without it, dist/ is served here under /gateway-lab/.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { startStaticServer } from './static-server.mjs';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SCREENSHOT_DIR = fileURLToPath(new URL('../target/screenshots/', import.meta.url));

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

// Every wait is bounded.
export const TIMEOUT = {
  launch: 30_000,
  navigation: 15_000,
  mount: 10_000, // the app must mount within 10 s
  action: 5_000,
  result: 20_000, // a simulated request reaching its final status
};

// ------------------------------------------------------------------------------ app URL
let urlPromise;
/** The app's URL: GATEWAY_LAB_URL, or dist/ served here under /gateway-lab/. */
export function appUrl() {
  urlPromise ??= (async () => {
    const fromEnv = process.env.GATEWAY_LAB_URL;
    if (fromEnv) return fromEnv;
    const dist = fileURLToPath(new URL('../dist/', import.meta.url));
    if (!existsSync(dist + 'index.html')) {
      throw new Error('GATEWAY_LAB_URL is not set and dist/index.html is missing: run ./scripts/test (or scripts/build-release)');
    }
    const { server, url } = await startStaticServer({ dir: dist, base: '/gateway-lab/' });
    server.unref();
    return url;
  })();
  return urlPromise;
}

// ------------------------------------------------------------------------------ browser
/**
 * Launches headless Chromium. Playwright gives every launch() a fresh temporary
 * --user-data-dir of its own (and deletes it on close); it refuses a --user-data-dir in args.
 */
export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: TIMEOUT.launch,
  });
}

/**
 * A page in a fresh browser context (own storage), collecting console errors and page errors.
 * Returns { page, context, consoleErrors, pageErrors, close }.
 */
export async function newPage(browser, { viewport = { width: 1280, height: 800 }, colorScheme = 'light' } = {}) {
  const context = await browser.newContext({ viewport, colorScheme, timezoneId: 'UTC', locale: 'en-US' });
  context.setDefaultTimeout(TIMEOUT.action);
  context.setDefaultNavigationTimeout(TIMEOUT.navigation);
  const page = await context.newPage();
  const consoleErrors = [];
  const pageErrors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') {
      const loc = msg.location();
      // A page without <link rel="icon"> makes Chromium fetch /favicon.ico at the SITE root, which
      // is outside the app when it is served under a sub-path: not the app's error. (A missing
      // icon the app declares itself lives under its own path and is still reported.)
      if (loc?.url && new URL(loc.url).pathname === '/favicon.ico') return;
      consoleErrors.push(`${msg.text()}${loc?.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`);
    }
  });
  page.on('pageerror', (err) => pageErrors.push(String(err?.stack || err)));
  return { page, context, consoleErrors, pageErrors, close: () => context.close() };
}

/** Opens the app and waits (<= 10 s) until it has mounted: [data-testid=app] visible. */
export async function openApp(page) {
  await page.goto(await appUrl(), { waitUntil: 'load', timeout: TIMEOUT.navigation });
  await page.locator('[data-testid=app]').waitFor({ state: 'visible', timeout: TIMEOUT.mount });
}

/** Opens the app in a fresh context, runs `body(page)`, then checks for console and page errors. */
export async function withApp(browser, body, options) {
  const s = await newPage(browser, options);
  try {
    await openApp(s.page);
    await body(s.page);
    assertNoErrors(s);
  } finally {
    await s.close();
  }
}

/** Types `value` into the input `[data-testid=testid]` and leaves it, as a user does (fires change). */
export async function setInput(page, testid, value) {
  await page.fill(`[data-testid=${testid}]`, String(value));
  await page.locator(`[data-testid=${testid}]`).blur();
}

/** Fails when the page logged a console error or threw. */
export function assertNoErrors(session, what = 'page') {
  assert.deepEqual(session.pageErrors, [], `${what}: uncaught page errors`);
  assert.deepEqual(session.consoleErrors, [], `${what}: console errors`);
}

// ------------------------------------------------------------------------------ app actions
export const sel = {
  app: '[data-testid=app]',
  fault: '[data-testid="fault-select"]',
  send: '[data-testid=send-request]',
  status: '[data-testid=status]',
  errorLine: '[data-testid=error-log-line]',
  accessLine: '[data-testid=access-log-line]',
  responseHeaders: '[data-testid=response-headers]',
};

/** The tabs below the stage, in order (their `view=` names; src/ui/tabs.rs TABS). */
export const TABS = ['lessons', 'logs', 'timeline', 'terminal', 'compare', 'quiz', 'lab', 'build', 'config'];

/**
 * Opens the tab below the stage named `name` (its `view=` name: lessons, logs, timeline, terminal,
 * compare, quiz, lab, build, config) and waits until its panel shows.
 */
export async function openTab(page, name) {
  await page.click(`[data-testid=tab-${name}]`, { timeout: TIMEOUT.action });
  await page.locator(`[data-testid=panel-${name}]`).waitFor({ state: 'visible', timeout: TIMEOUT.action });
  // A panel whose code is a wasm chunk (src/ui/lazy.rs, issue 20) says "Loading …" until the chunk
  // has arrived and the panel is drawn: wait for that, not only for the (visible at once) panel.
  await page.waitForFunction(
    (selector) => {
      const el = document.querySelector(selector);
      return el && el.childElementCount > 0 && !el.querySelector('[data-testid=panel-loading]');
    },
    `[data-testid=panel-${name}]`,
    { timeout: TIMEOUT.result },
  );
}

/** Opens each tab in turn, so all their panels are mounted (they stay mounted); the last stays open. */
export async function openTabs(page, ...names) {
  for (const name of names) await openTab(page, name);
}

export async function chooseFault(page, value) {
  const chosen = await page.selectOption(sel.fault, value, { timeout: TIMEOUT.action });
  assert.deepEqual(chosen, [value], `fault-select should have option "${value}"`);
}

export async function sendRequest(page) {
  await page.click(sel.send, { timeout: TIMEOUT.action });
}

/** Texts (trimmed textContent) of all elements matching a selector, in document order. */
export async function texts(page, selector) {
  return page.$$eval(selector, (els) => els.map((el) => (el.textContent ?? '').trim()));
}

export async function count(page, selector) {
  return page.locator(selector).count();
}

/** Waits until the first element matching `selector` contains `text`. */
export async function waitForText(page, selector, text, timeout = TIMEOUT.result) {
  try {
    await page.waitForFunction(
      ([s, t]) => (document.querySelector(s)?.textContent ?? '').includes(t),
      [selector, text],
      { timeout, polling: 100 },
    );
  } catch (e) {
    const now = await page.locator(selector).first().textContent({ timeout: 1000 }).catch(() => '(element not found)');
    throw new Error(`waited ${timeout} ms for ${selector} to contain "${text}"; it shows: ${JSON.stringify(now)}`, { cause: e });
  }
}

/** Waits until at least `n` elements match `selector`. */
export async function waitForCount(page, selector, n, timeout = TIMEOUT.result) {
  try {
    await page.waitForFunction(
      ([s, k]) => document.querySelectorAll(s).length >= k,
      [selector, n],
      { timeout, polling: 100 },
    );
  } catch (e) {
    throw new Error(`waited ${timeout} ms for ${n} × ${selector}; found ${await count(page, selector)}`, { cause: e });
  }
}

/**
 * Chooses a fault, sends one request and waits for the final status text.
 * Returns the log line counts from before the request: { errorsBefore, accessBefore }.
 */
export async function breakAndSend(page, fault, expectedStatus) {
  // The log lines counted below are in the Logs tab: mount it (once opened, it stays mounted).
  if ((await count(page, '[data-testid=panel-logs] .logs')) === 0) await openTab(page, 'logs');
  await chooseFault(page, fault);
  const errorsBefore = await count(page, sel.errorLine);
  const accessBefore = await count(page, sel.accessLine);
  await sendRequest(page);
  await waitForText(page, sel.status, expectedStatus);
  await waitForCount(page, sel.accessLine, accessBefore + 1);
  return { errorsBefore, accessBefore };
}

export async function lastText(page, selector) {
  const all = await texts(page, selector);
  assert.ok(all.length > 0, `no ${selector} on the page`);
  return all[all.length - 1];
}

/**
 * Holds back every request for a wasm chunk matching `pattern` (issue 20: its loading state must be
 * seen) until `release()`. `asked()`: how many requests were made for it.
 */
export async function holdChunk(page, pattern) {
  let asked = 0;
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route(pattern, async (route) => { asked += 1; await held; await route.continue(); });
  return { release, asked: () => asked };
}

/** Refuses every request for a wasm chunk matching `pattern` (a failed download); returns how many were made. */
export async function refuseChunk(page, pattern) {
  let refused = 0;
  await page.route(pattern, (route) => { refused += 1; return route.abort('connectionreset'); });
  return () => refused;
}

export async function screenshot(page, name) {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = `${SCREENSHOT_DIR}${name}.png`;
  await page.screenshot({ path, fullPage: true, timeout: TIMEOUT.navigation });
  return path;
}

// ------------------------------------------------------------------------------ log formats
const ERROR_PREFIX = String.raw`^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} \[error\] \d+#\d+: \*\d+ `;
const ERROR_SUFFIX = String.raw`, client: 127\.0\.0\.1, server: [^,]+, request: "GET /users HTTP/1\.1", upstream: "http://127\.0\.0\.1:3000/users", host: "[^"]+"$`;

/** nginx error.log line, full format, for the request GET /users proxied to 127.0.0.1:3000. */
export function errorLineRe(message) {
  return new RegExp(ERROR_PREFIX + message + ERROR_SUFFIX);
}
export const ERROR_502 = errorLineRe(String.raw`connect\(\) failed \(111: Connection refused\) while connecting to upstream`);
export const ERROR_504 = errorLineRe(String.raw`upstream timed out \(110: Connection timed out\) while reading response header from upstream`);

/** nginx access.log line, combined format, GET /users with the given status. */
export function accessLineRe(status) {
  return new RegExp(
    String.raw`^127\.0\.0\.1 - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET /users HTTP/1\.1" ` +
      status +
      String.raw` \d+ "-" "[^"]+"$`,
  );
}

// ------------------------------------------------------------------------------ addresses
/**
 * Opens the app at its URL + `suffix` (`?a=b`, `#s=…`, or both) and waits (<= 10 s) until
 * `ready` is visible: the full page by default, `[data-testid=embed]` for `?embed=1`.
 */
export async function openAt(page, suffix, ready = sel.app) {
  await page.goto((await appUrl()) + suffix, { waitUntil: 'load', timeout: TIMEOUT.navigation });
  await page.locator(ready).waitFor({ state: 'visible', timeout: TIMEOUT.mount });
}

/**
 * The scenario a share link carries (`…#s=1.<base64url JSON>`), as the JSON object the page wrote:
 * only the fields that differ from the defaults, plus `version`.
 */
export function scenarioInLink(url) {
  const m = /#s=1\.([A-Za-z0-9_-]*)$/.exec(url);
  assert.ok(m, `not a share link: ${url}`);
  return JSON.parse(Buffer.from(m[1], 'base64url').toString('utf8'));
}

/** A share-link fragment (`#s=1.…`) for a scenario given as JSON (fields that differ from the defaults). */
export function fragmentFor(scenario) {
  return `#s=1.${Buffer.from(JSON.stringify({ version: 1, ...scenario })).toString('base64url')}`;
}

// ------------------------------------------------------------------------------ terminal
/**
 * Types a command line in the diagnosis terminal (its tab already open), presses Enter, checks the
 * transcript echoes it and the input is cleared, and returns what the terminal printed for it.
 */
export async function runTerminal(page, line) {
  const input = '[data-testid=terminal-input]';
  const entry = '[data-testid=terminal-entry]';
  const before = await count(page, entry);
  await page.fill(input, line);
  await page.press(input, 'Enter');
  await waitForCount(page, entry, before + 1, TIMEOUT.result);
  const last = page.locator(entry).nth(before);
  assert.equal((await last.locator('.terminal-typed').textContent()).trim(), line.trim(), 'the transcript echoes the command');
  assert.equal(await page.inputValue(input), '', 'the input is cleared after Enter');
  return (await last.locator('pre').textContent()) ?? '';
}
