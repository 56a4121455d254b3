// Each fault, chosen in the UI, produces the status, logs and headers that real nginx would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, withApp as withAppIn, breakAndSend,
  count, lastText, texts, sel, ERROR_502, ERROR_504, accessLineRe, waitForCount,
} from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const withApp = (body) => withAppIn(browser, body);

test('app_down → 502 Bad Gateway, "connect() failed (111: Connection refused)" in error.log', { timeout: 60_000 }, () =>
  withApp(async (page) => {
    const { errorsBefore } = await breakAndSend(page, 'app_down', '502 Bad Gateway');
    await waitForCount(page, sel.errorLine, errorsBefore + 1);
    assert.match(await lastText(page, sel.errorLine), ERROR_502);
    assert.match(await lastText(page, sel.accessLine), accessLineRe(502));
  }));

test('slow_app → 504 Gateway Time-out, "upstream timed out (110: Connection timed out)" in error.log', { timeout: 60_000 }, () =>
  withApp(async (page) => {
    const { errorsBefore } = await breakAndSend(page, 'slow_app', '504 Gateway Time-out');
    await waitForCount(page, sel.errorLine, errorsBefore + 1);
    const line = await lastText(page, sel.errorLine);
    assert.ok(
      line.includes('upstream timed out (110: Connection timed out) while reading response header from upstream'),
      `unexpected error line: ${line}`,
    );
    assert.match(line, ERROR_504);
    assert.match(await lastText(page, sel.accessLine), accessLineRe(504));
  }));

test('maintenance → 503 Service Unavailable with Retry-After, and no error.log line', { timeout: 60_000 }, () =>
  withApp(async (page) => {
    const { errorsBefore } = await breakAndSend(page, 'maintenance', '503 Service Unavailable');
    assert.match(await lastText(page, sel.accessLine), accessLineRe(503));
    await page.waitForTimeout(300); // let anything late render before counting
    assert.equal(await count(page, sel.errorLine), errorsBefore,
      `a 503 from nginx's maintenance return writes no error.log line; got: ${JSON.stringify((await texts(page, sel.errorLine)).slice(errorsBefore))}`);
    const headers = await page.locator(sel.responseHeaders).first().textContent();
    assert.ok(headers.includes('Retry-After:'), `response headers should contain Retry-After:, got: ${headers}`);
  }));

test('none (healthy) → 200 OK', { timeout: 60_000 }, () =>
  withApp(async (page) => {
    await breakAndSend(page, 'none', '200 OK');
    assert.match(await lastText(page, sel.accessLine), accessLineRe(200));
  }));
