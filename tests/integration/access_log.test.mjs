// The access log (issue 13): [server] access_log = "json" writes one JSON object per request on
// a line of its own (nothing before it), "off" none, "text" (the default) a key=value line.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startMock } from './lib/mock_upstream.mjs';
import { chatBody, post, runProxy, startProxy, upstreamConfig, writeConfig } from './lib/proxy.mjs';

let mock;
let proxy;

before(async () => {
  mock = await startMock();
  proxy = await startProxy(upstreamConfig(mock.url, { server: 'access_log = "json"' }));
});

after(async () => {
  await proxy?.stop();
  await mock?.close();
});

// The JSON access line of the request with this id.
async function lineOf(id) {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    for (const line of proxy.logs().split('\n')) {
      if (!line.startsWith('{')) continue;
      const json = JSON.parse(line);
      if (json.request_id === id) return json;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no access line for ${id}:\n${proxy.logs()}`);
}

test('a whole answer: one JSON object on a line of its own, with what the request came to', async () => {
  const response = await post(`${proxy.url}/v1/chat/completions`, chatBody('json'));
  assert.equal(response.status, 200);
  const line = await lineOf(response.headers.get('x-request-id'));
  assert.match(line.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(line.method, 'POST');
  assert.equal(line.path, '/v1/chat/completions');
  assert.equal(line.route, '/v1/chat/completions');
  assert.equal(line.llm, 'mock');
  assert.equal(line.model, 'json');
  assert.equal(line.status, 200);
  assert.equal(line.upstream_status, 200);
  assert.equal(line.stream, false);
  assert.equal(line.input_tokens, 3);
  assert.equal(line.output_tokens, 2);
  assert.ok(line.first_byte_ms > 0 && line.first_byte_ms <= line.duration_ms);
  assert.ok(line.overhead_ms >= 0 && line.overhead_ms <= line.duration_ms);
  assert.equal(line.attempts, 1);
  assert.equal(line.fallbacks, 0);
  assert.equal(line.client_gone, false);
  assert.equal(line.error, null);
  // The log's other lines keep their own format.
  assert.match(proxy.logs(), /^\S+ info llm-proxy \S+ listening on/m);
  for (const l of proxy.logs().split('\n').filter((l) => l !== '' && !l.startsWith('{')))
    assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} (trace|debug|info|warning|error) /);
});

test('streams, errors and requests no route takes have their lines too', async () => {
  const stream = await post(`${proxy.url}/v1/chat/completions`, chatBody('stream-usage:4', { stream: true }));
  await stream.text();
  const streamed = await lineOf(stream.headers.get('x-request-id'));
  assert.equal(streamed.stream, true);
  assert.equal(streamed.output_tokens, 4);
  const failed = await post(`${proxy.url}/v1/chat/completions`, chatBody('error:503'));
  const error = await lineOf(failed.headers.get('x-request-id'));
  assert.equal(error.status, 503);
  assert.equal(error.upstream_status, 503);
  assert.match(error.error, /503/);
  const lost = await fetch(`${proxy.url}/nowhere`, { method: 'POST', headers: { 'x-request-id': 'lost-json' } });
  assert.equal(lost.status, 404);
  const none = await lineOf('lost-json');
  assert.equal(none.route, null);
  assert.equal(none.llm, null);
  assert.equal(none.upstream_status, null);
  assert.equal(none.first_byte_ms, null);
  assert.match(none.error, /no route matches/);
});

test('a client\'s model name cannot break the line or add fields', async () => {
  const model = 'json", "status": 999, "x": "\n{"forged": true}\u0007';
  const response = await post(`${proxy.url}/v1/chat/completions`, JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }));
  const line = await lineOf(response.headers.get('x-request-id'));
  assert.equal(line.model, model);
  assert.equal(line.status, response.status);
  assert.ok(!proxy.logs().split('\n').some((l) => l.startsWith('{"forged"')));
  // A huge name is cut to 256 bytes (no configuration takes a longer one).
  const huge = 'm'.repeat(255) + '\u00e9'.repeat(5000);
  const big = await post(`${proxy.url}/v1/chat/completions`, JSON.stringify({ model: huge, messages: [{ role: 'user', content: 'hi' }] }));
  const cut = await lineOf(big.headers.get('x-request-id'));
  assert.equal(cut.model, 'm'.repeat(255), 'cut before a character that would not fit whole');
});

test('access_log = "off" writes none; any other value is refused', async () => {
  const off = await startProxy(upstreamConfig(mock.url, { server: 'access_log = "off"' }));
  try {
    const response = await post(`${off.url}/v1/chat/completions`, chatBody('json'));
    assert.equal(response.status, 200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.doesNotMatch(off.logs(), /access method=|"request_id"/);
  } finally {
    await off.stop();
  }
  const file = writeConfig(upstreamConfig(mock.url, { server: 'access_log = "yes"' }));
  const checked = runProxy(['--check', '--config', file]);
  assert.notEqual(checked.status, 0);
  assert.match(checked.stdout + checked.stderr, /'server\.access_log': must be "text", "json" or "off"/);
});
