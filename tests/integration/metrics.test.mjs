// GET /metrics (issue 13): Prometheus's text format, the OpenTelemetry GenAI metrics under their
// Prometheus names and llm-proxy's own, labelled only with names from the configuration. Tests
// read the counts before and after what they do, so they do not depend on each other's order.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startMock } from './lib/mock_upstream.mjs';
import { chatBody, closedPort, eventually, post, startProxy, upstreamConfig } from './lib/proxy.mjs';

let mock;
let proxy;

const config = (url, deadPort) => upstreamConfig(url, {
  extra: `
[llm.dead]
provider = "openai"
base_url = "http://127.0.0.1:${deadPort}/v1"
connect_timeout_ms = 1000

[llm.retried]
provider = "openai"
base_url = "${url}"
retry = { attempts = 2, backoff_base_ms = 0, backoff_max_ms = 0 }

[models.pair]
deployments = [{ llm = "dead", weight = 1000 }, { llm = "mock", weight = 1 }]
ejection = { consecutive_failures = 1, base_ejection_ms = 600000, max_ejection_ms = 600000 }

[models.json]
deployments = [{ llm = "mock" }]

[[route]]
path_prefix = "/named/v1/chat/completions"
target_llm = "mock"
models = ["json", "stream*"]

[[route]]
path_prefix = "/dead/v1/chat/completions"
target_llm = "dead"

[[route]]
path_prefix = "/retried/v1/chat/completions"
target_llm = "retried"

[[route]]
path_prefix = "/models/v1/chat/completions"
retry = { attempts = 3, backoff_base_ms = 0, backoff_max_ms = 0 }
`,
});

before(async () => {
  mock = await startMock();
  proxy = await startProxy(config(mock.url, await closedPort()));
});

after(async () => {
  await proxy?.stop();
  await mock?.close();
});

// The scrape as { text, value(name, labels) }: value sums the lines of that name whose labels
// include every given one (0 when none does).
async function scrape(url = proxy.url) {
  const response = await fetch(`${url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/);
    assert.ok(m, `not a sample line: ${line}`);
    const labels = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  const value = (name, want = {}) => samples
    .filter((s) => s.name === name && Object.entries(want).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
  return { text, samples, value };
}

// A request is counted once its answer has gone, so a client may scrape a moment before: checks
// of counts go through eventually().
const chat = (model, { prefix = '', stream = false } = {}) =>
  post(`${proxy.url}${prefix}/v1/chat/completions`, chatBody(model, { stream }));

const route = (prefix) => ({ route: prefix, api: 'openai' });

test('requests, tokens, durations and time to first token are counted, streams included', async () => {
  const before = await scrape();
  const mockLlm = { llm: 'mock', gen_ai_provider_name: 'openai', gen_ai_operation_name: 'chat' };
  for (let i = 0; i < 3; i++) assert.equal((await chat('json')).status, 200);
  for (let i = 0; i < 2; i++) {
    const response = await chat('stream-usage:4', { stream: true });
    assert.equal(response.status, 200);
    await response.text();
  }
  await eventually(async () => {
    const now = await scrape();
    const delta = (name, labels) => now.value(name, labels) - before.value(name, labels);
    assert.equal(delta('llm_proxy_requests_total', { ...route('/v1/chat/completions'), status_class: '2xx' }), 5);
    assert.equal(delta('gen_ai_client_operation_duration_seconds_count', mockLlm), 5);
    assert.equal(delta('gen_ai_client_token_usage_sum', { ...mockLlm, gen_ai_token_type: 'input' }), 3 * 3 + 2 * 7);
    assert.equal(delta('gen_ai_client_token_usage_sum', { ...mockLlm, gen_ai_token_type: 'output' }), 3 * 2 + 2 * 4);
    assert.equal(delta('gen_ai_server_time_to_first_token_seconds_count', mockLlm), 2);
    assert.equal(delta('gen_ai_server_time_per_output_token_seconds_count', mockLlm), 2);
    assert.equal(delta('llm_proxy_upstream_attempts_total', { llm: 'mock', outcome: 'answered' }), 5);
    assert.equal(delta('llm_proxy_overhead_seconds_count', route('/v1/chat/completions')), 5);
    assert.ok(delta('llm_proxy_overhead_seconds_sum', route('/v1/chat/completions')) > 0);
    assert.equal(now.value('llm_proxy_active_streams'), 0);
  });
});

test('histograms are cumulative, and +Inf is the count', async () => {
  await chat('json');
  const { samples } = await scrape();
  const series = samples.filter((s) => s.name === 'gen_ai_client_operation_duration_seconds_bucket');
  assert.ok(series.length > 0);
  const groups = new Map();
  for (const s of series) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(rest);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push({ le, value: s.value });
  }
  for (const [key, buckets] of groups) {
    assert.equal(buckets.at(-1).le, '+Inf');
    for (let i = 1; i < buckets.length; i++) {
      assert.ok(Number(buckets[i].le === '+Inf' ? Infinity : buckets[i].le) > Number(buckets[i - 1].le));
      assert.ok(buckets[i].value >= buckets[i - 1].value, `buckets of ${key} are not cumulative`);
    }
    const count = samples.find((s) => s.name === 'gen_ai_client_operation_duration_seconds_count'
      && JSON.stringify(s.labels) === key);
    assert.equal(count.value, buckets.at(-1).value);
  }
});

test('request models the configuration does not name count as "other": clients cannot add series', async () => {
  // One invented name first, so that the "other" series exist before counting series.
  assert.equal((await chat('json:invented-first')).status, 200);
  const seriesBefore = (await scrape()).samples.length;
  for (let i = 0; i < 30; i++) assert.equal((await chat(`json:invented-${i}`)).status, 200);
  const { text, samples, value } = await scrape();
  assert.doesNotMatch(text, /invented/);
  assert.equal(samples.length, seriesBefore);
  assert.ok(value('gen_ai_client_token_usage_count', { llm: 'mock', gen_ai_request_model: 'other' }) >= 30);
  // A name the configuration gives (a route's exact model, a public model) is its own label.
  assert.equal((await chat('json', { prefix: '/named' })).status, 200);
  assert.equal((await chat('json', { prefix: '/models' })).status, 200);
  await eventually(async () => {
    const named = await scrape();
    assert.ok(named.value('gen_ai_client_operation_duration_seconds_count', { gen_ai_request_model: 'json' }) >= 2);
    assert.equal(named.value('llm_proxy_requests_total', route('/named/v1/chat/completions')), 1);
  });
});

test('failures: attempts by outcome, retries, error types and status classes', async () => {
  const before = await scrape();
  assert.equal((await chat('json', { prefix: '/dead' })).status, 502);
  assert.equal((await chat('error:500')).status, 500);
  assert.equal((await chat('error:400')).status, 400);
  assert.equal((await chat('error:503', { prefix: '/retried' })).status, 503);
  await eventually(async () => {
    const now = await scrape();
    const delta = (name, labels) => now.value(name, labels) - before.value(name, labels);
    assert.equal(delta('llm_proxy_upstream_attempts_total', { llm: 'dead', outcome: 'connect' }), 1);
    assert.equal(delta('llm_proxy_upstream_attempts_total', { llm: 'mock', outcome: '5xx' }), 1);
    assert.equal(delta('llm_proxy_upstream_attempts_total', { llm: 'mock', outcome: 'client_error' }), 1);
    assert.equal(delta('llm_proxy_upstream_attempts_total', { llm: 'retried', outcome: '5xx' }), 2);
    assert.equal(delta('llm_proxy_retries_total', route('/retried/v1/chat/completions')), 1);
    assert.equal(delta('llm_proxy_requests_total', { ...route('/dead/v1/chat/completions'), status_class: '5xx' }), 1);
    assert.equal(delta('llm_proxy_requests_total', { ...route('/v1/chat/completions'), status_class: '4xx' }), 1);
    assert.equal(delta('gen_ai_client_operation_duration_seconds_count', { llm: 'dead', error_type: '502' }), 1);
    assert.equal(delta('gen_ai_client_operation_duration_seconds_count', { llm: 'mock', error_type: '500' }), 1);
    assert.equal(delta('gen_ai_client_operation_duration_seconds_count', { llm: 'retried', error_type: '503' }), 1);
  });
  // Requests without a route count under route="none".
  await fetch(`${proxy.url}/nowhere`, { method: 'POST' });
  await eventually(async () => assert.equal((await scrape()).value('llm_proxy_requests_total', { route: 'none', status_class: '4xx' })
    - before.value('llm_proxy_requests_total', { route: 'none', status_class: '4xx' }), 1));
});

test('an ejected deployment shows in the gauge and the count of ejections', async () => {
  // The dead deployment weighs 1000 to 1: the first request is all but sure to try it, fail, and
  // move on to the other; one failure ejects it.
  for (let i = 0; i < 5; i++) assert.equal((await chat('pair', { prefix: '/models' })).status, 200);
  const { value } = await scrape();
  assert.equal(value('llm_proxy_deployment_ejected', { model: 'pair', llm: 'dead' }), 1);
  assert.equal(value('llm_proxy_deployment_ejected', { model: 'pair', llm: 'mock' }), 0);
  assert.equal(value('llm_proxy_deployment_ejections_total', { model: 'pair', llm: 'dead' }), 1);
  assert.ok(value('llm_proxy_upstream_attempts_total', { llm: 'dead', outcome: 'connect' }) >= 1);
});

test('streams and requests in flight show in the gauges while they last', async () => {
  const response = await chat('hold-stream', { stream: true });
  assert.equal(response.status, 200);
  const during = await scrape();
  assert.equal(during.value('llm_proxy_active_streams'), 1);
  assert.ok(during.value('llm_proxy_requests_in_progress') >= 2);  // the stream and the scrape
  assert.ok(during.value('llm_proxy_open_connections') >= 2);
  mock.release();
  await response.text();
  await eventually(async () => assert.equal((await scrape()).value('llm_proxy_active_streams'), 0));
});

test('GET only, and [server] metrics = false turns the endpoint and the counting off', async () => {
  const post405 = await fetch(`${proxy.url}/metrics`, { method: 'POST' });
  assert.equal(post405.status, 405);
  assert.equal(post405.headers.get('allow'), 'GET');
  const off = await startProxy(upstreamConfig(mock.url, { server: 'metrics = false' }));
  try {
    const response = await fetch(`${off.url}/metrics`);
    assert.equal(response.status, 404);
    assert.equal((await response.json()).error.code, 'route_not_found');
  } finally {
    await off.stop();
  }
});
