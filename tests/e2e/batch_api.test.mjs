// The Batch API on the gateway with the official openai npm SDK (issue 8): upload a JSONL file,
// create a batch, poll it until it completes, download the results; every custom_id once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { requirePackage, startModelmux } from './lib.mjs';

const openai = requirePackage('openai');
const { OpenAI, NotFoundError, BadRequestError, toFile } = openai;

const kTestTimeout = { timeout: 120000 };
const kLines = 30;

function input(n) {
  let s = '';
  for (let i = 0; i < n; ++i) {
    s += JSON.stringify({
      custom_id: `req-${i}`,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'sim/echo', messages: [{ role: 'user', content: `line ${i}` }] },
    }) + '\n';
  }
  return s;
}

async function waitFor(client, id, statuses, timeoutMs = 60000) {
  const until = Date.now() + timeoutMs;
  let batch;
  while (Date.now() < until) {
    batch = await client.batches.retrieve(id);
    if (statuses.includes(batch.status)) return batch;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`batch ${id} still ${batch?.status} after ${timeoutMs} ms`);
}

describe('Batch API with the openai SDK', () => {
  let gateway;
  let client;

  before(async () => {
    gateway = await startModelmux(['serve', '--host', '127.0.0.1', '--port', '0']);
    client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'sk-test', timeout: 20000 });
  });
  after(async () => {
    await gateway?.stop();
  });

  test('upload, create, poll, download', kTestTimeout, async () => {
    const text = input(kLines);
    const file = await client.files.create({
      file: await toFile(Buffer.from(text), 'prompts.jsonl'),
      purpose: 'batch',
    });
    assert.match(file.id, /^file-/);
    assert.equal(file.object, 'file');
    assert.equal(file.purpose, 'batch');
    assert.equal(file.filename, 'prompts.jsonl');
    assert.equal(file.bytes, Buffer.byteLength(text));
    assert.equal((await client.files.retrieve(file.id)).id, file.id);

    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { suite: 'e2e' },
    });
    assert.match(created.id, /^batch_/);
    assert.equal(created.object, 'batch');
    assert.equal(created.input_file_id, file.id);

    const done = await waitFor(client, created.id, ['completed', 'failed', 'cancelled']);
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.deepEqual(done.request_counts, { total: kLines, completed: kLines, failed: 0 });
    assert.equal(done.metadata.suite, 'e2e');
    assert.ok(done.output_file_id);

    const content = await client.files.content(done.output_file_id);
    const lines = (await content.text()).split('\n').filter((l) => l.length > 0);
    assert.equal(lines.length, kLines);
    const seen = new Map();
    for (const line of lines) {
      const r = JSON.parse(line);
      seen.set(r.custom_id, (seen.get(r.custom_id) ?? 0) + 1);
      assert.equal(r.response.status_code, 200);
      assert.equal(r.response.body.object, 'chat.completion');
      const n = Number(r.custom_id.slice('req-'.length));
      assert.equal(r.response.body.choices[0].message.content, `line ${n}`);
      assert.equal(r.error, null);
    }
    for (let i = 0; i < kLines; ++i) assert.equal(seen.get(`req-${i}`), 1, `req-${i}`);

    // Listing (the SDK pages through `after`) finds the batch; unknown ids are 404.
    const ids = [];
    for await (const b of client.batches.list({ limit: 1 })) ids.push(b.id);
    assert.ok(ids.includes(created.id));
    await assert.rejects(client.batches.retrieve('batch_missing'), NotFoundError);
    await assert.rejects(
      client.files.create({ file: await toFile(Buffer.from(text), 'x.jsonl'), purpose: 'assistants' }),
      BadRequestError,
    );
    const deleted = await client.files.delete(file.id);
    assert.equal(deleted.deleted, true);
    await assert.rejects(client.files.retrieve(file.id), NotFoundError);
  });
});
