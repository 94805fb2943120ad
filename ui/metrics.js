// modelmux dashboard: the Prometheus text format, the figures the page shows, and histogram
// quantiles. Pure functions (no DOM): the e2e test imports them too.

export function parseNumber(s) {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  return s === undefined || s === '' ? NaN : Number(s);
}

// The label set of `line` from `i` (just past '{'): [labels, index past '}'] or null if malformed.
function parseLabels(line, i) {
  const labels = {};
  for (;;) {
    while (line[i] === ' ' || line[i] === ',') i++;
    if (i >= line.length) return null;
    if (line[i] === '}') return [labels, i + 1];
    const eq = line.indexOf('=', i);
    if (eq < 0 || line[eq + 1] !== '"') return null;
    const key = line.slice(i, eq).trim();
    let value = '';
    i = eq + 2;
    while (i < line.length && line[i] !== '"') {
      if (line[i] === '\\' && i + 1 < line.length) {
        const c = line[i + 1];
        value += c === 'n' ? '\n' : c;
        i += 2;
      } else {
        value += line[i++];
      }
    }
    if (i >= line.length) return null;
    labels[key] = value;
    i++;
  }
}

// [{name, labels, value}] for every sample line; comments, blank and malformed lines are skipped.
export function parsePrometheus(text) {
  const out = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line[0] === '#') continue;
    let i = 0;
    while (i < line.length && /[A-Za-z0-9_:]/.test(line[i])) i++;
    const name = line.slice(0, i);
    if (!name) continue;
    let labels = {};
    if (line[i] === '{') {
      const parsed = parseLabels(line, i + 1);
      if (!parsed) continue;
      [labels, i] = parsed;
    }
    const value = parseNumber(line.slice(i).trim().split(/\s+/)[0]);
    if (Number.isNaN(value)) continue;
    out.push({ name, labels, value });
  }
  return out;
}

// The figures the dashboard shows, summed over label sets, from parsed samples.
export function summarize(samples) {
  const s = {
    requests: 0, failed: 0, buckets: [], latencyCount: 0, latencySum: 0,
    tokens: {}, cost: {}, cache: {}, inFlight: 0,
  };
  const buckets = new Map();
  const add = (obj, key, v) => { obj[key] = (obj[key] ?? 0) + v; };
  for (const { name, labels, value } of samples) {
    switch (name) {
      case 'modelmux_requests_total':
        s.requests += value;
        if (Number(labels.status) >= 400) s.failed += value;
        break;
      case 'modelmux_request_duration_seconds_bucket': {
        const le = parseNumber(labels.le);
        buckets.set(le, (buckets.get(le) ?? 0) + value);
        break;
      }
      case 'modelmux_request_duration_seconds_count': s.latencyCount += value; break;
      case 'modelmux_request_duration_seconds_sum': s.latencySum += value; break;
      case 'modelmux_tokens_total': add(s.tokens, labels.kind ?? 'other', value); break;
      case 'modelmux_cost_total': {
        const cur = labels.currency || 'USD';
        s.cost[cur] ??= {};
        add(s.cost[cur], labels.model || 'unknown', value);
        break;
      }
      case 'modelmux_cache_requests_total': add(s.cache, labels.result ?? 'other', value); break;
      case 'modelmux_requests_in_flight': s.inFlight += value; break;
      default: break;
    }
  }
  s.buckets = [...buckets].sort((a, b) => a[0] - b[0]).map(([le, c]) => ({ le, c }));
  return s;
}

function subtractMap(a, b) {
  const out = {};
  for (const [k, v] of Object.entries(a)) out[k] = Math.max(0, v - (b?.[k] ?? 0));
  return out;
}

// What happened between two summaries (counters subtracted). A gateway restart (a counter that
// went down) makes the whole later summary the difference, as Prometheus' rate() does.
export function delta(cur, prev) {
  if (!prev || cur.requests < prev.requests) return cur;
  const prevBuckets = new Map(prev.buckets.map((b) => [b.le, b.c]));
  const cost = {};
  for (const [cur_, models] of Object.entries(cur.cost)) cost[cur_] = subtractMap(models, prev.cost[cur_]);
  return {
    requests: cur.requests - prev.requests,
    failed: Math.max(0, cur.failed - prev.failed),
    buckets: cur.buckets.map(({ le, c }) => ({ le, c: Math.max(0, c - (prevBuckets.get(le) ?? 0)) })),
    latencyCount: Math.max(0, cur.latencyCount - prev.latencyCount),
    latencySum: Math.max(0, cur.latencySum - prev.latencySum),
    tokens: subtractMap(cur.tokens, prev.tokens),
    cost,
    cache: subtractMap(cur.cache, prev.cache),
    inFlight: cur.inFlight,
  };
}

// The q-quantile (0..1) of a histogram from its cumulative buckets [{le, c}] (ascending, +Inf
// last), interpolated linearly inside the bucket as Prometheus' histogram_quantile() does.
// null when the histogram is empty.
export function quantile(q, buckets) {
  if (!buckets.length) return null;
  const total = buckets[buckets.length - 1].c;
  if (!(total > 0)) return null;
  const rank = q * total;
  let lowerLe = 0;
  let lowerC = 0;
  for (const { le, c } of buckets) {
    if (c >= rank) {
      if (le === Infinity) return lowerLe; // past the largest bound: report that bound
      if (c === lowerC) return le;
      return lowerLe + ((le - lowerLe) * (rank - lowerC)) / (c - lowerC);
    }
    lowerLe = le;
    lowerC = c;
  }
  return lowerLe;
}
