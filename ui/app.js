// modelmux dashboard. Polls GET /admin/stats every 2 s with the admin key, parses the Prometheus
// text it carries, and draws tiles, charts (on <canvas>) and the latest errors. No framework and
// nothing from another origin: the gateway serves every byte (CSP default-src 'self').
// The pure parts are in metrics.js, the drawing in charts.js.

import { drawBarChart, drawLineChart, palette, readPalette, setLegend } from './charts.js';
import { delta, parsePrometheus, quantile, summarize } from './metrics.js';

const kPollMs = 2000;
const kWindowMs = 5 * 60 * 1000; // what the charts show
const kRateWindowMs = 10 * 1000; // requests/s and tokens/s tiles
const kRatioWindowMs = 60 * 1000; // success rate, latency and cache tiles
const kKeyStore = 'modelmux.adminKey';
const kErrorRows = 12; // rows of the error table

// ---- formatting -----------------------------------------------------------------------------

const sum = (obj) => Object.values(obj).reduce((a, b) => a + b, 0);

function fmtNumber(v, digits = 1) {
  if (v == null || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(digits)}G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(digits)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(digits)}k`;
  if (a >= 100 || Number.isInteger(v)) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(a >= 10 ? 1 : 2);
}

// Axis labels: at most 3 significant digits, no trailing zeros.
const fmtAxis = (v) => (Math.abs(v) >= 1000 ? fmtNumber(v) : String(Number(v.toPrecision(3))));

function fmtSeconds(s) {
  if (s == null || !Number.isFinite(s)) return '—';
  if (s < 0.001) return `${(s * 1000).toFixed(2)} ms`;
  if (s < 1) return `${(s * 1000).toFixed(s < 0.01 ? 1 : 0)} ms`;
  return `${s.toFixed(s < 10 ? 2 : 1)} s`;
}

function fmtPercent(v) {
  if (v == null || !Number.isFinite(v)) return '—';
  return v >= 99.95 || v === 0 ? `${v.toFixed(0)}%` : `${v.toFixed(1)}%`;
}

const kCurrencySymbol = { USD: '$', CNY: '¥' };

function fmtMoney(v, currency) {
  const sym = kCurrencySymbol[currency];
  let n;
  if (v === 0) n = '0';
  else if (v < 0.01) n = v.toPrecision(2);
  else if (v < 100) n = v.toFixed(v < 1 ? 4 : 2);
  else n = Math.round(v).toLocaleString('en-US');
  return sym ? `${sym}${n}` : `${n} ${currency}`;
}

function fmtUptime(s) {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${Math.floor(s % 60)}s`;
  return `${Math.floor(s)}s`;
}

const fmtClock = (ms) => new Date(ms).toLocaleTimeString('en-GB', { hour12: false });

// ---- state and rendering --------------------------------------------------------------------

const state = { key: null, samples: [], timer: null, last: null, polling: false };
const $ = (sel) => document.querySelector(sel);

// The difference between the latest sample and the oldest one within `ms` before it (or null).
function windowDelta(ms) {
  const n = state.samples.length;
  if (n < 2) return null;
  const last = state.samples[n - 1];
  let from = null;
  for (let i = n - 2; i >= 0; i--) {
    if (last.t - state.samples[i].t > ms + kPollMs / 2) break;
    from = state.samples[i];
  }
  if (!from) return null;
  return { d: delta(last.sum, from.sum), seconds: (last.t - from.t) / 1000 };
}

function setTile(id, value, text, sub, tone) {
  const el = document.querySelector(`[data-tile="${id}"]`);
  el.dataset.value = value == null || !Number.isFinite(value) ? '' : String(value);
  el.querySelector('.value').textContent = text;
  el.querySelector('.sub').textContent = sub ?? '';
  el.classList.remove('good', 'warn', 'bad');
  if (tone) el.classList.add(tone);
  return el;
}

function renderTiles(stats) {
  const cur = state.samples[state.samples.length - 1].sum;
  const rate = windowDelta(kRateWindowMs);
  const ratio = windowDelta(kRatioWindowMs);
  // Ratios over the last minute when it saw requests, else since the gateway started.
  const recent = ratio && ratio.d.requests > 0;
  const base = recent ? ratio.d : cur;
  const scope = recent ? 'last 60 s' : 'since start';

  const rps = rate ? rate.d.requests / rate.seconds : null;
  setTile('rps', rps, rps == null ? '—' : fmtNumber(rps), `${fmtNumber(cur.requests)} requests in total`);

  const success = base.requests > 0 ? (100 * (base.requests - base.failed)) / base.requests : null;
  setTile('success', success, fmtPercent(success),
    base.requests > 0 ? `${fmtNumber(base.failed)} of ${fmtNumber(base.requests)} failed, ${scope}` : 'no requests yet',
    success == null ? null : success >= 99 ? 'good' : success >= 90 ? 'warn' : 'bad');

  const lat = recent ? ratio.d.buckets : cur.buckets;
  const [p50, p95, p99] = [0.5, 0.95, 0.99].map((q) => quantile(q, lat));
  const tile = setTile('latency', p95 == null ? null : p95 * 1000, fmtSeconds(p95),
    p95 == null ? 'no requests yet' : `p50 ${fmtSeconds(p50)} · p99 ${fmtSeconds(p99)} · ${scope}`);
  tile.dataset.p50 = p50 == null ? '' : String(p50 * 1000);
  tile.dataset.p99 = p99 == null ? '' : String(p99 * 1000);

  const tps = rate ? ((rate.d.tokens.prompt ?? 0) + (rate.d.tokens.completion ?? 0)) / rate.seconds : null;
  const tokensTotal = (cur.tokens.prompt ?? 0) + (cur.tokens.completion ?? 0);
  setTile('tps', tps, tps == null ? '—' : fmtNumber(tps), `${fmtNumber(tokensTotal)} tokens in total`);

  const currencies = Object.keys(cur.cost).sort((a, b) => (a === 'USD' ? -1 : b === 'USD' ? 1 : a.localeCompare(b)));
  const spendText = currencies.map((c) => fmtMoney(sum(cur.cost[c]), c)).join(' · ');
  const models = new Set(currencies.flatMap((c) => Object.keys(cur.cost[c])));
  setTile('spend', currencies.length ? sum(cur.cost[currencies[0]]) : null, spendText || '—',
    currencies.length ? `${models.size} model${models.size === 1 ? '' : 's'} priced, since start` : 'no priced requests yet');

  const cache = recent ? ratio.d.cache : cur.cache;
  const lookups = (cache.hit ?? 0) + (cache.miss ?? 0);
  const hitRate = lookups > 0 ? (100 * (cache.hit ?? 0)) / lookups : null;
  setTile('cache', hitRate, fmtPercent(hitRate),
    lookups > 0 ? `${fmtNumber(cache.hit ?? 0)} hits of ${fmtNumber(lookups)} lookups, ${scope}` : 'no cacheable requests');

  setTile('inflight', cur.inFlight, fmtNumber(cur.inFlight), 'requests being handled now');
  setTile('errors', stats.errors_total, fmtNumber(stats.errors_total),
    stats.errors_total ? `latest: ${stats.errors[0]?.code || stats.errors[0]?.status || '?'}` : 'none since start',
    stats.errors_total ? 'bad' : null);
}

// One point per pair of successive samples.
function buildSeries() {
  const out = { ok: [], failed: [], success: [], p50: [], p95: [], p99: [], prompt: [], completion: [], cache: [] };
  for (let i = 1; i < state.samples.length; i++) {
    const a = state.samples[i - 1];
    const b = state.samples[i];
    const dt = (b.t - a.t) / 1000;
    if (dt <= 0) continue;
    const d = delta(b.sum, a.sum);
    const t = b.t;
    out.ok.push([t, (d.requests - d.failed) / dt]);
    out.failed.push([t, d.failed / dt]);
    out.success.push([t, d.requests > 0 ? (100 * (d.requests - d.failed)) / d.requests : null]);
    for (const [name, q] of [['p50', 0.5], ['p95', 0.95], ['p99', 0.99]]) {
      const v = quantile(q, d.buckets);
      out[name].push([t, v == null ? null : v * 1000]);
    }
    out.prompt.push([t, (d.tokens.prompt ?? 0) / dt]);
    out.completion.push([t, (d.tokens.completion ?? 0) / dt]);
    const lookups = (d.cache.hit ?? 0) + (d.cache.miss ?? 0);
    out.cache.push([t, lookups > 0 ? (100 * (d.cache.hit ?? 0)) / lookups : null]);
  }
  return out;
}

function renderCharts() {
  if (!state.samples.length) return;
  const t1 = state.samples[state.samples.length - 1].t;
  // Up to 5 minutes: a page opened a moment ago shows its first minute across the whole width.
  const seen = t1 - state.samples[0].t;
  const windowMs = Math.min(kWindowMs, Math.max(60000, Math.ceil(seen / 60000) * 60000));
  const s = buildSeries();
  // Success rate: zoom in on the top of the scale while it stays high.
  const worst = Math.min(100, ...s.success.filter(([, v]) => v != null).map(([, v]) => v));
  const successFloor = worst >= 90 ? 80 : worst >= 60 ? 60 : 0;
  const chart = (name) => document.querySelector(`canvas[data-chart="${name}"]`);
  const ms = (v) => (v >= 1000 ? `${fmtAxis(v / 1000)} s` : `${fmtAxis(v)} ms`);

  setLegend('rps', [['ok', palette.blue], ['failed', palette.red]]);
  drawLineChart(chart('rps'), {
    t1, windowMs, fmt: fmtAxis,
    series: [{ color: palette.blue, points: s.ok }, { color: palette.red, points: s.failed }],
  });
  setLegend('success', [['success %', palette.green]]);
  drawLineChart(chart('success'), {
    t1, windowMs, yMax: 100, yMin: successFloor, fmt: (v) => `${v.toFixed(0)}%`,
    series: [{ color: palette.green, points: s.success }],
  });
  setLegend('latency', [['p50', palette.teal], ['p95', palette.amber], ['p99', palette.red]]);
  drawLineChart(chart('latency'), {
    t1, windowMs, fmt: ms,
    series: [
      { color: palette.teal, points: s.p50 },
      { color: palette.amber, points: s.p95 },
      { color: palette.red, points: s.p99 },
    ],
  });
  setLegend('tps', [['prompt', palette.violet], ['completion', palette.blue]]);
  drawLineChart(chart('tps'), {
    t1, windowMs, fmt: fmtAxis,
    series: [{ color: palette.violet, points: s.prompt }, { color: palette.blue, points: s.completion }],
  });
  setLegend('cache', [['hit %', palette.teal]]);
  drawLineChart(chart('cache'), {
    t1, windowMs, yMax: 100, fmt: (v) => `${v.toFixed(0)}%`, series: [{ color: palette.teal, points: s.cache }],
  });

  const cur = state.samples[state.samples.length - 1].sum;
  const bars = [];
  for (const [currency, models] of Object.entries(cur.cost)) {
    for (const [model, value] of Object.entries(models)) {
      if (value > 0) bars.push({ label: model, value, text: fmtMoney(value, currency) });
    }
  }
  bars.sort((a, b) => b.value - a.value);
  drawBarChart(chart('spend'), bars);
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  td.title = text;
  return td;
}

function renderErrors(stats) {
  const body = $('#errors tbody');
  const shown = stats.errors.slice(0, kErrorRows);
  const rows = shown.map((e) => {
    const tr = document.createElement('tr');
    tr.dataset.requestId = e.request_id;
    const status = document.createElement('td');
    const badge = document.createElement('span');
    badge.className = `status s${String(e.status)[0]}`;
    badge.textContent = String(e.status);
    status.append(badge);
    tr.append(
      cell(fmtClock(e.time_ms)), cell(e.request_id, 'id'), cell(e.model || '—'),
      cell(e.provider || '—'), status, cell(e.code || '—', 'code'), cell(e.message || '', 'msg'),
    );
    return tr;
  });
  if (!rows.length) {
    const tr = document.createElement('tr');
    const td = cell('No failed requests since the gateway started.', 'empty');
    td.colSpan = 7;
    tr.append(td);
    rows.push(tr);
  }
  body.replaceChildren(...rows);
  $('#errors-note').textContent = stats.errors_total > shown.length
    ? `newest ${shown.length} of ${fmtNumber(stats.errors_total)} (GET /admin/errors has up to 100)`
    : '';
}

function render(stats) {
  $('#version').textContent = `v${stats.version}`;
  $('#uptime').textContent = fmtUptime(stats.uptime_s);
  renderTiles(stats);
  renderCharts();
  renderErrors(stats);
  document.body.dataset.samples = String(state.samples.length);
}

// ---- access and polling ---------------------------------------------------------------------

function show(which) {
  document.body.dataset.state = which;
  $('#login').hidden = which !== 'login';
  $('#dash').hidden = which !== 'dashboard';
  $('#meta').hidden = which !== 'dashboard';
}

function showLogin(message, { form = true } = {}) {
  clearTimeout(state.timer);
  state.samples = [];
  show('login');
  const err = $('#login-error');
  err.hidden = !message;
  err.textContent = message ?? '';
  $('#login-form').classList.toggle('no-form', !form);
  for (const el of ['#key', '#login-submit']) $(el).hidden = !form;
  if (form) {
    $('#key').value = '';
    $('#key').focus();
  }
}

function setLive(ok, text) {
  const live = $('#live');
  live.classList.toggle('ok', ok);
  live.classList.toggle('down', !ok);
  $('#live-text').textContent = text;
}

async function fetchStats(key) {
  const headers = key ? { authorization: `Bearer ${key}` } : {};
  const res = await fetch('/admin/stats', { headers, cache: 'no-store', signal: AbortSignal.timeout(8000) });
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  return { status: res.status, body };
}

function explainRefusal(status, body, key) {
  const code = body?.error?.code ?? body?.error?.type ?? '';
  if (status === 403 && code === 'admin_loopback_only') {
    return 'This gateway has no master key, so its admin data answers callers on the same host only. '
      + 'Open the dashboard from the gateway host (for example through an SSH tunnel), or set MODELMUX_MASTER_KEY.';
  }
  if (!key) return null;
  return `The gateway refused this key (${status}${code ? ` ${code}` : ''}). Enter the master key (MODELMUX_MASTER_KEY).`;
}

async function poll() {
  if (state.polling) return;
  state.polling = true;
  clearTimeout(state.timer);
  try {
    const { status, body } = await fetchStats(state.key);
    if (status === 401 || status === 403) {
      const key = state.key;
      state.key = null;
      sessionStorage.removeItem(kKeyStore);
      showLogin(explainRefusal(status, body, key), { form: status === 401 });
      return;
    }
    if (status !== 200 || !body || typeof body.metrics !== 'string') {
      throw new Error(`HTTP ${status}`);
    }
    if (state.key) sessionStorage.setItem(kKeyStore, state.key);
    if (document.body.dataset.state !== 'dashboard') show('dashboard');
    const sum_ = summarize(parsePrometheus(body.metrics));
    const prev = state.samples[state.samples.length - 1];
    if (!prev || body.now_ms > prev.t) state.samples.push({ t: body.now_ms, sum: sum_ });
    while (state.samples.length > 2 && body.now_ms - state.samples[0].t > kWindowMs + 10000) state.samples.shift();
    state.last = body;
    $('#banner').hidden = true;
    setLive(true, `live · ${fmtClock(Date.now())}`);
    render(body);
    state.timer = setTimeout(poll, kPollMs);
  } catch (e) {
    setLive(false, 'reconnecting');
    if (document.body.dataset.state === 'dashboard') {
      $('#banner').hidden = false;
      $('#banner').textContent = `Cannot reach the gateway (${e.message || e}); retrying every 2 s.`;
    } else {
      show('login');
      const err = $('#login-error');
      err.hidden = false;
      err.textContent = `Cannot reach the gateway (${e.message || e}); retrying every 2 s.`;
    }
    state.timer = setTimeout(poll, kPollMs);
  } finally {
    state.polling = false;
  }
}

function boot() {
  readPalette();
  state.key = sessionStorage.getItem(kKeyStore);
  $('#login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const key = $('#key').value.trim();
    if (!key) return;
    state.key = key;
    $('#login-error').hidden = true;
    poll();
  });
  $('#sign-out').addEventListener('click', () => {
    state.key = null;
    sessionStorage.removeItem(kKeyStore);
    showLogin(null);
  });
  window.addEventListener('resize', () => state.last && renderCharts());
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
    readPalette();
    if (state.last) renderCharts();
  });
  // With a stored key, or none (a gateway without a master key answers loopback callers).
  poll();
}

if (typeof document !== 'undefined') boot();
