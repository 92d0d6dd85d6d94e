// Request ids (issue 13): every request gets one, the client's x-request-id when well formed,
// else a new one; it goes back to the client, on to the upstream (side calls included), and into
// every log line of the request, also while other requests' fibers run on the same thread.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startMock } from './lib/mock_upstream.mjs';
import { chatBody, closedPort, post, startProxy, upstreamConfig } from './lib/proxy.mjs';

let mock;
let proxy;

before(async () => {
  mock = await startMock();
  proxy = await startProxy(upstreamConfig(mock.url, {
    server: 'worker_threads = 1',
    extra: `
[llm.retried]
provider = "openai"
base_url = "http://127.0.0.1:${await closedPort()}/v1"
retry = { attempts = 2, backoff_base_ms = 0, backoff_max_ms = 0 }

[[route]]
path_prefix = "/retried/v1/chat/completions"
target_llm = "retried"

[processor.enhance]
type = "openai_chat"
config_value = "json"
additional_config = { llm = "mock" }

[[route]]
path_prefix = "/enhanced/v1/chat/completions"
target_llm = "mock"
processors = ["enhance"]
`,
  }));
});

after(async () => {
  await proxy?.stop();
  await mock?.close();
});

const chat = (model, { prefix = '', headers = {}, stream = false } = {}) =>
  post(`${proxy.url}${prefix}/v1/chat/completions`, chatBody(model, { stream }), headers);

// The log lines naming id.
const linesOf = (id) => proxy.logs().split('\n').filter((l) => l.includes(`request_id=${id} `));

test('a request without an id gets a new one: in the answer, upstream and its access line', async () => {
  const response = await chat('json');
  assert.equal(response.status, 200);
  const id = response.headers.get('x-request-id');
  assert.match(id, /^[0-9a-f]{32}$/);
  assert.equal(mock.requests.at(-1).headers['x-request-id'], id);
  await proxy.waitForLog(new RegExp(`request_id=${id} access method=POST`));
  const other = (await chat('json')).headers.get('x-request-id');
  assert.notEqual(other, id);
});

test('a well-formed client id is kept; the upstream gets it once', async () => {
  for (const id of ['3f9c1a7e-5b2d-4c8e-9a1f-0e6d2b7c4a58', 'req_01HZX:abc/def+g=@h.i', 'x'.repeat(128)]) {
    const response = await chat('json', { headers: { 'x-request-id': id } });
    assert.equal(response.headers.get('x-request-id'), id);
    assert.equal(mock.requests.at(-1).headers['x-request-id'], id);
    await proxy.waitForLog(new RegExp(`request_id=${id.replace(/[.+/]/g, '\\$&')} access`));
  }
});

test('an id that is too long or holds other characters is replaced, and never logged', async () => {
  for (const bad of ['x'.repeat(129), 'has space', 'semi;colon', 'quote"d', 'caf\u00e9', 'back\\slash']) {
    const response = await chat('json', { headers: { 'x-request-id': bad } });
    const id = response.headers.get('x-request-id');
    assert.match(id, /^[0-9a-f]{32}$/, `for ${JSON.stringify(bad)}`);
    assert.equal(mock.requests.at(-1).headers['x-request-id'], id);
    await proxy.waitForLog(new RegExp(`request_id=${id} access`));
    assert.ok(!proxy.logs().includes(`request_id=${bad}`));
  }
});

test('errors carry the id too, and the upstream\'s own id comes as x-upstream-request-id', async () => {
  const response = await chat('error:429', { headers: { 'x-request-id': 'client-429' } });
  assert.equal(response.status, 429);
  assert.equal(response.headers.get('x-request-id'), 'client-429');
  assert.equal(response.headers.get('x-upstream-request-id'), 'mock-err');
  const unrouted = await fetch(`${proxy.url}/nowhere`, { method: 'POST', headers: { 'x-request-id': 'lost-1' } });
  assert.equal(unrouted.status, 404);
  assert.equal(unrouted.headers.get('x-request-id'), 'lost-1');
  await proxy.waitForLog(/request_id=lost-1 access method=POST path=\/nowhere/);
});

test('a side call sends the request\'s id upstream', async () => {
  const response = await chat('json', { prefix: '/enhanced', headers: { 'x-request-id': 'with-side-call' } });
  assert.equal(response.status, 200);
  const seen = mock.requests.filter((r) => r.headers['x-request-id'] === 'with-side-call');
  assert.equal(seen.length, 2, 'the side call and the request itself');
});

test('log lines name their own request while requests interleave on one event loop', async () => {
  // A stream that waits in the mock keeps its fiber suspended on the one event-loop thread while
  // a request to an unreachable upstream logs its failed attempts; then the stream ends.
  const held = await chat('hold-stream', { stream: true, headers: { 'x-request-id': 'held-stream' } });
  assert.equal(held.status, 200);
  const failing = await chat('json', { prefix: '/retried', headers: { 'x-request-id': 'unreachable-1' } });
  assert.equal(failing.status, 502);
  mock.release();
  await held.text();
  await proxy.waitForLog(/request_id=held-stream access/);
  const retried = linesOf('unreachable-1');
  assert.ok(retried.some((l) => /attempt 1 on \[llm\.retried\] failed \(connect\)/.test(l)), retried.join('\n'));
  assert.ok(retried.some((l) => / access /.test(l)));
  assert.ok(!linesOf('held-stream').some((l) => /llm\.retried/.test(l)));
  // Lines outside any request (start-up, the loop's own) name none.
  assert.match(proxy.logs(), /^\S+ info llm-proxy \S+ listening on/m);
});
