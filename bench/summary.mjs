#!/usr/bin/env node
// Summary table and target checks of one bench/run.sh run, as markdown for docs/BENCHMARKS.md.
//   node bench/summary.mjs --dir OUTDIR [--rss-kb N]
// Reads OUTDIR/{direct,floor,gateway,portkey}.tsv (load.sh format). "added" = candidate minus
// direct upstream, per (mode, conns); the targets are the Foundation issue's:
//   added p50 at 16 conns <= 2 x the floor's; throughput at 64 conns >= 60 % of the floor's;
//   peak RSS <= 40 MB (MiB).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const kP50Factor = 2;
const kRpsShare = 0.6;
const kRssLimitKb = 40 * 1024;

const args = process.argv.slice(2);
const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const dir = opt('--dir');
if (!dir) {
  console.error('usage: node bench/summary.mjs --dir OUTDIR [--rss-kb N]');
  process.exit(2);
}
const rssKb = Number(opt('--rss-kb') ?? 0);

function load(name) {
  const f = path.join(dir, `${name}.tsv`);
  if (!existsSync(f)) return undefined;
  const [head, ...rows] = readFileSync(f, 'utf8').trim().split('\n').map((l) => l.split('\t'));
  return new Map(rows.map((r) => {
    const o = Object.fromEntries(head.map((h, i) => [h, r[i]]));
    return [`${o.mode}/${o.conns}`, o];
  }));
}

const direct = load('direct');
const floor = load('floor');
const gateway = load('gateway');
const portkey = load('portkey');
if (!direct || !floor || !gateway) {
  console.error(`bench/summary.mjs: ${dir} lacks direct.tsv, floor.tsv or gateway.tsv`);
  process.exit(1);
}

const added = (cand, key) => Number(cand.get(key).p50_ms) - Number(direct.get(key).p50_ms);
const rps = (cand, key) => Number(cand.get(key).rps);
const ms = (x) => (x >= 0 ? '+' : '') + x.toFixed(2);
const krps = (x) => `${(x / 1000).toFixed(1)}k`;

const lines = [];
lines.push('| mode | conns | direct p50 ms / rps | floor: added p50 / rps | modelmux: added p50 / rps | modelmux vs floor: added p50 x / rps % |'
  + (portkey ? ' Portkey: added p50 / rps |' : ''));
lines.push(`|---|---|---|---|---|---|${portkey ? '---|' : ''}`);
const targets = [];
for (const key of gateway.keys()) {
  if (!direct.has(key) || !floor.has(key)) continue;
  const [mode, conns] = key.split('/');
  const fAdd = added(floor, key);
  const gAdd = added(gateway, key);
  const ratio = fAdd > 0 ? gAdd / fAdd : NaN;
  const share = rps(gateway, key) / rps(floor, key);
  let row = `| ${mode} | ${conns} | ${Number(direct.get(key).p50_ms).toFixed(2)} / ${krps(rps(direct, key))} `
    + `| ${ms(fAdd)} / ${krps(rps(floor, key))} | ${ms(gAdd)} / ${krps(rps(gateway, key))} `
    + `| ${Number.isFinite(ratio) ? ratio.toFixed(2) : 'n/a'} / ${(100 * share).toFixed(0)} % |`;
  if (portkey) {
    row += portkey.has(key) ? ` ${ms(added(portkey, key))} / ${krps(rps(portkey, key))} |` : ' - |';
  }
  lines.push(row);
  const errs = Number(gateway.get(key).errors) + Number(gateway.get(key).non2xx);
  if (errs > 0) targets.push([`no errors (${mode}, ${conns} conns)`, `${errs} errors or non-2xx`, false]);
  if (conns === '16') {
    targets.push([`added p50 at 16 conns (${mode}) <= ${kP50Factor} x floor's`,
      `${ms(gAdd)} ms vs floor ${ms(fAdd)} ms`, fAdd > 0 ? gAdd <= kP50Factor * fAdd : gAdd <= 0]);
  }
  if (conns === '64') {
    targets.push([`throughput at 64 conns (${mode}) >= ${100 * kRpsShare} % of floor's`,
      `${krps(rps(gateway, key))} vs ${krps(rps(floor, key))} rps (${(100 * share).toFixed(0)} %)`,
      share >= kRpsShare]);
  }
}
if (rssKb > 0) {
  targets.push(['peak RSS (VmHWM) <= 40 MB', `${(rssKb / 1024).toFixed(1)} MB`, rssKb <= kRssLimitKb]);
}

lines.push('');
lines.push('| target | measured | result |');
lines.push('|---|---|---|');
for (const [name, value, ok] of targets) lines.push(`| ${name} | ${value} | ${ok ? 'pass' : '**FAIL**'} |`);
console.log(lines.join('\n'));
