// The live dashboard at /ui in headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core): the static files and their headers, the admin key gate, the charts and tiles
// after test traffic (successes, cache hits and failures sent through a `modelmux sim` upstream),
// and a screenshot saved for people to look at (<build>/dashboard.png).
//
//   MODELMUX_SCREENSHOT_DIR   where dashboard.png goes (default: the build folder, the parent of
//                             MODELMUX_BIN's folder)
//   MODELMUX_DOCS_SCREENSHOT  1: also copy it to docs/dashboard.png
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { fetchJson, modelmuxBin, requirePackage, startModelmux } from './lib.mjs';

// ui/metrics.js is an ES module for the browser; loaded from its text here because no
// package.json above it says "module".
const kMetricsJs = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'ui', 'metrics.js');
const { parsePrometheus, quantile, summarize, delta } = await import(
  `data:text/javascript,${encodeURIComponent(readFileSync(kMetricsJs, 'utf8'))}`);

const kChromium = '/usr/bin/chromium';
const kKey = 'mk-dashboard-e2e-0123';
const kTimeout = { timeout: 90000 };
const kChromiumArgs = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const kSkip = existsSync(kChromium)
  ? false
  : `${kChromium} is absent: install Debian's chromium (scripts/install-deps.sh does) to run the dashboard test`;
// ctest sets MODELMUX_REQUIRE_CHROMIUM=1 (scripts/install-deps.sh installs chromium): a missing
// browser is then a failure, not a silent skip.
if (kSkip && process.env.MODELMUX_REQUIRE_CHROMIUM === '1') {
  test('chromium is installed (MODELMUX_REQUIRE_CHROMIUM=1)', () => assert.fail(kSkip));
} else if (kSkip) {
  console.log(`# SKIP dashboard: ${kSkip}`);
}

function screenshotPath() {
  const dir = process.env.MODELMUX_SCREENSHOT_DIR || path.dirname(path.dirname(modelmuxBin()));
  mkdirSync(dir, { recursive: true });
  return path.join(dir, 'dashboard.png');
}

// The page's own parser and quantile, on inputs whose answers are worked out by hand.
describe('dashboard maths (ui/metrics.js)', () => {
  test('parses the Prometheus text format', () => {
    const text = [
      '# HELP modelmux_requests_total Requests.',
      '# TYPE modelmux_requests_total counter',
      'modelmux_requests_total{model="a\\"b",provider="openai",status="200"} 7',
      'modelmux_requests_total{model="x, y",provider="",status="503"} 2',
      'modelmux_requests_in_flight 1',
      'broken{model="unterminated} 5',
      '',
    ].join('\n');
    const samples = parsePrometheus(text);
    assert.equal(samples.length, 3);
    assert.deepEqual(samples[0], {
      name: 'modelmux_requests_total', labels: { model: 'a"b', provider: 'openai', status: '200' }, value: 7,
    });
    assert.equal(samples[1].labels.model, 'x, y');
    assert.equal(samples[2].value, 1);
    const s = summarize(samples);
    assert.equal(s.requests, 9);
    assert.equal(s.failed, 2);
    assert.equal(s.inFlight, 1);
  });

  test('quantiles interpolate inside a bucket like histogram_quantile()', () => {
    // 10 observations: 4 <= 0.1 s, 4 more <= 0.5 s, 2 more <= 1 s.
    const b = [{ le: 0.1, c: 4 }, { le: 0.5, c: 8 }, { le: 1, c: 10 }, { le: Infinity, c: 10 }];
    const near = (got, want) => assert.ok(Math.abs(got - want) < 1e-12, `${got} != ${want}`);
    near(quantile(0.2, b), 0.05); // rank 2: 2 of 4 in [0, 0.1]
    near(quantile(0.5, b), 0.2); // rank 5: 1 of 4 in (0.1, 0.5] -> 0.1 + 0.4 / 4
    near(quantile(0.9, b), 0.75); // rank 9: 1 of 2 in (0.5, 1]
    assert.equal(quantile(0.5, [{ le: 1, c: 0 }, { le: Infinity, c: 0 }]), null);
    assert.equal(quantile(0.99, [{ le: 1, c: 1 }, { le: Infinity, c: 5 }]), 1); // past the last bound
  });

  test('deltas between scrapes, and a restart', () => {
    const scrape = (ok, bad, le1) => summarize(parsePrometheus([
      `modelmux_requests_total{status="200"} ${ok}`,
      `modelmux_requests_total{status="429"} ${bad}`,
      `modelmux_request_duration_seconds_bucket{le="1"} ${le1}`,
      `modelmux_request_duration_seconds_bucket{le="+Inf"} ${ok + bad}`,
    ].join('\n')));
    const d = delta(scrape(10, 4, 12), scrape(6, 1, 5));
    assert.equal(d.requests, 7);
    assert.equal(d.failed, 3);
    assert.deepEqual(d.buckets, [{ le: 1, c: 7 }, { le: Infinity, c: 7 }]);
    assert.equal(delta(scrape(1, 0, 1), scrape(6, 1, 5)).requests, 1); // counters went down
  });
});

describe('dashboard at /ui in headless Chromium', { skip: kSkip }, () => {
  let sim;
  let gateway;
  let context;
  let userDataDir;
  let traffic = 0;

  before(async () => {
    sim = await startModelmux(['sim', '--port', '0', '--latency-ms', '15']);
    gateway = await startModelmux(['serve', '--host', '127.0.0.1', '--port', '0'], {
      env: { OPENAI_BASE_URL: `${sim.baseUrl}/v1`, OPENAI_API_KEY: 'sk-sim', MODELMUX_MASTER_KEY: kKey },
    });
    const { chromium } = requirePackage('playwright-core');
    userDataDir = mkdtempSync(path.join(tmpdir(), 'modelmux-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: kChromium,
      headless: true,
      args: kChromiumArgs,
      viewport: { width: 1440, height: 1000 },
      deviceScaleFactor: 1,
      timeout: 30000,
    });
  });
  after(async () => {
    await context?.close();
    await Promise.all([gateway?.stop(), sim?.stop()]);
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  // One round of traffic: priced successes on two models, a cache miss and hits, a stream, and
  // failures whose request ids the test looks for in the error table.
  async function sendTraffic(round) {
    const chat = (body, headers = {}) => fetchJson(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${kKey}`, ...headers },
      body: { messages: [{ role: 'user', content: `dashboard traffic round ${round}: hello there` }], ...body },
      timeoutMs: 20000,
    });
    const results = await Promise.all([
      chat({ model: 'openai/gpt-4o-mini' }),
      chat({ model: 'openai/gpt-4o-mini' }),
      chat({ model: 'openai/gpt-4.1', max_tokens: 64 }),
      chat({ model: 'openai/gpt-4o-mini', temperature: 0, messages: [{ role: 'user', content: 'cached question' }] }),
      chat({ model: 'openai/gpt-4o-mini', stream: true, stream_options: { include_usage: true } }),
      chat({ model: 'openai/gpt-4o-mini' }, { 'x-sim-status': '400', 'x-request-id': `dash-fail-${round}` }),
    ]);
    traffic += 1;
    return results;
  }

  test('static files are public, carry CSP and ETag, and revalidate', kTimeout, async () => {
    const page = await fetch(`${gateway.baseUrl}/ui`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /^text\/html/);
    assert.equal(page.headers.get('content-security-policy'), "default-src 'self'");
    const etag = page.headers.get('etag');
    assert.match(etag, /^"[0-9a-f]{16}"$/);
    assert.match(await page.text(), /<canvas data-chart="latency">/);
    const again = await fetch(`${gateway.baseUrl}/ui/`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    const js = await fetch(`${gateway.baseUrl}/ui/app.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type'), /^text\/javascript/);
    const missing = await fetchJson(`${gateway.baseUrl}/ui/nope.js`);
    assert.equal(missing.status, 404);
  });

  test('the data endpoints need the master key', kTimeout, async () => {
    const none = await fetchJson(`${gateway.baseUrl}/admin/stats`);
    assert.equal(none.status, 401, none.text);
    assert.equal(none.json.error.code, 'invalid_master_key');
    const wrong = await fetchJson(`${gateway.baseUrl}/admin/errors`, { headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401, wrong.text);
    assert.ok(!wrong.text.includes(kKey));
    const ok = await fetchJson(`${gateway.baseUrl}/admin/stats`, { headers: { authorization: `Bearer ${kKey}` } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(typeof ok.json.metrics, 'string');
    assert.match(ok.json.metrics, /modelmux_requests_in_flight/);
    assert.ok(ok.json.uptime_s >= 0);
    const bad = await fetchJson(`${gateway.baseUrl}/admin/errors?limit=0`, { headers: { authorization: `Bearer ${kKey}` } });
    assert.equal(bad.status, 400, bad.text);
  });

  test('a wrong key is refused, the right one shows live charts, errors and a screenshot', kTimeout, async () => {
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/401 \(Unauthorized\)/.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    page.on('requestfailed', (r) => {
      // A poll cut short by the reload below is not a problem.
      if (!/ERR_ABORTED/.test(r.failure()?.errorText ?? '')) problems.push(`request failed: ${r.url()}`);
    });
    const requests = [];
    page.on('request', (r) => requests.push(r.url()));

    await page.goto(`${gateway.baseUrl}/ui`);
    await page.waitForSelector('body[data-state="login"]', { timeout: 15000 });
    assert.equal(await page.isVisible('#key'), true, 'the page asks for the key');

    // A wrong key: a clear message, asked again, nothing kept.
    await page.fill('#key', 'mk-wrong-key');
    await page.click('#login-submit');
    await page.waitForSelector('#login-error:not([hidden])', { timeout: 15000 });
    assert.match(await page.textContent('#login-error'), /refused this key/);
    assert.equal(await page.getAttribute('body', 'data-state'), 'login');
    assert.equal(await page.isVisible('#key'), true);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('modelmux.adminKey')), null);

    // The right key.
    await page.fill('#key', kKey);
    await page.click('#login-submit');
    await page.waitForSelector('body[data-state="dashboard"]', { timeout: 15000 });
    assert.equal(await page.evaluate(() => sessionStorage.getItem('modelmux.adminKey')), kKey);
    assert.match(await page.textContent('#version'), /^v\d+\.\d+\.\d+/);

    // Traffic keeps flowing while the page polls, until every chart and tile shows data.
    let stop = false;
    const pump = (async () => {
      for (let round = 1; !stop; round++) {
        const results = await sendTraffic(round);
        if (round === 1) {
          assert.equal(results[0].status, 200, results[0].text);
          assert.equal(results[5].status, 400, results[5].text);
        }
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    try {
      await page.waitForFunction(() => {
        const tile = (n) => Number(document.querySelector(`[data-tile="${n}"]`)?.dataset.value || 0);
        const points = (n) => Number(document.querySelector(`canvas[data-chart="${n}"]`)?.dataset.points || 0);
        const success = tile('success');
        return tile('rps') > 0 && success > 0 && success < 100 && tile('latency') > 0 && tile('tps') > 0
          && tile('spend') > 0 && tile('cache') > 0 && tile('errors') > 0
          && points('rps') >= 2 && points('latency') >= 1 && points('tps') >= 1 && points('success') >= 1
          && points('cache') >= 1
          && Number(document.querySelector('canvas[data-chart="spend"]')?.dataset.bars || 0) >= 2
          && document.querySelector('#errors tr[data-request-id="dash-fail-1"]') !== null;
      }, null, { timeout: 45000, polling: 250 });
    } catch (e) {
      const tiles = await page.$$eval('[data-tile]', (els) => els.map((el) => `${el.dataset.tile}=${el.dataset.value}`));
      const charts = await page.$$eval('canvas[data-chart]', (els) => els.map((el) => `${el.dataset.chart}=${el.dataset.points ?? el.dataset.bars}`));
      throw new Error(`the dashboard did not show the traffic (${traffic} rounds sent): tiles ${tiles.join(' ')}; charts ${charts.join(' ')}; ${e.message}`);
    } finally {
      stop = true;
      await pump;
    }

    // The failed request's row says what happened.
    const row = await page.$$eval('#errors tr[data-request-id="dash-fail-1"] td', (tds) => tds.map((td) => td.textContent));
    assert.equal(row[1], 'dash-fail-1');
    assert.equal(row[2], 'openai/gpt-4o-mini');
    assert.equal(row[4], '400');
    // The latency tile's percentiles are ordered.
    const lat = await page.$eval('[data-tile="latency"]', (el) => ({ ...el.dataset }));
    assert.ok(Number(lat.p50) <= Number(lat.value) && Number(lat.value) <= Number(lat.p99), JSON.stringify(lat));

    // Let one more poll draw the final numbers, then keep a picture.
    await page.waitForTimeout(2500);
    const shot = screenshotPath();
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 20000, `${shot} looks empty`);
    console.log(`# dashboard screenshot: ${shot}`);
    if (process.env.MODELMUX_DOCS_SCREENSHOT === '1') {
      const docs = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'dashboard.png');
      copyFileSync(shot, docs);
      console.log(`# copied to ${docs}`);
    }

    // The key is kept for the session: a reload goes straight to the dashboard.
    await page.reload();
    await page.waitForSelector('body[data-state="dashboard"]', { timeout: 15000 });
    // Signing out forgets it.
    await page.click('#sign-out');
    await page.waitForSelector('body[data-state="login"]', { timeout: 5000 });
    assert.equal(await page.evaluate(() => sessionStorage.getItem('modelmux.adminKey')), null);

    const origin = new URL(gateway.baseUrl).origin;
    const foreign = requests.filter((u) => !u.startsWith(origin));
    assert.deepEqual(foreign, [], 'the page loads nothing from another origin');
    assert.deepEqual(problems, [], 'no script errors, CSP violations or failed requests');
    await page.close();
  });
});
