// One event-loop thread serves many connections: a connection that waits (on a silent upstream,
// or on a client that stops reading) must not hold up the others served by the same loop.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';

import { startMock } from './lib/mock_upstream.mjs';
import { chatBody, post, startProxy, upstreamConfig } from './lib/proxy.mjs';

let mock;
let proxy;

before(async () => {
  mock = await startMock();
  // A single loop: every connection below shares its thread.
  proxy = await startProxy(upstreamConfig(mock.url, { server: 'worker_threads = 1' }));
});

after(async () => {
  mock?.release();
  await proxy?.stop();
  await mock?.close();
});

test('requests are answered while another waits on an upstream that does not answer', { timeout: 20000 }, async () => {
  const held = post(`${proxy.url}/v1/chat/completions`, chatBody('hold'));
  await mock.waitForRequest((r) => r.json.model === 'hold');
  for (let i = 0; i < 3; i++) {
    const res = await post(`${proxy.url}/v1/chat/completions`, chatBody('json'));
    assert.equal(res.status, 200);
    assert.equal((await res.json()).choices[0].message.content, 'mock says hi');
  }
  mock.release();
  assert.equal((await held).status, 200);
});

test('requests are answered while a client that stops reading is sent a large answer', { timeout: 20000 }, async () => {
  // A raw client asks for 8 MiB and reads nothing: llm-proxy's writes to it fill the socket
  // buffers and wait.
  const body = chatBody('big:8');
  const stalled = net.connect(proxy.port, '127.0.0.1');
  await new Promise((resolve) => stalled.once('connect', resolve));
  stalled.pause();
  stalled.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  const asked = await mock.waitForRequest((r) => r.json.model === 'big:8');
  await new Promise((resolve) => { const wait = () => (asked.responseFinished ? resolve() : setTimeout(wait, 10)); wait(); });
  for (let i = 0; i < 3; i++) {
    const res = await post(`${proxy.url}/v1/chat/completions`, chatBody('json'));
    assert.equal(res.status, 200);
  }
  // The stalled client still gets its whole answer once it reads.
  let received = 0;
  stalled.on('data', (piece) => { received += piece.length; });
  stalled.resume();
  await new Promise((resolve) => { const wait = () => (received > 8 * 1024 * 1024 ? resolve() : setTimeout(wait, 10)); wait(); });
  stalled.destroy();
});
