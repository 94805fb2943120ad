// The official openai npm SDK sends an image by data URL through `modelmux serve` to every vision
// dialect modelmux speaks, each served by one `modelmux sim` at the provider's own paths. The
// simulator decodes the image it receives and says what it got, so the test sees the PNG arrive
// intact (format, size, bytes) in each provider's wire format.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';

import { requirePackage, startModelmux } from './lib.mjs';

const { OpenAI } = requirePackage('openai');
const kTestTimeout = { timeout: 60000 };

// ---- a real PNG, made here -------------------------------------------------------------------

const kCrcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = kCrcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
// An 8-bit RGB gradient of width x height.
function makePng(width, height) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;  // bit depth
  ihdr[9] = 2;  // colour type: RGB
  const rows = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      row[1 + x * 3] = (x * 255) / width;
      row[2 + x * 3] = (y * 255) / height;
      row[3 + x * 3] = 128;
    }
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// provider name -> its block under `providers:` and an echo model on it.
const kUpstreams = {
  oa: { yaml: 'type: openai\n    base_url: "{SIM}/v1"\n    api_key: k-oa', model: 'gpt-echo-1' },
  claude: { yaml: 'type: anthropic\n    base_url: "{SIM}"\n    api_key: k-cl', model: 'claude-echo-1' },
  gem: { yaml: 'type: gemini\n    base_url: "{SIM}"\n    api_key: k-gem', model: 'gemini-echo' },
  ds: { yaml: 'type: dashscope\n    base_url: "{SIM}"\n    api_key: k-ds', model: 'qwen-vl-echo' },
  br: {
    yaml: 'type: bedrock\n    base_url: "{SIM}"\n    region: us-east-1\n    api_key: AKIDSIMULATOR\n    secret_key: sim-secret',
    model: 'anthropic.claude-echo-v1:0',
  },
  zp: { yaml: 'type: zhipu\n    base_url: "{SIM}/zhipu/api/paas/v4"\n    api_key: zid.zsecret', model: 'glm-4v-echo' },
  hy: {
    yaml: 'type: hunyuan\n    base_url: "{SIM}"\n    api_key: AKIDsimHUNYUAN0000000000000000000000\n    secret_key: simHunyuanSecretKey0000000000000',
    model: 'hunyuan-vision-echo',
  },
  ol: { yaml: 'type: ollama\n    base_url: "{SIM}/ollama"', model: 'llava-echo' },
};

describe('openai SDK sends images to every dialect', () => {
  let sim;
  let gateway;
  let client;
  let dir;
  const png = makePng(64, 48);
  const dataUrl = `data:image/png;base64,${png.toString('base64')}`;

  before(async () => {
    sim = await startModelmux(['sim', '--port', '0']);
    dir = mkdtempSync(path.join(tmpdir(), 'modelmux-e2e-img-'));
    let yaml = 'providers:\n';
    for (const [name, u] of Object.entries(kUpstreams)) {
      yaml += `  ${name}:\n    ${u.yaml.replaceAll('{SIM}', sim.baseUrl)}\n`;
    }
    const config = path.join(dir, 'modelmux.yaml');
    writeFileSync(config, yaml);
    gateway = await startModelmux(['serve', '--host', '127.0.0.1', '--port', '0', '--config', config]);
    client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'sk-test', timeout: 20000, maxRetries: 0 });
  });
  after(async () => {
    await Promise.all([gateway?.stop(), sim?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, u] of Object.entries(kUpstreams)) {
    test(`${name}: the PNG reaches the provider intact`, kTestTimeout, async () => {
      const r = await client.chat.completions.create({
        model: `${name}/${u.model}`,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What colours are in this gradient?' },
              { type: 'image_url', image_url: { url: dataUrl, detail: 'high' } },
            ],
          },
        ],
      });
      const text = r.choices[0].message.content;
      assert.ok(
        text.startsWith(`[image: png 64x48, ${png.length} bytes]`),
        `what the ${name} upstream saw: ${text}`,
      );
      assert.ok(text.endsWith('What colours are in this gradient?'), text);
    });
  }

  test('an unreadable image is a 400 in OpenAI shape naming the part', kTestTimeout, async () => {
    await assert.rejects(
      client.chat.completions.create({
        model: 'gem/gemini-echo',
        messages: [
          {
            role: 'user',
            content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,aGVsbG8=' } }],
          },
        ],
      }),
      (err) => {
        assert.equal(err.status, 400);
        assert.equal(err.code, 'unsupported_image_format');
        assert.equal(err.param, 'messages[0].content[0].image_url');
        return true;
      },
    );
  });
});
