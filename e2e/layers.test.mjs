// Layers in front of the proxy (issue 19 item 3): the chain scenarios draw a box per layer left
// of the proxy with what it did, the Logs tab has a panel per layer in its own format, and the
// Config tab adds and removes layers. Documented, not verified: the page says so on every layer.
// Screenshots of the chains at 1280x800 go to target/screenshots/chain-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { launch, newPage, openAt, openTab, assertNoErrors, sendRequest, waitForText, waitForCount, texts, count, sel, screenshot } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function sendThroughChain(page, status) {
  await openTab(page, 'logs');
  await sendRequest(page);
  await waitForText(page, sel.status, status);
}

test('client → Cloudflare → ALB → nginx with the app down: each layer its own status and log', { timeout: 60_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 1280, height: 800 } });
  try {
    await openAt(s.page, '?fault=chain_app_down');
    await sendThroughChain(s.page, '502');
    await waitForCount(s.page, '[data-testid=box-layer]', 2);
    const boxes = await texts(s.page, '[data-testid=box-layer]');
    assert.match(boxes[0], /^Cloudflare/);
    assert.match(boxes[1], /^AWS ALB/);
    for (const b of boxes) assert.ok(b.includes('documented, not verified'), b);
    await waitForText(s.page, '[data-testid=layer-state]', '502, its own page');
    const states = await texts(s.page, '[data-testid=layer-state]');
    assert.deepEqual(states, ['502, its own page', 'relays 502']);
    // The ALB's access line and Cloudflare's Logpush record, each in its own panel.
    await waitForCount(s.page, '[data-testid=layer2-log-line]', 1);
    const alb = (await texts(s.page, '[data-testid=layer2-log-line]')).at(-1);
    assert.match(alb, /^http \S+ app\/my-loadbalancer\/50dc6c495c0c9188 \S+ 10\.0\.2\.15:80 0\.000 \d\.\d{3} 0\.000 502 502 /);
    const cf = JSON.parse((await texts(s.page, '[data-testid=layer1-log-line]')).at(-1));
    assert.equal(cf.EdgeResponseStatus, 502);
    assert.equal(cf.OriginResponseStatus, 502);
    const titles = await texts(s.page, '.log-panel h3');
    assert.ok(titles.some((t) => t.includes('Cloudflare: Logpush http_requests (JSON) (documented, not verified)')), titles.join(' | '));
    assert.ok(titles.some((t) => t.includes('AWS ALB: ALB access log')), titles.join(' | '));
    // nginx still writes its own line behind them.
    assert.ok((await count(s.page, sel.errorLine)) >= 1);
    // Let the topology's replay of the request end (ui::motion: a few seconds of screen time).
    await s.page.waitForTimeout(6000);
    const path = await screenshot(s.page, 'chain-app_down-1280x800');
    assert.ok(statSync(path).size > 1000, `${path} looks empty`);
    console.log(`saved ${path}`);
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('a stopped origin behind Cloudflare is its 521', { timeout: 60_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 1280, height: 800 } });
  try {
    await openAt(s.page, '?fault=chain_origin_refused');
    await sendThroughChain(s.page, '521');
    assert.deepEqual(await texts(s.page, '[data-testid=layer-state]'), ['521, its own page']);
    const cf = JSON.parse((await texts(s.page, '[data-testid=layer1-log-line]')).at(-1));
    assert.equal(cf.EdgeResponseStatus, 521);
    assert.equal(cf.OriginResponseStatus, 0);
    await s.page.waitForTimeout(6000);
    const path = await screenshot(s.page, 'chain-origin_refused-1280x800');
    console.log(`saved ${path}`);
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test("Cloudflare's 523 (its DNS record on a stale address): its page and record, nginx writes nothing, the fix points it back", { timeout: 90_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 1280, height: 800 } });
  try {
    await openAt(s.page, '?fault=chain_origin_unreachable');
    await sendThroughChain(s.page, '523');
    assert.deepEqual(await texts(s.page, '[data-testid=layer-state]'), ['523, its own page']);
    await waitForCount(s.page, '[data-testid=layer1-log-line]', 1);
    const cf = JSON.parse((await texts(s.page, '[data-testid=layer1-log-line]')).at(-1));
    assert.equal(cf.EdgeResponseStatus, 523);
    assert.equal(cf.OriginResponseStatus, 0);
    assert.equal(cf.OriginIP, '');
    // The request never arrived: nginx wrote no line.
    assert.equal(await count(s.page, sel.accessLine), 0);
    assert.equal(await count(s.page, sel.errorLine), 0);
    assert.match(await s.page.locator('[data-testid=fix-detail]').textContent(), /203\.0\.113\.80 to the proxy host's current public address/);
    assert.equal(await s.page.locator('[data-testid=apply-fix]').textContent(), 'Apply the fix: Point the DNS record back at the proxy');
    // The status and the record that wrote it, side by side on the stage (nginx wrote nothing).
    assert.match(await s.page.locator('[data-testid=stage-log-title]').textContent(), /^layer 1 Cloudflare: Logpush http_requests \(JSON\)/);
    assert.match(await s.page.locator('[data-testid=stage-log-line]').textContent(), /"EdgeResponseStatus":523/);
    await s.page.waitForTimeout(6000);
    const path = await screenshot(s.page, 'chain-origin_unreachable-1280x800');
    assert.ok(statSync(path).size > 1000, `${path} looks empty`);
    console.log(`saved ${path}`);
    // The Config tab shows the setting; "Apply the fix" sets it back and the next request gets through.
    await openTab(s.page, 'config');
    assert.equal(await s.page.locator('[data-testid=layer1-origin-record]').inputValue(), 'stale');
    await s.page.click('[data-testid=apply-fix]');
    assert.equal(await s.page.locator('[data-testid=layer1-origin-record]').inputValue(), 'proxy');
    // The stage says what the fix changed (the layer's fix: the scenario has no fault).
    assert.match(await s.page.locator('[data-testid=fixed-note]').textContent(), /^Fixed: Point the DNS record back at the proxy\./);
    await sendRequest(s.page);
    await waitForText(s.page, sel.status, '200');
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test("an ALB without registered targets: its 503 line with target '-', nginx writes nothing, the fix registers the target", { timeout: 90_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 1280, height: 800 } });
  try {
    await openAt(s.page, '?fault=chain_no_targets');
    await sendThroughChain(s.page, '503');
    assert.deepEqual(await texts(s.page, '[data-testid=layer-state]'), ['503, its own page']);
    await waitForCount(s.page, '[data-testid=layer1-log-line]', 1);
    const alb = (await texts(s.page, '[data-testid=layer1-log-line]')).at(-1);
    assert.match(alb, /^http \S+ app\/my-loadbalancer\/50dc6c495c0c9188 \S+ - -1 -1 -1 503 - \d+ 300 "GET http:\/\/\S+:80\/users HTTP\/1\.1"/);
    assert.equal(await count(s.page, sel.accessLine), 0);
    assert.equal(await count(s.page, sel.errorLine), 0);
    assert.equal(await s.page.locator('[data-testid=apply-fix]').textContent(), 'Apply the fix: Register the target');
    await s.page.waitForTimeout(6000);
    const path = await screenshot(s.page, 'chain-no_targets-1280x800');
    assert.ok(statSync(path).size > 1000, `${path} looks empty`);
    console.log(`saved ${path}`);
    await openTab(s.page, 'config');
    assert.equal(await s.page.locator('[data-testid=layer1-targets]').inputValue(), 'none');
    // The Config tab's select puts the target back too.
    await s.page.selectOption('[data-testid=layer1-targets]', 'registered');
    await sendRequest(s.page);
    await waitForText(s.page, sel.status, '200');
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test('the Config tab adds and removes layers; the phone layout stacks them', { timeout: 60_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 360, height: 740 } });
  try {
    await openAt(s.page, '?fault=app_down');
    assert.equal(await count(s.page, '[data-testid=box-layer]'), 0);
    await openTab(s.page, 'config');
    await s.page.click('[data-testid=add-cloudflare]');
    await s.page.click('[data-testid=add-alb]');
    await waitForCount(s.page, '[data-testid=layer-row]', 2);
    await waitForCount(s.page, '[data-testid=box-layer]', 2);
    await sendRequest(s.page);
    await waitForText(s.page, sel.status, '502');
    await waitForText(s.page, '[data-testid=layer-state]', '502, its own page');
    console.log(`saved ${await screenshot(s.page, 'chain-config-360x740')}`);
    await s.page.click('[data-testid=layer1-remove]');
    await waitForCount(s.page, '[data-testid=layer-row]', 1);
    assert.equal(await count(s.page, '[data-testid=box-layer]'), 1);
    assert.match((await texts(s.page, '[data-testid=box-layer]'))[0], /^AWS ALB/);
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});

test("an embed of a chain draws its layers, in the preview and live, with what each did", { timeout: 90_000 }, async () => {
  const s = await newPage(browser, { viewport: { width: 600, height: 400 } });
  try {
    // The preview (start=click: no wasm yet), from the engine's build-time run.
    await openAt(s.page, '?embed=1&start=click&fault=chain_app_down', '[data-testid=embed-preview]');
    const preview = await texts(s.page, '[data-testid=embed-preview] .embed-box.layer');
    assert.equal(preview.length, 2, `${preview}`);
    assert.match(preview[0], /^Cloudflare/);
    assert.match(preview[1], /^AWS ALB/);
    await screenshot(s.page, 'embed-chain-preview-600');
    // Live, after the reader's click: the same layers, and what they did with the request.
    await s.page.locator('[data-testid=embed-start]').click();
    await waitForCount(s.page, '[data-testid=embed-box-layer]', 2);
    await waitForText(s.page, '[data-testid=embed-status]', '502');
    const live = await texts(s.page, '[data-testid=embed-box-layer]');
    assert.match(live[0], /^Cloudflare.*502, its own page/);
    assert.match(live[1], /^AWS ALB.*relays 502/);
    assert.equal((await s.page.locator('[data-testid=embed-layers] .embed-layers-note').textContent()).trim(), 'documented, not verified');
    await screenshot(s.page, 'embed-chain-600');
    assertNoErrors(s);
  } finally {
    await s.close();
  }
});
