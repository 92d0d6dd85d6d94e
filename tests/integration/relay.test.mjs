// Proxying to an OpenAI-compatible upstream: whole answers, streams relayed event by event, what
// crosses the proxy in each direction, and connection reuse.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startMock } from './lib/mock_upstream.mjs';
import { chatBody, post, readEvents, startProxy, upstreamConfig } from './lib/proxy.mjs';

let mock;
let proxy;

before(async () => {
  mock = await startMock();
  proxy = await startProxy(upstreamConfig(mock.url, { llm: 'token_env = "MOCK_API_KEY"' }),
    { env: { MOCK_API_KEY: 'sk-test-secret-123' } });
});

after(async () => {
  await proxy?.stop();
  await mock?.close();
});

test('a non-streaming chat completion is relayed with the upstream answer', async () => {
  const res = await post(`${proxy.url}/v1/chat/completions`, chatBody('json'));
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  const body = await res.json();
  assert.equal(body.choices[0].message.content, 'mock says hi');
  assert.equal(res.headers.get('x-upstream-request-id'), 'mock-req-1', 'the upstream\'s id, under a name of its own');
  assert.match(res.headers.get('x-request-id'), /^[0-9a-f]{32}$/);
  const seen = mock.requests.at(-1);
  assert.equal(seen.url, '/v1/chat/completions');
  assert.equal(seen.method, 'POST');
  assert.equal(seen.body, chatBody('json'), 'the body reaches the upstream byte for byte');
});

test('the API key comes from token_env, replaces the client key, and never reaches the log', async () => {
  const res = await post(`${proxy.url}/v1/chat/completions`, chatBody('inspect'),
    { authorization: 'Bearer client-key', 'openai-organization': 'org-42', 'x-custom': 'kept' });
  const { received } = await res.json();
  assert.equal(received.headers.authorization, 'Bearer sk-test-secret-123');
  assert.equal(received.headers['openai-organization'], 'org-42', 'client headers pass through');
  assert.equal(received.headers['x-custom'], 'kept');
  assert.equal(received.headers['accept-encoding'], undefined, 'streams must arrive uncompressed');
  assert.equal(received.headers.host, `127.0.0.1:${mock.port}`);
  assert.doesNotMatch(proxy.logs(), /sk-test-secret-123/);
});

test('an embeddings request goes to base_url + /embeddings', async () => {
  const res = await post(`${proxy.url}/v1/embeddings`, JSON.stringify({ model: 'embed', input: 'text' }));
  assert.equal(res.status, 200);
  assert.deepEqual((await res.json()).data[0].embedding, [0.5, 0.25]);
  assert.equal(mock.requests.at(-1).url, '/v1/embeddings');
});

test('a stream is relayed event by event with [DONE]', async () => {
  const res = await post(`${proxy.url}/v1/chat/completions`, chatBody('stream:5', { stream: true }));
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/event-stream/);
  const events = await readEvents(res);
  assert.equal(events.length, 7);
  assert.deepEqual(events.slice(0, 5).map((e) => JSON.parse(e).choices[0].delta.content),
    ['w0 ', 'w1 ', 'w2 ', 'w3 ', 'w4 ']);
  assert.equal(JSON.parse(events[5]).choices[0].finish_reason, 'stop');
  assert.equal(events[6], '[DONE]');
});

test('stream events reach the client before the upstream has finished the stream', async () => {
  const res = await post(`${proxy.url}/v1/chat/completions`, chatBody('hold-stream', { stream: true }));
  assert.equal(res.status, 200);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  // The mock holds the rest of the stream back until released: these two events can only
  // arrive if the proxy relays them as they come.
  while ((text.match(/\n\n/g) || []).length < 2) {
    const { value, done } = await reader.read();
    assert.ok(!done, 'the stream ended early');
    text += decoder.decode(value, { stream: true });
  }
  assert.match(text, /first /);
  assert.match(text, /second /);
  assert.doesNotMatch(text, /third/);
  mock.release();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  assert.match(text, /third/);
  assert.ok(text.endsWith('data: [DONE]\n\n'));
});

test('events split across reads and packed several to a read arrive whole and in order', async () => {
  const res = await post(`${proxy.url}/v1/chat/completions`, chatBody('split-stream', { stream: true }));
  const events = await readEvents(res);
  assert.deepEqual(events.slice(0, 4).map((e) => JSON.parse(e).choices[0].delta.content),
    ['alpha ', 'beta ', 'gamma ', 'delta']);
  assert.equal(events.at(-1), '[DONE]');
  assert.equal(events.length, 6);
});

test('upstream connections are kept alive and reused, after whole answers and after streams', async () => {
  // Streams too: a connection is judged fit for reuse by what its loop saw while it was idle, and
  // events kept from reading a stream must not make a good connection look used.
  for (const [model, extra] of [['json', {}], ['split-stream', { stream: true }], ['stream:40', { stream: true }]]) {
    const before = mock.connections;
    for (let i = 0; i < 5; i++) {
      const res = await post(`${proxy.url}/v1/chat/completions`, chatBody(model, extra));
      assert.equal(res.status, 200);
      await res.text();
    }
    assert.ok(mock.connections - before <= 1, `${model}: ${mock.connections - before} new upstream connections for 5 requests`);
  }
});

test('each request leaves one access-log line with route, status and stream flag', async () => {
  await (await post(`${proxy.url}/v1/chat/completions`, chatBody('stream:1', { stream: true }))).text();
  await proxy.waitForLog(/access method=POST path=\/v1\/chat\/completions route=\/v1\/chat\/completions status=200 upstream_status=200 stream=true duration_ms=[\d.]+/);
});

test('llm-proxy reports its own added time, without the upstream wait', async () => {
  const res = await post(`${proxy.url}/v1/chat/completions`, chatBody('slow:300'));
  assert.equal(res.status, 200);
  const overhead = Number(res.headers.get('x-llm-proxy-overhead-ms'));
  assert.ok(Number.isFinite(overhead) && overhead >= 0, `x-llm-proxy-overhead-ms: ${res.headers.get('x-llm-proxy-overhead-ms')}`);
  assert.ok(overhead < 250, `the 300 ms the upstream took were counted as overhead: ${overhead}`);
  const stream = await post(`${proxy.url}/v1/chat/completions`, chatBody('stream:1', { stream: true }));
  assert.ok(Number(stream.headers.get('x-llm-proxy-overhead-ms')) >= 0);
  await stream.text();
  await proxy.waitForLog(/access method=POST path=\/v1\/chat\/completions .*overhead_ms=[\d.]+/);
});

test('client connections are kept alive between requests', async () => {
  const http = await import('node:http');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const ask = () => new Promise((resolve, reject) => {
    const req = http.request(`${proxy.url}/v1/chat/completions`, { method: 'POST', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ headers: res.headers, socket: req.socket }));
    });
    req.on('error', reject);
    req.end(chatBody('json'));
  });
  const first = await ask();
  const second = await ask();
  assert.equal(first.headers.connection?.toLowerCase(), 'keep-alive');
  assert.equal(first.socket, second.socket, 'the second request came on a new connection');
  agent.destroy();
});
