// modelmux dashboard: line and bar charts drawn on <canvas> (no library). Colors come from the
// --c-* variables of style.css, read by readPalette().

export const palette = {};
export function readPalette() {
  const css = getComputedStyle(document.documentElement);
  const v = (n) => css.getPropertyValue(n).trim();
  Object.assign(palette, {
    blue: v('--c-blue'), green: v('--c-green'), amber: v('--c-amber'), red: v('--c-red'),
    violet: v('--c-violet'), teal: v('--c-teal'), grid: v('--grid'), muted: v('--muted'),
    text: v('--text'),
  });
}

function prepareCanvas(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  ctx.font = '11px system-ui, sans-serif';
  return { ctx, w, h };
}

function niceCeil(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  const n = v / p;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 2.5 ? 2.5 : n <= 5 ? 5 : 10) * p;
}

function drawEmpty(ctx, w, h, text) {
  ctx.fillStyle = palette.muted;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillText(text, w / 2, h / 2);
}

function fmtAgo(seconds) {
  if (seconds === 0) return 'now';
  if (seconds < 60) return `-${seconds}s`;
  return seconds % 60 ? `-${Math.floor(seconds / 60)}m${seconds % 60}s` : `-${seconds / 60}m`;
}

// series: [{color, points: [[t, v|null], ...]}]; the x axis runs from t1 - windowMs to t1.
export function drawLineChart(canvas, { series, t1, windowMs, yMax, yMin = 0, fmt }) {
  const { ctx, w, h } = prepareCanvas(canvas);
  const pad = { l: 56, r: 10, t: 8, b: 20 };
  const pw = w - pad.l - pad.r;
  const ph = h - pad.t - pad.b;
  const t0 = t1 - windowMs;
  let top = yMax;
  if (top === undefined) {
    let m = 0;
    for (const s of series) for (const [, v] of s.points) if (v != null && v > m) m = v;
    top = niceCeil(m * 1.1);
  }
  const span = top - yMin || 1;
  const x = (t) => pad.l + (pw * (t - t0)) / windowMs;
  const y = (v) => pad.t + ph - (ph * (Math.min(Math.max(v, yMin), top) - yMin)) / span;

  ctx.lineWidth = 1;
  ctx.strokeStyle = palette.grid;
  ctx.fillStyle = palette.muted;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (let i = 0; i <= 4; i++) {
    const v = yMin + (span * i) / 4;
    const yy = Math.round(y(v)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(pad.l, yy);
    ctx.lineTo(w - pad.r, yy);
    ctx.stroke();
    ctx.fillText(fmt(v), pad.l - 6, yy);
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  const step = [10, 15, 30, 60].find((st) => windowMs / 1000 / st <= 6) ?? 60;
  for (let k = 0; k * step * 1000 <= windowMs; k++) {
    const xx = x(t1 - k * step * 1000);
    ctx.fillText(fmtAgo(k * step), Math.max(pad.l + 8, Math.min(xx, w - pad.r - 12)), h - pad.b + 5);
  }

  let points = 0;
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.fillStyle = s.color;
    ctx.lineWidth = 2;
    ctx.lineJoin = 'round';
    let run = [];
    const flush = () => {
      if (run.length === 1) {
        ctx.beginPath();
        ctx.arc(run[0][0], run[0][1], 2.5, 0, 2 * Math.PI);
        ctx.fill();
      } else if (run.length > 1) {
        ctx.beginPath();
        run.forEach(([px, py], i) => (i ? ctx.lineTo(px, py) : ctx.moveTo(px, py)));
        ctx.stroke();
      }
      run = [];
    };
    for (const [t, v] of s.points) {
      if (t < t0) continue;
      if (v == null || !Number.isFinite(v)) {
        flush();
        continue;
      }
      run.push([x(t), y(v)]);
      points++;
    }
    flush();
  }
  if (!points) drawEmpty(ctx, w, h, 'waiting for traffic…');
  canvas.dataset.points = String(points);
}

// bars: [{label, value, text}] drawn as horizontal bars, largest first.
export function drawBarChart(canvas, bars) {
  const { ctx, w, h } = prepareCanvas(canvas);
  canvas.dataset.bars = String(bars.length);
  if (!bars.length) {
    drawEmpty(ctx, w, h, 'no priced requests yet');
    return;
  }
  const rows = bars.slice(0, Math.max(1, Math.floor((h - 8) / 26)));
  const labelW = Math.min(170, w * 0.38);
  const valueW = 76;
  const barW = w - labelW - valueW - 16;
  const max = Math.max(...rows.map((b) => b.value)) || 1;
  const colors = [palette.blue, palette.violet, palette.teal, palette.amber, palette.green, palette.red];
  rows.forEach((b, i) => {
    const yy = 6 + i * 26;
    ctx.fillStyle = palette.text;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    let label = b.label;
    while (label.length > 3 && ctx.measureText(label).width > labelW - 8) label = `${label.slice(0, -2)}…`;
    ctx.fillText(label, 0, yy + 9);
    ctx.fillStyle = colors[i % colors.length];
    const bw = Math.max(2, (barW * b.value) / max);
    ctx.beginPath();
    ctx.roundRect(labelW, yy + 2, bw, 14, 3);
    ctx.fill();
    ctx.fillStyle = palette.muted;
    ctx.fillText(b.text, labelW + bw + 6, yy + 9);
  });
}

export function setLegend(name, entries) {
  const el = document.querySelector(`[data-legend="${name}"]`);
  if (!el) return;
  el.replaceChildren(
    ...entries.map(([label, color]) => {
      const key = document.createElement('span');
      key.className = 'key';
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = color;
      key.append(sw, label);
      return key;
    }),
  );
}
