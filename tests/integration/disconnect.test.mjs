// A client that leaves stops the upstream: the proxy closes its upstream connection at once,
// mid-stream, before the first event, and while waiting for a whole answer.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';

import { startMock } from './lib/mock_upstream.mjs';
import { chatBody, startProxy, upstreamConfig } from './lib/proxy.mjs';

let mock;
let proxy;

before(async () => {
  mock = await startMock();
  proxy = await startProxy(upstreamConfig(mock.url, { readTimeoutMs: 60000 }));
});

after(async () => {
  await proxy?.stop();
  await mock?.close();
});

// Sends a request on its own connection; resolves with the request and its response once the
// response head has arrived (or at once when waitForHead is false).
function openRequest(body, { waitForHead = true } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${proxy.url}/v1/chat/completions`, {
      method: 'POST', agent: false, headers: { 'content-type': 'application/json' },
    });
    req.on('error', () => {});
    if (waitForHead) req.on('response', (res) => resolve({ req, res }));
    else req.on('socket', (socket) => socket.on('connect', () => setImmediate(() => resolve({ req }))));
    req.setTimeout(20000, () => reject(new Error('no response head')));
    req.end(body);
  });
}

// Resolves true when the upstream connection closes within ms; false otherwise. The mock would
// hold these connections for as long as the test lasts, so only the proxy can close them.
async function closesWithin(record, ms) {
  return Promise.race([record.connectionClosed.then(() => true),
    new Promise((resolve) => setTimeout(() => resolve(false), ms))]);
}

test('a client leaving mid-stream closes the upstream connection', async () => {
  const model = 'hold-stream';
  const { req, res } = await openRequest(chatBody(model, { stream: true, user: 'mid-stream' }));
  await new Promise((resolve) => res.once('data', resolve));  // the first events arrived
  const upstream = await mock.waitForRequest((r) => r.json.user === 'mid-stream');
  req.destroy();
  assert.equal(await closesWithin(upstream, 3000), true, 'the upstream connection stayed open');
  assert.equal(upstream.responseFinished, false, 'the upstream stream was not allowed to finish');
  await proxy.waitForLog(/status=200 upstream_status=200 stream=true duration_ms=[\d.]+ overhead_ms=[\d.]+ llm=mock attempts=1 client_gone=true/);
});

test('a client leaving before the first byte closes the upstream connection', async () => {
  const { req } = await openRequest(chatBody('hold', { stream: true, user: 'before-first' }), { waitForHead: false });
  const upstream = await mock.waitForRequest((r) => r.json.user === 'before-first');
  req.destroy();
  assert.equal(await closesWithin(upstream, 3000), true, 'the upstream connection stayed open');
});

test('a client leaving a non-streaming request closes the upstream connection', async () => {
  const { req } = await openRequest(chatBody('hold', { user: 'whole' }), { waitForHead: false });
  const upstream = await mock.waitForRequest((r) => r.json.user === 'whole');
  req.destroy();
  assert.equal(await closesWithin(upstream, 3000), true, 'the upstream connection stayed open');
  await proxy.waitForLog(/status=499 .*client_gone=true/);
});

test('the proxy keeps serving after clients left', async () => {
  const res = await fetch(`${proxy.url}/v1/chat/completions`, {
    method: 'POST', body: chatBody('json'), headers: { 'content-type': 'application/json' },
  });
  assert.equal(res.status, 200);
});
