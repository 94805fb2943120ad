// Shared helpers of the e2e tests: the pinned npm packages, and modelmux processes started on
// port 0 in a clean environment, stopped by pid.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

// The SDKs come from the folder the `e2e_npm_install` ctest fixture fills
// (MODELMUX_NODE_MODULES), or from tests/e2e/node_modules after a local `npm ci`.
export function requirePackage(name) {
  const dir = process.env.MODELMUX_NODE_MODULES;
  const from = dir ? path.join(path.dirname(dir), 'package.json') : import.meta.url;
  return createRequire(from)(name);
}

export function modelmuxBin() {
  const bin = process.env.MODELMUX_BIN;
  if (!bin) throw new Error('MODELMUX_BIN is not set (run through ctest, or export it)');
  return bin;
}

const kListening = /^listening on (.+):(\d+)\s*$/;

function baseUrlOf(host, port) {
  let h = host;
  if (h === '0.0.0.0') h = '127.0.0.1';
  if (h.includes(':') && !h.startsWith('[')) h = `[${h}]`;
  return `http://${h}:${port}`;
}

// Starts `modelmux ARGS...` with only PATH and HOME from this environment (no provider keys),
// MODELMUX_DATA_DIR set to a fresh temporary folder, plus `env`. Resolves once it printed
// `listening on HOST:PORT`; rejects with the stderr tail when it exits first or times out.
export async function startModelmux(args, { env = {}, timeoutMs = 20000 } = {}) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'modelmux-e2e-'));
  const child = spawn(modelmuxBin(), args, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, MODELMUX_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr = [];
  const stdout = [];
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    stderr.push(...d.split('\n'));
    if (stderr.length > 200) stderr.splice(0, stderr.length - 200);
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const describe = () =>
    `${modelmuxBin()} ${args.join(' ')} (pid ${child.pid})\n--- stderr tail:\n${stderr.slice(-40).join('\n')}`;

  const proc = {
    child,
    pid: child.pid,
    stdout,
    describe,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };

  try {
    const { host, port } = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no "listening on" line within ${timeoutMs} ms: ${describe()}`)),
        timeoutMs,
      );
      readline.createInterface({ input: child.stdout }).on('line', (line) => {
        stdout.push(line);
        const m = kListening.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve({ host: m[1].replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) });
        }
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`exited (code ${code}, signal ${signal}) before listening: ${describe()}`));
      });
    });
    proc.host = host;
    proc.port = port;
    proc.baseUrl = baseUrlOf(host, port);
    return proc;
  } catch (e) {
    await proc.stop();
    throw e;
  }
}

// fetch with a deadline, for talking to the simulator directly.
export async function fetchJson(url, { method = 'GET', headers = {}, body, timeoutMs = 10000 } = {}) {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}
