// The host's side of the client API contract (ABI 1.2), through a fixture client API in plain C
// (tests/fixtures/plugins/client_api_wrapping.c, type "wrapping", native provider "echo") that
// makes each step visible: its clients send {"wrapped": <chat request>}, get answers as
// {"wrapped_answer": ...}, stream events named `chunk` and a closing `end`, and errors as
// "wrapped <status> <type>: <message>". Routes to the OpenAI mock translate; routes to an echo llm
// run natively.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startMock } from './lib/mock_upstream.mjs';
import { FIXTURE_PLUGIN_DIR, chatBody, post, startProxy } from './lib/proxy.mjs';

let mock;
let proxy;

before(async () => {
  mock = await startMock();
  proxy = await startProxy(`
[server]
host = "127.0.0.1"
port = 0
max_body_bytes = 4096

[plugins]
dirs = ["${FIXTURE_PLUGIN_DIR}"]

[llm.mock]
provider = "openai"
type = "chat"
base_url = "${mock.url}"
read_timeout_ms = 5000

[llm.echo]
provider = "echo"
type = "chat"

[[route]]
path_prefix = "/translated"
api = "wrapping"
target_llm = "mock"

[[route]]
path_prefix = "/native"
api = "wrapping"
target_llm = "echo"

[[route]]
path_prefix = "/v1/chat/completions"
target_llm = "mock"

[processor.block_card]
type = "guard"
additional_config = { patterns = ["card"] }

[processor.rename]
type = "params"
additional_config = { aliases = { short = "long-model-name" } }

[[route]]
path_prefix = "/guarded-native"
api = "wrapping"
target_llm = "echo"
processors = ["block_card"]

[[route]]
path_prefix = "/guarded-translated"
api = "wrapping"
target_llm = "mock"
processors = ["block_card", "rename"]

[[route]]
path_prefix = "/renamed-native"
api = "wrapping"
target_llm = "echo"
processors = ["rename"]
`);
});

after(async () => {
  await proxy?.stop();
  await mock?.close();
});

const wrapped = (model, extra = {}) => `{"wrapped":${chatBody(model, extra)}}`;

// The events of an SSE body: [{name, data}], in order.
async function namedEvents(response) {
  const text = await response.text();
  return text.split('\n\n').filter((block) => block.trim() !== '').map((block) => {
    const lines = block.split('\n');
    const name = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? '';
    const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
    return { name, data };
  });
}

test('a translated request reaches the upstream in canonical form, and its answer goes back encoded', async () => {
  const r = await post(`${proxy.url}/translated`, wrapped('json'));
  assert.equal(r.status, 200);
  const answer = await r.json();
  assert.equal(answer.wrapped_answer.choices[0].message.content, 'mock says hi');
  const upstream = mock.requests.at(-1);
  assert.equal(upstream.url, '/v1/chat/completions');
  assert.deepEqual(upstream.json, JSON.parse(chatBody('json')));
});

test('the openai provider without a key of its own sends a client\'s x-api-key as its Bearer token', async () => {
  await post(`${proxy.url}/translated`, wrapped('json'), { 'x-api-key': 'client-k' });
  const headers = mock.requests.at(-1).headers;
  assert.equal(headers.authorization, 'Bearer client-k');
  assert.equal(headers['x-api-key'], undefined);
  await post(`${proxy.url}/translated`, wrapped('json'), { 'x-api-key': 'other', authorization: 'Bearer mine' });
  assert.equal(mock.requests.at(-1).headers.authorization, 'Bearer mine');  // a Bearer token wins
});

test('a translated stream: every canonical event encoded, then the client API\'s end instead of [DONE]', async () => {
  const r = await post(`${proxy.url}/translated`, wrapped('stream:3', { stream: true }));
  assert.equal(r.status, 200);
  const events = await namedEvents(r);
  assert.deepEqual(events.map((e) => e.name), ['chunk', 'chunk', 'chunk', 'chunk', 'end']);
  assert.deepEqual(events.slice(0, 3).map((e) => JSON.parse(e.data).choices[0].delta.content),
    ['w0 ', 'w1 ', 'w2 ']);
  assert.deepEqual(JSON.parse(events[4].data), { events: 4 });
  assert.ok(!events.some((e) => e.data === '[DONE]'));
});

test('an upstream error answer goes through encode_error, its headers kept', async () => {
  const r = await post(`${proxy.url}/translated`, wrapped('error:429'));
  assert.equal(r.status, 429);
  assert.match(r.headers.get('content-type'), /^text\/plain/);
  assert.equal(r.headers.get('retry-after'), '7');
  assert.equal(await r.text(), 'wrapped 429 mock_error: mock upstream error 429');
});

test('a request decode_request refuses is answered through encode_error, and nothing goes upstream', async () => {
  const before = mock.requests.length;
  const r = await post(`${proxy.url}/translated`, chatBody('json'));
  assert.equal(r.status, 400);
  assert.equal(await r.text(), 'wrapped 400 invalid_request_error: the body needs "wrapped": a chat request');
  assert.equal(mock.requests.length, before);
});

test('a client API that answers in decode_request: that answer goes out, and nothing goes upstream', async () => {
  const before = mock.requests.length;
  const r = await post(`${proxy.url}/translated`, '{"answer_here": true}');
  assert.equal(r.status, 200);
  assert.equal(await r.text(), 'answered by decode_request for [llm.mock]',
    'the view names the target llm, known before the client API decodes (one route for the path)');
  assert.equal(mock.requests.length, before);
});

test('the gateway\'s own errors on such a route are encoded too: invalid JSON, wrong method, body too large', async () => {
  const invalid = await post(`${proxy.url}/translated`, '{"wrapped": {"model": "a", "model": "b"}}');
  assert.equal(invalid.status, 400);
  assert.match(await invalid.text(), /^wrapped 400 invalid_request_error: the body is not valid JSON: the key "model" appears twice/);
  const get = await fetch(`${proxy.url}/translated`);
  assert.equal(get.status, 405);
  assert.equal(await get.text(), "wrapped 405 invalid_request_error: the route '/translated' answers POST, not GET");
  const large = await post(`${proxy.url}/native`, wrapped('json', { pad: 'x'.repeat(5000) }));
  assert.equal(large.status, 413);
  assert.match(await large.text(), /^wrapped 413 invalid_request_error: /);
  // A path no route matches has no client API: the host's own form.
  const none = await post(`${proxy.url}/nowhere`, '{}');
  assert.equal(none.status, 404);
  assert.equal((await none.json()).error.code, 'route_not_found');
});

test('a stream that fails after it started ends with the client API\'s error event, and no end', async () => {
  const r = await post(`${proxy.url}/translated`, wrapped('cut-stream', { stream: true }));
  assert.equal(r.status, 200);
  const events = await namedEvents(r);
  assert.deepEqual(events.map((e) => e.name), ['chunk', 'failure']);
  assert.equal(JSON.parse(events[0].data).choices[0].delta.content, 'partial ');
  assert.match(events[1].data, /^wrapped 502 /);
});

test('a native route passes the body, the answer and the events untranslated, with no [DONE]', async () => {
  const whole = await post(`${proxy.url}/native`, chatBody('m'));
  assert.equal(whole.status, 200);
  const answer = await whole.json();
  assert.equal(answer.wrapped_answer, undefined);
  assert.equal(answer.choices[0].message.content, 'hello there');

  const stream = await post(`${proxy.url}/native`, chatBody('m', { stream: true }));
  const events = await namedEvents(stream);
  assert.ok(events.length > 1);
  assert.ok(events.every((e) => e.name === ''));
  assert.ok(!events.some((e) => e.data === '[DONE]'));
  assert.equal(events.map((e) => JSON.parse(e.data).choices[0]?.delta?.content ?? '').join(''), 'hello there');
});

test('a native route still shapes errors through the client API', async () => {
  const r = await post(`${proxy.url}/native`, '[1]');
  assert.equal(r.status, 400);
  assert.equal(await r.text(), 'wrapped 400 invalid_request_error: the body must be a JSON object');
});

test('processors that read messages refuse natively served bodies; on a translated route they see canonical ones', async () => {
  const native = await post(`${proxy.url}/guarded-native`, chatBody('m'));
  assert.equal(native.status, 500);
  assert.equal(await native.text(), "wrapped 500 server_error: processor 'block_card' (guard) reads " +
    "OpenAI chat requests, and this route passes its clients' wrapping requests to the upstream as " +
    'they are (natively), unread; put it on a route whose llm speaks another API (the request is ' +
    'translated there), or remove it');
  const card = { messages: [{ role: 'user', content: 'my card is 4111 1111 1111 1111' }] };
  const blocked = await post(`${proxy.url}/guarded-translated`, wrapped('json', card));
  assert.equal(blocked.status, 400);
  assert.match(await blocked.text(), /^wrapped 400 invalid_request_error: the request was refused by 'block_card'/);
  const passed = await post(`${proxy.url}/guarded-translated`, wrapped('short'));
  assert.equal(passed.status, 200);
  assert.equal(mock.requests.at(-1).json.model, 'long-model-name');
  // params edits named fields, whatever the format: it runs on native routes too
  const renamed = await post(`${proxy.url}/renamed-native`, chatBody('short'));
  assert.equal(renamed.status, 200);
  assert.equal((await renamed.json()).model, 'long-model-name');
});

test('a route of the built-in API keeps the canonical form: [DONE] at the end, OpenAI-style errors', async () => {
  const r = await post(`${proxy.url}/v1/chat/completions`, chatBody('stream:1', { stream: true }));
  const events = await namedEvents(r);
  assert.equal(events.at(-1).data, '[DONE]');
  const bad = await post(`${proxy.url}/v1/chat/completions`, '[1]');
  assert.equal((await bad.json()).error.code, 'invalid_json');
});
