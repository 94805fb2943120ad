// The official @anthropic-ai/sdk against the gateway's Anthropic front door (/v1/messages routed to
// the built-in simulator's sim/echo), and the official openai SDK against the gateway routed to an
// Anthropic-dialect upstream (a separate `modelmux sim` speaking /v1/messages).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { fetchJson, requirePackage, startModelmux } from './lib.mjs';

const anthropicSdk = requirePackage('@anthropic-ai/sdk');
const Anthropic = anthropicSdk.Anthropic ?? anthropicSdk.default;
const { RateLimitError } = anthropicSdk;
const { OpenAI } = requirePackage('openai');

const kTestTimeout = { timeout: 60000 };
const kPrompt = 'modelmux e2e: Anthropic Messages through the gateway, über alles 你好.';
const kMessages = [{ role: 'user', content: kPrompt }];

function assertUsage(usage) {
  assert.ok(usage, 'usage is present');
  assert.ok(Number.isInteger(usage.input_tokens) && usage.input_tokens > 0, JSON.stringify(usage));
  assert.ok(Number.isInteger(usage.output_tokens) && usage.output_tokens > 0, JSON.stringify(usage));
}

const counts = (u) => ({ input_tokens: u.input_tokens, output_tokens: u.output_tokens });

describe('Anthropic SDK against /v1/messages on sim/echo', () => {
  let gateway;
  let client;

  before(async () => {
    gateway = await startModelmux(['serve', '--host', '127.0.0.1', '--port', '0']);
    client = new Anthropic({ baseURL: gateway.baseUrl, apiKey: 'anything', timeout: 20000 });
  });
  after(async () => {
    await gateway?.stop();
  });

  test('messages.create echoes the prompt with usage', kTestTimeout, async () => {
    const m = await client.messages.create({ model: 'sim/echo', max_tokens: 1024, messages: kMessages });
    assert.equal(m.type, 'message');
    assert.equal(m.role, 'assistant');
    assert.equal(m.content.length, 1);
    assert.equal(m.content[0].type, 'text');
    assert.equal(m.content[0].text, kPrompt);
    assert.equal(m.stop_reason, 'end_turn');
    assertUsage(m.usage);
  });

  test('messages.stream text deltas add up to the same text and usage', kTestTimeout, async () => {
    const whole = await client.messages.create({ model: 'sim/echo', max_tokens: 1024, messages: kMessages });
    const stream = client.messages.stream({ model: 'sim/echo', max_tokens: 1024, messages: kMessages });
    const deltas = [];
    stream.on('text', (t) => deltas.push(t));
    const final = await stream.finalMessage();
    assert.ok(deltas.length >= 2, `expected several text deltas, got ${deltas.length}`);
    assert.equal(deltas.join(''), kPrompt);
    assert.equal(final.content[0].text, kPrompt);
    assert.equal(final.stop_reason, whole.stop_reason);
    assert.deepEqual(counts(final.usage), counts(whole.usage));
  });

  test('create({stream: true}) yields the Anthropic event sequence', kTestTimeout, async () => {
    const whole = await client.messages.create({ model: 'sim/echo', max_tokens: 1024, messages: kMessages });
    const stream = await client.messages.create({
      model: 'sim/echo', max_tokens: 1024, messages: kMessages, stream: true,
    });
    const types = [];
    let text = '';
    let inputTokens;
    let outputTokens;
    let stopReason;
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === 'message_start') inputTokens = ev.message.usage.input_tokens;
      if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') text += ev.delta.text;
      if (ev.type === 'message_delta') {
        stopReason = ev.delta.stop_reason;
        outputTokens = ev.usage.output_tokens;
        if (ev.usage.input_tokens != null) inputTokens = ev.usage.input_tokens;
      }
    }
    assert.equal(types[0], 'message_start');
    assert.equal(types[types.length - 1], 'message_stop');
    assert.ok(types.includes('content_block_start') && types.includes('content_block_stop'), types.join(','));
    assert.equal(text, kPrompt);
    assert.equal(stopReason, whole.stop_reason);
    assert.deepEqual({ input_tokens: inputTokens, output_tokens: outputTokens }, counts(whole.usage));
  });

  test('countTokens answers a positive estimate', kTestTimeout, async () => {
    const r = await client.messages.countTokens({ model: 'sim/echo', messages: kMessages });
    assert.ok(Number.isInteger(r.input_tokens) && r.input_tokens > 0, JSON.stringify(r));
  });

  test('an upstream 429 reaches the SDK as RateLimitError', kTestTimeout, async () => {
    await assert.rejects(
      client.messages.create(
        { model: 'sim/echo', max_tokens: 64, messages: kMessages },
        { headers: { 'x-sim-status': '429' }, maxRetries: 0 },
      ),
      (e) => {
        assert.ok(e instanceof RateLimitError, `expected RateLimitError, got ${e?.constructor?.name}: ${e}`);
        assert.equal(e.status, 429);
        assert.equal(e.error?.type, 'error', JSON.stringify(e.error));
        assert.equal(e.error?.error?.type, 'rate_limit_error', JSON.stringify(e.error));
        return true;
      },
    );
  });
});

describe('openai SDK through the gateway to an Anthropic-dialect upstream', () => {
  const kKey = 'sim-anthropic-key';
  let sim;
  let gateway;
  let client;

  before(async () => {
    sim = await startModelmux(['sim', '--port', '0', '--require-key', kKey]);
    gateway = await startModelmux(['serve', '--host', '127.0.0.1', '--port', '0'], {
      env: { ANTHROPIC_BASE_URL: sim.baseUrl, ANTHROPIC_API_KEY: kKey },
    });
    client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'sk-anything', timeout: 20000 });
  });
  after(async () => {
    await Promise.all([gateway?.stop(), sim?.stop()]);
  });

  test('chat non-stream and stream give the upstream answer', kTestTimeout, async () => {
    const model = 'anthropic/claude-sonnet-4-5';
    const messages = [{ role: 'user', content: 'Tell me about the sea, please.' }];
    const before = (await fetchJson(`${sim.baseUrl}/sim/stats`)).json.by_path['/v1/messages'] ?? 0;
    // What the simulator says when asked directly in its Anthropic dialect.
    const direct = await fetchJson(`${sim.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': kKey, 'anthropic-version': '2023-06-01' },
      body: { model: 'claude-sonnet-4-5', max_tokens: 1024, messages },
    });
    assert.equal(direct.status, 200, direct.text);
    const expected = direct.json.content[0].text;

    const whole = await client.chat.completions.create({ model, messages });
    assert.equal(whole.choices[0].message.content, expected);
    assert.equal(whole.choices[0].finish_reason, 'stop');
    assert.equal(whole.usage.prompt_tokens, direct.json.usage.input_tokens);
    assert.equal(whole.usage.completion_tokens, direct.json.usage.output_tokens);

    const stream = await client.chat.completions.create({
      model, messages, stream: true, stream_options: { include_usage: true },
    });
    let text = '';
    let usage;
    let finish;
    for await (const chunk of stream) {
      text += (chunk.choices ?? []).map((c) => c.delta?.content ?? '').join('');
      if (chunk.usage) usage = chunk.usage;
      finish = chunk.choices?.[0]?.finish_reason ?? finish;
    }
    assert.equal(text, expected);
    assert.equal(finish, 'stop');
    assert.ok(usage, 'a usage chunk');
    assert.equal(usage.prompt_tokens, whole.usage.prompt_tokens);
    assert.equal(usage.completion_tokens, whole.usage.completion_tokens);

    // Both calls reached the simulator at its Anthropic path (plus the direct one).
    const after = (await fetchJson(`${sim.baseUrl}/sim/stats`)).json.by_path['/v1/messages'] ?? 0;
    assert.equal(after - before, 3);
  });
});
