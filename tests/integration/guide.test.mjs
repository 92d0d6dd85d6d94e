// The provider of docs/IMPLEMENTING_PROVIDERS.md, as a reader following the guide builds it
// (ctest's sdk.build_guide_provider), configured with the guide's own config file, serving
// requests through the installed llm-proxy.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { startMock } from './lib/mock_upstream.mjs';
import { chatBody, post, readEvents, runProxy, startProxy, writeConfig } from './lib/proxy.mjs';

const INSTALLED = process.env.INSTALLED_LLM_PROXY_BIN;
const GUIDE = process.env.GUIDE_OUT;

let mock;
let proxy;

// The guide's keyed.toml, pointed at the mock and at the guide's build directory.
function guideConfig(baseUrl) {
  return fs.readFileSync(path.join(GUIDE, 'keyed.toml'), 'utf8')
    .replace(/^port = \d+$/m, 'port = 0')
    .replace('dirs = ["build"]', `dirs = ["${path.join(GUIDE, 'build')}"]`)
    .replace(/^base_url = .*$/m, `base_url = "${baseUrl}"`);
}

before(async () => {
  assert.ok(INSTALLED && GUIDE, 'run through ctest, which builds the guide provider');
  mock = await startMock();
  proxy = await startProxy(guideConfig(mock.url), { bin: INSTALLED, env: { AZURE_OPENAI_KEY: 'azure-key-1' } });
});

after(async () => {
  await proxy?.stop();
  await mock?.close();
});

test('the guide provider sends the api-key header and the api-version query', async () => {
  const res = await post(`${proxy.url}/v1/chat/completions`, chatBody('json'));
  assert.equal(res.status, 200);
  const seen = mock.requests.at(-1);
  assert.equal(seen.url, '/v1/chat/completions?api-version=2024-10-21');
  assert.equal(seen.headers['api-key'], 'azure-key-1');
  assert.equal(seen.headers.authorization, undefined);
});

test('the guide provider relays streams', async () => {
  const res = await post(`${proxy.url}/v1/chat/completions`, chatBody('stream:2', { stream: true }));
  assert.equal((await readEvents(res)).at(-1), '[DONE]');
});

test('the guide provider refuses a config without its key, with the message the guide shows', () => {
  const r = runProxy(['--config', writeConfig(guideConfig('http://127.0.0.1:9/v1')), '--check'],
    { AZURE_OPENAI_KEY: '' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /:11: 'llm\.azure\.token_env': provider 'keyed_openai' refused these settings: token_env must name a variable holding the api-key/);
});

// An upstream that streams Anthropic-shaped events: whole, or cut before message_stop.
async function startEventUpstream() {
  const frame = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(frame('message_start', { message: { id: 'msg_1', role: 'assistant' } }));
      res.write(frame('ping', {}));
      for (const t of ['Hello', ', "quoted" \\ world']) {
        res.write(frame('content_block_delta', { index: 0, delta: { type: 'text_delta', text: t } }));
      }
      if (req.url.endsWith('/cut/messages')) return res.end();
      res.write(frame('message_delta', { delta: { stop_reason: 'end_turn' } }));
      res.end(frame('message_stop', {}));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

test('the translating provider of the guide turns upstream events into chunks, and a cut stream into an error', async () => {
  const upstream = await startEventUpstream();
  const translating = await startProxy(`
[server]
host = "127.0.0.1"
port = 0

[plugins]
dirs = ["${path.join(GUIDE, 'build')}"]

[llm.whole]
provider = "text_stream"
base_url = "${upstream.url}/v1"

[llm.cut]
provider = "text_stream"
base_url = "${upstream.url}/cut"

[[route]]
path_prefix = "/v1/chat/completions"
target_llm = "whole"

[[route]]
path_prefix = "/cut/v1/chat/completions"
target_llm = "cut"
`, { bin: INSTALLED });
  try {
    let res = await post(`${translating.url}/v1/chat/completions`, chatBody('any', { stream: true }));
    const events = await readEvents(res);
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e).choices[0]);
    assert.deepEqual(chunks.map((c) => c.delta), [
      { role: 'assistant', content: '' }, { content: 'Hello' }, { content: ', "quoted" \\ world' }, {}]);
    assert.deepEqual(chunks.map((c) => c.finish_reason), [null, null, null, 'stop']);

    res = await post(`${translating.url}/cut/v1/chat/completions`, chatBody('any', { stream: true }));
    const cut = await readEvents(res);
    assert.ok(!cut.includes('[DONE]'), cut.join('\n'));
    assert.equal(JSON.parse(cut.at(-1)).error.code, 'upstream_stream_truncated');
  } finally {
    await translating.stop();
    await upstream.close();
  }
});
