// The official openai npm SDK against `modelmux serve`: the built-in simulator (no provider key in
// the environment), and a separate `modelmux sim` as the OpenAI upstream for retry counting.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { fetchJson, requirePackage, startModelmux } from './lib.mjs';

const openai = requirePackage('openai');
const { OpenAI, BadRequestError, RateLimitError } = openai;

const kTestTimeout = { timeout: 60000 };
const kPrompt = 'modelmux e2e: the quick brown fox jumps over the lazy dog.';
const kMessages = [{ role: 'user', content: kPrompt }];

function assertUsageConsistent(usage) {
  assert.ok(usage, 'usage is present');
  assert.ok(Number.isInteger(usage.prompt_tokens) && usage.prompt_tokens > 0, JSON.stringify(usage));
  assert.ok(Number.isInteger(usage.completion_tokens) && usage.completion_tokens > 0, JSON.stringify(usage));
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
}

const counts = (u) => ({ prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, total_tokens: u.total_tokens });

async function collect(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  const text = chunks.map((c) => (c.choices ?? []).map((ch) => ch.delta?.content ?? '').join('')).join('');
  return { chunks, text };
}

describe('gateway on the built-in simulator', () => {
  let gateway;
  let sim;  // a standalone simulator: the reference for the simulator's own error messages
  let client;

  before(async () => {
    [gateway, sim] = await Promise.all([
      startModelmux(['serve', '--host', '127.0.0.1', '--port', '0']),
      startModelmux(['sim', '--port', '0']),
    ]);
    client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'sk-test', timeout: 20000 });
  });
  after(async () => {
    await Promise.all([gateway?.stop(), sim?.stop()]);
  });

  test('non-streaming chat with sim/echo echoes the prompt with consistent usage', kTestTimeout, async () => {
    const r = await client.chat.completions.create({ model: 'sim/echo', messages: kMessages });
    assert.equal(r.object, 'chat.completion');
    assert.equal(r.choices.length, 1);
    assert.equal(r.choices[0].message.role, 'assistant');
    assert.equal(r.choices[0].message.content, kPrompt);
    assert.equal(r.choices[0].finish_reason, 'stop');
    assertUsageConsistent(r.usage);
  });

  test('streaming deltas add up to the non-streaming text, with no usage chunk', kTestTimeout, async () => {
    const whole = await client.chat.completions.create({ model: 'sim/echo', messages: kMessages });
    const stream = await client.chat.completions.create({ model: 'sim/echo', messages: kMessages, stream: true });
    const { chunks, text } = await collect(stream);
    assert.ok(chunks.length >= 2, `expected several chunks, got ${chunks.length}`);
    for (const c of chunks) assert.equal(c.object, 'chat.completion.chunk');
    assert.equal(text, whole.choices[0].message.content);
    assert.equal(chunks.filter((c) => c.usage).length, 0, 'no usage chunk without include_usage');
    assert.ok(chunks.some((c) => c.choices?.[0]?.finish_reason === 'stop'), 'a chunk carries finish_reason');
  });

  test('stream_options.include_usage yields exactly one usage chunk, last, equal to the non-stream usage', kTestTimeout, async () => {
    const whole = await client.chat.completions.create({ model: 'sim/echo', messages: kMessages });
    const stream = await client.chat.completions.create({
      model: 'sim/echo', messages: kMessages, stream: true, stream_options: { include_usage: true },
    });
    const { chunks, text } = await collect(stream);
    assert.equal(text, whole.choices[0].message.content);
    const withUsage = chunks.filter((c) => c.usage);
    assert.equal(withUsage.length, 1, 'exactly one usage chunk');
    const last = chunks[chunks.length - 1];
    assert.equal(withUsage[0], last, 'the usage chunk is the last one');
    assert.deepEqual(last.choices, []);
    assertUsageConsistent(last.usage);
    assert.deepEqual(counts(last.usage), counts(whole.usage));
  });

  test('an upstream 400 reaches the SDK as BadRequestError with the simulator message', kTestTimeout, async () => {
    const direct = await fetchJson(`${sim.baseUrl}/v1/chat/completions`, {
      method: 'POST', headers: { 'x-sim-status': '400' }, body: { model: 'echo', messages: kMessages },
    });
    assert.equal(direct.status, 400, direct.text);
    const simMessage = direct.json?.error?.message;
    assert.ok(typeof simMessage === 'string' && simMessage.length > 0, direct.text);

    await assert.rejects(
      client.chat.completions.create({ model: 'sim/echo', messages: kMessages }, { headers: { 'x-sim-status': '400' } }),
      (err) => {
        assert.ok(err instanceof BadRequestError, `got ${err?.constructor?.name}: ${err?.message}`);
        assert.equal(err.status, 400);
        assert.ok(String(err.error?.message).includes(simMessage),
          `"${err.error?.message}" should contain the simulator's "${simMessage}"`);
        return true;
      },
    );
  });

  test('an upstream 429 reaches the SDK as RateLimitError (no client retries)', kTestTimeout, async () => {
    let attempts = 0;
    const counting = new OpenAI({
      baseURL: `${gateway.baseUrl}/v1`, apiKey: 'sk-test', maxRetries: 0, timeout: 20000,
      fetch: (url, init) => { attempts += 1; return fetch(url, init); },
    });
    await assert.rejects(
      counting.chat.completions.create({ model: 'sim/echo', messages: kMessages },
        { headers: { 'x-sim-status': '429', 'x-sim-retry-after-ms': '10' } }),
      (err) => {
        assert.ok(err instanceof RateLimitError, `got ${err?.constructor?.name}: ${err?.message}`);
        assert.equal(err.status, 429);
        return true;
      },
    );
    assert.equal(attempts, 1);
  });

  test('/v1/models lists sim/echo', kTestTimeout, async () => {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    assert.ok(ids.includes('sim/echo'), `models: ${ids.join(', ')}`);
  });

  test('embeddings.create gets the simulator\'s vectors, float for float, in both encodings', kTestTimeout, async () => {
    const input = ['modelmux e2e embeddings', 'a second text'];
    const direct = await fetchJson(`${sim.baseUrl}/v1/embeddings`, {
      method: 'POST',
      body: { model: 'embed-e2e', input, dimensions: 24 },
    });
    assert.equal(direct.status, 200, direct.text);
    const expected = direct.json.data.map((d) => Array.from(new Float32Array(d.embedding)));
    // The SDK asks for base64 unless told otherwise, and decodes it back to numbers.
    const viaBase64 = await client.embeddings.create({ model: 'sim/embed-e2e', input, dimensions: 24 });
    const viaFloat = await client.embeddings.create({
      model: 'sim/embed-e2e', input, dimensions: 24, encoding_format: 'float',
    });
    for (const r of [viaBase64, viaFloat]) {
      assert.equal(r.object, 'list');
      assert.equal(r.data.length, 2);
      assert.deepEqual(r.data.map((d) => d.index), [0, 1]);
      assert.deepEqual(r.data.map((d) => Array.from(new Float32Array(d.embedding))), expected);
      assert.ok(Number.isInteger(r.usage.prompt_tokens) && r.usage.prompt_tokens > 0, JSON.stringify(r.usage));
      assert.equal(r.usage.total_tokens, r.usage.prompt_tokens);
    }
    assert.equal(viaFloat.data[0].embedding.length, 24);
  });

  test('embeddings with token-id input are a BadRequestError naming input', kTestTimeout, async () => {
    await assert.rejects(
      client.embeddings.create({ model: 'sim/embed-e2e', input: [[1, 2, 3]] }),
      (err) => err instanceof BadRequestError && err.status === 400 && err.param === 'input',
    );
  });

  test('legacy completions echo the prompt', kTestTimeout, async () => {
    const r = await client.completions.create({ model: 'sim/echo', prompt: kPrompt });
    assert.equal(r.object, 'text_completion');
    assert.equal(r.choices.length, 1);
    assert.equal(r.choices[0].text, kPrompt);
    assertUsageConsistent(r.usage);
  });
});

describe('gateway with a modelmux sim as its OpenAI upstream', () => {
  let sim;
  let gateway;

  before(async () => {
    // Every request fails with 429 (fail-rate 1), with a short Retry-After so that retries are quick.
    sim = await startModelmux(['sim', '--port', '0', '--fail-rate', '1', '--fail-status', '429',
      '--retry-after-ms', '10']);
    gateway = await startModelmux(['serve', '--host', '127.0.0.1', '--port', '0'], {
      env: { OPENAI_BASE_URL: `${sim.baseUrl}/v1`, OPENAI_API_KEY: 'sk-sim' },
    });
  });
  after(async () => {
    await gateway?.stop();
    await sim?.stop();
  });

  test('SDK retries x gateway retries do not multiply: an always-429 upstream sees 3 attempts', kTestTimeout, async () => {
    // reliability.md 4: the SDK (2 retries by default) -> the gateway (2 retries) -> an upstream
    // that always answers 429 makes at most 3 upstream attempts, because the gateway's final
    // error carries x-should-retry: false, which the official SDKs obey.
    const reset = await fetchJson(`${sim.baseUrl}/sim/reset`, { method: 'POST' });
    assert.ok(reset.status >= 200 && reset.status < 300, reset.text);
    let attempts = 0;
    let lastHeaders;
    const client = new OpenAI({
      baseURL: `${gateway.baseUrl}/v1`, apiKey: 'sk-test', timeout: 20000,
      fetch: async (url, init) => {
        attempts += 1;
        const r = await fetch(url, init);
        lastHeaders = r.headers;
        return r;
      },
    });
    await assert.rejects(
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: kMessages }),
      (err) => {
        assert.ok(err instanceof RateLimitError, `got ${err?.constructor?.name}: ${err?.message}`);
        return true;
      },
    );
    assert.equal(attempts, 1, 'the SDK obeyed x-should-retry: false');
    assert.equal(lastHeaders.get('x-should-retry'), 'false');
    assert.equal(lastHeaders.get('x-modelmux-attempts'), '3');
    const stats = await fetchJson(`${sim.baseUrl}/sim/stats`);
    assert.equal(stats.status, 200, stats.text);
    assert.equal(stats.json.total, 3, `sim saw ${stats.json.total} requests: ${stats.text}`);
    assert.equal(stats.json.by_status?.['429'], 3, stats.text);
  });
});
