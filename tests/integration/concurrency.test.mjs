// Many requests at once over two event loops, and a shut-down with requests in progress: where
// llm-proxy's threads meet (pooled upstream connections moving between loops, connects on task
// threads, end-of-request hooks on the finish queue, loops and task threads stopping), so that
// the ThreadSanitizer run (scripts/test-tsan.sh) sees those paths busy.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';

import { startMock } from './lib/mock_upstream.mjs';
import { chatBody, post, readEvents, startProxy, upstreamConfig } from './lib/proxy.mjs';

const twoLoops = (mock) => upstreamConfig(mock.url, {
  server: 'worker_threads = 2',
  llm: 'max_idle_connections = 4',  // fewer than the clients: connections close and reopen too
  route: 'processors = ["log"]',
  extra: '[processor.log]\ntype = "logger"\nconfig_value = "info"\n',
});

// Resolves once connecting to port is refused (polling every 10 ms, for up to 20 s).
async function refused(port) {
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    const outcome = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve('connected'); });
      socket.once('error', (e) => resolve(e.code));
    });
    if (outcome === 'ECONNREFUSED') return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`port ${port} still takes connections`);
}

const streamed = (n) => Array.from({ length: n }, (_, i) => `w${i} `).join('');

test('clients at once on two loops each get their own answer over shared upstream connections', { timeout: 120000 }, async () => {
  const mock = await startMock();
  const proxy = await startProxy(twoLoops(mock));
  try {
    const requests = 120;
    const atOnce = 12;
    const wrong = [];
    let next = 0;
    const client = async () => {
      while (next < requests) {
        const k = next++;
        if (k % 2 === 0) {
          // The mock answers with the model it was asked for: a crossed answer shows.
          const res = await post(`${proxy.url}/v1/chat/completions`, chatBody(`json:${k}`));
          const body = await res.text();
          if (res.status !== 200 || JSON.parse(body).model !== `json:${k}`) wrong.push(`${k}: ${res.status} ${body}`);
        } else {
          const n = (k % 5) + 1;
          const res = await post(`${proxy.url}/v1/chat/completions`, chatBody(`stream:${n}`, { stream: true }));
          const events = await readEvents(res);
          const text = events.slice(0, n).map((e) => JSON.parse(e).choices[0].delta.content).join('');
          if (res.status !== 200 || text !== streamed(n) || events.at(-1) !== '[DONE]' || events.length !== n + 2)
            wrong.push(`${k}: ${res.status} ${JSON.stringify(events)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: atOnce }, client));
    assert.deepEqual(wrong, []);
    assert.ok(mock.connections < requests, `${mock.connections} upstream connections for ${requests} requests`);
    // Every request's on_finish ran, on the finish queue.
    const finished = () => (proxy.logs().match(/\[log\] finished status=200/g) || []).length;
    const deadline = Date.now() + 20000;
    while (finished() < requests && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(finished(), requests);
  } finally {
    await proxy.stop();
    await mock.close();
  }
});

test('SIGTERM lets the requests in progress on both loops finish, then llm-proxy exits 0', { timeout: 120000 }, async () => {
  const mock = await startMock();
  const proxy = await startProxy(twoLoops(mock));
  try {
    const held = 8;
    // Whole answers and streams the mock holds back until released.
    const answers = Array.from({ length: held }, async (_, k) => {
      const stream = k % 2 === 1;
      try {
        const res = await post(`${proxy.url}/v1/chat/completions`,
          chatBody(stream ? 'hold-stream' : 'hold', { stream, user: `held-${k}` }));
        return { status: res.status, stream, text: await res.text() };
      } catch (e) {
        return { status: `${e.message} (${e.cause?.code ?? e.cause?.message})`, stream, text: '' };
      }
    });
    for (let k = 0; k < held; k++) await mock.waitForRequest((r) => r.json.user === `held-${k}`, 20000);
    const exited = proxy.stop();
    // The listening socket is closed once the loops stopped accepting: the shut-down is then
    // past that and waits for the requests in progress.
    await refused(proxy.port);
    mock.release();
    for (const { status, stream, text } of await Promise.all(answers)) {
      assert.equal(status, 200);
      if (stream) assert.ok(text.includes('third') && text.endsWith('data: [DONE]\n\n'), text);
      else assert.equal(JSON.parse(text).choices[0].message.content, 'mock says hi');
    }
    assert.equal(await exited, 0);
    assert.match(proxy.logs(), /stopped/);
  } finally {
    await proxy.stop();
    await mock.close();
  }
});
