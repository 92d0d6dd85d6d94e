// Every failure is an OpenAI-style JSON error with the right status, or an SSE error event once a
// stream has started, and a log line saying what happened.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startMock } from './lib/mock_upstream.mjs';
import { chatBody, closedPort, post, readEvents, startProxy, upstreamConfig } from './lib/proxy.mjs';

let mock;
let proxy;
let deadUrl;

before(async () => {
  mock = await startMock();
  deadUrl = `http://127.0.0.1:${await closedPort()}/v1`;
  proxy = await startProxy(upstreamConfig(mock.url, {
    server: 'max_body_bytes = 4096',
    readTimeoutMs: 300,
    extra: `
[llm.dead]
provider = "openai"
base_url = "${deadUrl}"

[llm.keyless]
provider = "openai"
base_url = "${mock.url}"
token_env = "LLM_PROXY_TEST_UNSET_VARIABLE"

[llm.no_streaming]
provider = "openai"
base_url = "${mock.url}"
supports_streaming = false

[[route]]
path_prefix = "/dead/v1/chat/completions"
target_llm = "dead"

[[route]]
path_prefix = "/keyless/v1/chat/completions"
target_llm = "keyless"

[[route]]
path_prefix = "/stream-only/v1/chat/completions"
target_llm = "mock"
allow_non_streaming = false

[[route]]
path_prefix = "/whole-only/v1/chat/completions"
target_llm = "mock"
allow_streaming = false

[[route]]
path_prefix = "/no-streaming-llm/v1/chat/completions"
target_llm = "no_streaming"
`,
  }));
});

after(async () => {
  await proxy?.stop();
  await mock?.close();
});

// Asserts an OpenAI-style error with status and code, and returns its message.
async function expectError(res, status, code) {
  assert.equal(res.status, status);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  const body = await res.json();
  assert.equal(typeof body.error.message, 'string');
  assert.equal(typeof body.error.type, 'string');
  assert.equal(body.error.code, code);
  return body.error.message;
}

const chat = (path, body, headers) => post(`${proxy.url}${path}`, body, headers);

test('400 for a body that is not JSON', async () => {
  const message = await expectError(await chat('/v1/chat/completions', '{"model": "x", '), 400, 'invalid_json');
  assert.match(message, /not valid JSON/);
});

test('400 for a body without model or messages', async () => {
  await expectError(await chat('/v1/chat/completions', '{"messages":[]}'), 400, 'missing_model');
  await expectError(await chat('/v1/chat/completions', '{"model":"json"}'), 400, 'missing_messages');
  await expectError(await chat('/v1/embeddings', '{"model":"embed"}'), 400, 'missing_input');
});

test('400 naming the route and the setting when the route does not allow the mode', async () => {
  let message = await expectError(await chat('/stream-only/v1/chat/completions', chatBody('json')), 400,
    'non_streaming_not_allowed');
  assert.match(message, /'\/stream-only\/v1\/chat\/completions'/);
  assert.match(message, /allow_non_streaming = false/);
  message = await expectError(await chat('/whole-only/v1/chat/completions', chatBody('json', { stream: true })),
    400, 'streaming_not_allowed');
  assert.match(message, /'\/whole-only\/v1\/chat\/completions'/);
  assert.match(message, /allow_streaming = false/);
  message = await expectError(await chat('/no-streaming-llm/v1/chat/completions', chatBody('json', { stream: true })),
    400, 'streaming_not_supported');
  assert.match(message, /supports_streaming = false/);
});

test('404 for a path no route matches', async () => {
  const message = await expectError(await chat('/v2/nothing', chatBody('json')), 404, 'route_not_found');
  assert.match(message, /'\/v2\/nothing'/);
});

test('405 for a method the route does not answer', async () => {
  const res = await fetch(`${proxy.url}/v1/chat/completions`);
  await expectError(res, 405, 'method_not_allowed');
  assert.equal(res.headers.get('allow'), 'POST, OPTIONS');
});

test('413 for a body over max_body_bytes, declared or chunked', async () => {
  const big = chatBody('json', { padding: 'x'.repeat(5000) });
  const message = await expectError(await chat('/v1/chat/completions', big), 413, 'request_too_large');
  assert.match(message, /max_body_bytes = 4096/);
  // Without a Content-Length the limit still holds while reading.
  const stream = new ReadableStream({
    start(controller) { controller.enqueue(new TextEncoder().encode(big)); controller.close(); },
  });
  const res = await fetch(`${proxy.url}/v1/chat/completions`, {
    method: 'POST', body: stream, duplex: 'half', headers: { 'content-type': 'application/json' },
  });
  await expectError(res, 413, 'request_too_large');
});

test('502 when the upstream cannot be reached, naming it', async () => {
  const message = await expectError(await chat('/dead/v1/chat/completions', chatBody('json')), 502,
    'upstream_unreachable');
  assert.match(message, /cannot reach upstream 'dead'/);
  assert.ok(message.includes(deadUrl));
});

test('504 when the upstream answers slower than read_timeout_ms', async () => {
  const message = await expectError(await chat('/v1/chat/completions', chatBody('slow:2000')), 504, 'upstream_timeout');
  assert.match(message, /read_timeout_ms = 300/);
});

test('500 naming the variable when token_env is not set', async () => {
  const message = await expectError(await chat('/keyless/v1/chat/completions', chatBody('json')), 500,
    'missing_api_key');
  assert.match(message, /LLM_PROXY_TEST_UNSET_VARIABLE/);
});

for (const status of [400, 401, 429, 500, 503]) {
  test(`an upstream ${status} is passed through with its body and headers`, async () => {
    const res = await chat('/v1/chat/completions', chatBody(`error:${status}`));
    assert.equal(res.status, status);
    assert.equal(res.headers.get('retry-after'), '7');
    assert.equal(res.headers.get('x-upstream-request-id'), 'mock-err');
    assert.deepEqual(await res.json(),
      { error: { message: `mock upstream error ${status}`, type: 'mock_error', code: 'mock_code' } });
  });
}

test('an upstream error on a streaming request is passed through before any stream starts', async () => {
  const res = await chat('/v1/chat/completions', chatBody('error:429', { stream: true }));
  assert.equal(res.status, 429);
  assert.equal((await res.json()).error.code, 'mock_code');
});

test('a stream cut mid-way ends with an SSE error event and no [DONE]', async () => {
  const res = await chat('/v1/chat/completions', chatBody('cut-stream', { stream: true }));
  assert.equal(res.status, 200);
  const events = await readEvents(res);
  assert.equal(JSON.parse(events[0]).choices[0].delta.content, 'partial ');
  const last = JSON.parse(events.at(-1));
  assert.equal(last.error.code, 'upstream_stream_truncated');
  assert.ok(!events.includes('[DONE]'));
  await proxy.waitForLog(/stream on route \/v1\/chat\/completions failed after it started/);
});

test('a whole answer cut short by the upstream is a 502, never passed on as complete', async () => {
  const res = await chat('/v1/chat/completions', chatBody('cut-json'));
  assert.equal(res.status, 502);
  const { error } = await res.json();
  assert.equal(error.code, 'upstream_broken');
  assert.match(error.message, /closed the connection before the end of its answer \(\d+ bytes arrived\)/);
});

test('a stream that times out mid-way ends with an SSE timeout error event', async () => {
  const res = await chat('/v1/chat/completions', chatBody('hold-stream', { stream: true }));
  const events = await readEvents(res);
  assert.equal(events.length, 3);
  assert.equal(JSON.parse(events[2]).error.code, 'upstream_timeout');
  mock.release();
});

test('each error leaves an access-log line with its status and reason', async () => {
  await chat('/v2/nothing', chatBody('json'));
  await proxy.waitForLog(/access method=POST path=\/v2\/nothing route=- status=404 .*error="no route matches/);
});
