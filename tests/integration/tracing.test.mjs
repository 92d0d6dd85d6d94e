// Traces (issue 13): W3C traceparent/tracestate continued from the client, a child span's
// context sent upstream for each attempt, and spans exported over OTLP/HTTP (JSON) to a collector
// the tests start, batched off the requests' path; a collector that is down costs spans (counted),
// never requests.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';

import { startMock } from './lib/mock_upstream.mjs';
import { startCollector } from './lib/otlp_collector.mjs';
import { chatBody, closedPort, post, startProxy, upstreamConfig } from './lib/proxy.mjs';

let mock;
let collector;
let proxy;

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

const telemetry = (endpoint, extra = '') => `
[telemetry]
otlp_endpoint = "${endpoint}"
service_name = "gateway-under-test"
export_interval_ms = 50
${extra}
`;

before(async () => {
  mock = await startMock();
  collector = await startCollector();
  proxy = await startProxy(upstreamConfig(mock.url, {
    extra: `
[llm.dead]
provider = "openai"
base_url = "http://127.0.0.1:${await closedPort()}/v1"
retry = { attempts = 2, backoff_base_ms = 0, backoff_max_ms = 0 }

[[route]]
path_prefix = "/dead/v1/chat/completions"
target_llm = "dead"
${telemetry(collector.url)}`,
  }));
});

after(async () => {
  await proxy?.stop();
  await mock?.close();
  await collector?.close();
});

const chat = (model, { prefix = '', headers = {}, stream = false } = {}) =>
  post(`${proxy.url}${prefix}/v1/chat/completions`, chatBody(model, { stream }), headers);

const spansOf = (traceId, n) => collector.waitFor((s) => s.traceId === traceId, n);

test('the client\'s trace is continued: a request span, an attempt span, and its context upstream', async () => {
  const response = await chat('json', {
    headers: { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'vendor=abc,other=1' },
  });
  assert.equal(response.status, 200);
  const seen = mock.requests.at(-1).headers;
  const m = seen.traceparent.match(/^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/);
  assert.ok(m, seen.traceparent);
  assert.equal(m[1], TRACE);
  assert.notEqual(m[2], PARENT, 'the upstream\'s parent is llm-proxy\'s attempt span');
  assert.equal(seen.tracestate, 'vendor=abc,other=1');
  const spans = await spansOf(TRACE, 2);
  const server = spans.find((s) => s.kind === 2);
  const client = spans.find((s) => s.kind === 3);
  assert.equal(server.parentSpanId, PARENT);
  assert.equal(server.name, 'chat json');
  assert.equal(server.service, 'gateway-under-test');
  assert.equal(server.attributes['gen_ai.request.model'], 'json');
  assert.equal(server.attributes['gen_ai.usage.input_tokens'], 3);
  assert.equal(server.attributes['gen_ai.usage.output_tokens'], 2);
  assert.equal(server.attributes['http.response.status_code'], 200);
  assert.equal(server.attributes['llm_proxy.request_id'], response.headers.get('x-request-id'));
  assert.equal(server.status, undefined);
  assert.equal(client.spanId, m[2]);
  assert.equal(client.parentSpanId, server.spanId);
  assert.equal(client.name, 'chat json');
  assert.equal(client.attributes['gen_ai.provider.name'], 'openai');
  assert.equal(client.attributes['gen_ai.operation.name'], 'chat');
  assert.equal(client.attributes['llm_proxy.llm'], 'mock');
  assert.equal(client.attributes['http.response.status_code'], 200);
  assert.ok(BigInt(client.startTimeUnixNano) >= BigInt(server.startTimeUnixNano));
  assert.ok(BigInt(client.endTimeUnixNano) <= BigInt(server.endTimeUnixNano));
});

test('without a valid traceparent a new trace starts, and its context goes upstream', async () => {
  const invalid = [
    undefined,
    `00-${'0'.repeat(32)}-${PARENT}-01`,   // all-zero trace id
    `00-${TRACE}-${'0'.repeat(16)}-01`,    // all-zero parent
    `00-${TRACE.toUpperCase()}-${PARENT}-01`,
    `ff-${TRACE}-${PARENT}-01`,            // version ff
    `00-${TRACE}-${PARENT}-01-extra`,      // version 00 has nothing after the flags
    `00-${TRACE}-${PARENT}`,
  ];
  for (const traceparent of invalid) {
    const response = await chat('json', { headers: traceparent ? { traceparent } : {} });
    assert.equal(response.status, 200);
    const m = mock.requests.at(-1).headers.traceparent.match(/^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/);
    assert.ok(m, `for ${traceparent}`);
    assert.notEqual(m[1], TRACE, `for ${traceparent}`);
    const [server] = await collector.waitFor((s) => s.traceId === m[1] && s.kind === 2);
    assert.equal(server.parentSpanId ?? '', '', `for ${traceparent}`);
  }
  // A later version may add fields after the flags: it is read.
  await chat('json', { headers: { traceparent: `01-${TRACE}-${PARENT}-01-future` } });
  assert.match(mock.requests.at(-1).headers.traceparent, new RegExp(`^00-${TRACE}-`));
});

test('several traceparent headers are none; several tracestate headers are one list', async () => {
  const other = '1'.repeat(32);
  // fetch() would join repeated headers into one; node:http sends each on a line of its own.
  const postWith = (headers) => new Promise((resolve, reject) => {
    const req = http.request(`${proxy.url}/v1/chat/completions`, { method: 'POST', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end(chatBody('json'));
  });
  assert.equal(await postWith({ 'content-type': 'application/json', traceparent: [`00-${TRACE}-${PARENT}-01`, `00-${other}-${PARENT}-01`] }), 200);
  const [, trace] = mock.requests.at(-1).headers.traceparent.match(/^00-([0-9a-f]{32})-/);
  assert.ok(trace !== TRACE && trace !== other, 'a new trace');
  assert.equal(await postWith({ 'content-type': 'application/json', traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: ['a=1', 'b=2'] }), 200);
  assert.equal(mock.requests.at(-1).headers.tracestate, 'a=1,b=2');
});

test('a client error marks the request span with error.type, not an error status', async () => {
  const trace = '9'.repeat(31) + '7';
  const response = await chat('error:400', { headers: { traceparent: `00-${trace}-${PARENT}-01` } });
  assert.equal(response.status, 400);
  const [server] = await collector.waitFor((s) => s.traceId === trace && s.kind === 2);
  assert.equal(server.attributes['error.type'], '400');
  assert.equal(server.status, undefined);
});

test('every attempt is a span: failed ones with their error, under one request span', async () => {
  const trace = 'a'.repeat(31) + '1';
  const response = await chat('json', { prefix: '/dead', headers: { traceparent: `00-${trace}-${PARENT}-01` } });
  assert.equal(response.status, 502);
  const spans = await spansOf(trace, 3);
  const server = spans.find((s) => s.kind === 2);
  const attempts = spans.filter((s) => s.kind === 3);
  assert.equal(attempts.length, 2);
  for (const attempt of attempts) {
    assert.equal(attempt.parentSpanId, server.spanId);
    assert.equal(attempt.status.code, 2);
    assert.equal(attempt.attributes['error.type'], 'connect');
    assert.equal(attempt.attributes['llm_proxy.llm'], 'dead');
  }
  assert.notEqual(attempts[0].spanId, attempts[1].spanId);
  assert.equal(server.status.code, 2);
  assert.equal(server.attributes['error.type'], '502');
  assert.equal(server.attributes['llm_proxy.attempts'], 2);
});

test('a trace the client did not sample is not recorded, and its header passes unchanged', async () => {
  const trace = 'b'.repeat(31) + '2';
  const header = `00-${trace}-${PARENT}-00`;
  assert.equal((await chat('json', { headers: { traceparent: header, tracestate: 'k=v' } })).status, 200);
  assert.equal(mock.requests.at(-1).headers.traceparent, header);
  assert.equal(mock.requests.at(-1).headers.tracestate, 'k=v');
  // A sampled request after it is exported; the unsampled one never is.
  const marker = 'c'.repeat(31) + '3';
  await chat('json', { headers: { traceparent: `00-${marker}-${PARENT}-01` } });
  await spansOf(marker, 2);
  assert.equal(collector.spans.filter((s) => s.traceId === trace).length, 0);
});

test('streams are traced once they end', async () => {
  const trace = 'd'.repeat(31) + '4';
  const response = await chat('stream-usage:3', { stream: true, headers: { traceparent: `00-${trace}-${PARENT}-01` } });
  await response.text();
  const spans = await spansOf(trace, 2);
  const server = spans.find((s) => s.kind === 2);
  assert.equal(server.attributes['llm_proxy.stream'], true);
  assert.equal(server.attributes['gen_ai.usage.output_tokens'], 3);
});

test('a collector that is down costs spans, counted, never requests', async () => {
  const down = await startProxy(upstreamConfig(mock.url, { extra: telemetry(`http://127.0.0.1:${await closedPort()}/v1/traces`) }));
  try {
    for (let i = 0; i < 5; i++) assert.equal((await post(`${down.url}/v1/chat/completions`, chatBody('json'))).status, 200);
    await down.waitForLog(/tracing: the collector at http:\/\/127\.0\.0\.1:\d+\/v1\/traces did not take \d+ spans; they are dropped/);
    const deadline = Date.now() + 5000;
    let dropped = 0;
    while (Date.now() < deadline) {
      const text = await (await fetch(`${down.url}/metrics`)).text();
      dropped = Number(text.match(/^llm_proxy_spans_dropped_total (\S+)$/m)?.[1] ?? 0);
      if (dropped >= 10) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(dropped, 10, 'a request span and an attempt span for each of the 5 requests');
  } finally {
    await down.stop();
  }
});

test('a collector answering an error status gets the spans counted as dropped; they are not retried', async () => {
  collector.status = 503;
  try {
    const before = collector.posts;
    const trace = 'e'.repeat(31) + '5';
    await chat('json', { headers: { traceparent: `00-${trace}-${PARENT}-01` } });
    const deadline = Date.now() + 5000;
    while (collector.posts === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await proxy.waitForLog(/tracing: the collector at .* did not take 2 spans/);
  } finally {
    collector.status = 200;
  }
  // Not retried: once the collector takes spans again, that trace's never come.
  const marker = 'f'.repeat(31) + '6';
  await chat('json', { headers: { traceparent: `00-${marker}-${PARENT}-01` } });
  await spansOf(marker, 2);
  assert.equal(collector.spans.filter((s) => s.traceId === 'e'.repeat(31) + '5').length, 0);
  const text = await (await fetch(`${proxy.url}/metrics`)).text();
  assert.ok(Number(text.match(/^llm_proxy_spans_dropped_total (\S+)$/m)[1]) >= 2);
  assert.ok(Number(text.match(/^llm_proxy_spans_exported_total (\S+)$/m)[1]) >= 2);
});

test('sample_ratio = 0 records no new trace; tracing off passes the client\'s headers', async () => {
  const unsampled = await startProxy(upstreamConfig(mock.url, { extra: telemetry(collector.url, 'sample_ratio = 0') }));
  const off = await startProxy(upstreamConfig(mock.url));
  try {
    const count = collector.spans.length;
    assert.equal((await post(`${unsampled.url}/v1/chat/completions`, chatBody('json'))).status, 200);
    const header = mock.requests.at(-1).headers.traceparent;
    assert.equal(header, undefined, 'nothing recorded, so no span of llm-proxy\'s to name');
    const client = `00-${TRACE}-${PARENT}-01`;
    assert.equal((await post(`${off.url}/v1/chat/completions`, chatBody('json'), { traceparent: client })).status, 200);
    assert.equal(mock.requests.at(-1).headers.traceparent, client);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(collector.spans.length, count);
  } finally {
    await unsampled.stop();
    await off.stop();
  }
});
