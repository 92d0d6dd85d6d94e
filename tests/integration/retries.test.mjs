// Retries (issue 12): one attempt loop in the host tries a failed upstream call again when the
// retry policy names the failure, waits with backoff or as the upstream's Retry-After asks, stays
// inside the request's deadline, draws another deployment of a public model, and never retries
// once a byte of a stream reached the client (the stream's head waits for its first content).
// The scripted upstream records every attempt; tests check what it saw, in order.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';

import { startScriptedUpstream } from './lib/scripted_upstream.mjs';
import { chatBody, closedPort, post, readEvents, runProxy, startProxy, writeConfig } from './lib/proxy.mjs';

let upstream;
let failing;  // always fails, by its own script
let proxy;
let ids = 0;

const config = (url, failingUrl, deadPort) => `
[server]
host = "127.0.0.1"
port = 0

[llm.scripted]
provider = "openai"
base_url = "${url}/v1"

[llm.scripted.retry]
attempts = 3
backoff_base_ms = 20
backoff_max_ms = 40
retry_after_max_ms = 1500

[llm.once]
provider = "openai"
base_url = "${url}/v1"

[llm.failing]
provider = "openai"
base_url = "${failingUrl}/v1"

[llm.dead]
provider = "openai"
base_url = "http://127.0.0.1:${deadPort}/v1"
connect_timeout_ms = 1000

[models.spread]
deployments = [{ llm = "failing" }, { llm = "once" }]

[models.unreachable]
deployments = [{ llm = "dead" }]

[[route]]
path_prefix = "/v1/chat/completions"
target_llm = "scripted"

[[route]]
path_prefix = "/deadline/v1/chat/completions"
target_llm = "scripted"
retry = { attempts = 5, retry_after_max_ms = 5000, deadline_ms = 1500 }

[[route]]
path_prefix = "/unheld/v1/chat/completions"
target_llm = "scripted"
hold_stream_head = false

[[route]]
path_prefix = "/models/v1/chat/completions"
retry = { attempts = 2, backoff_base_ms = 0, backoff_max_ms = 0 }

[[route]]
path_prefix = "/none/v1/chat/completions"
target_llm = "once"

[processor.log]
type = "logger"
config_value = "info"

[[route]]
path_prefix = "/logged/v1/chat/completions"
target_llm = "scripted"
processors = ["log"]

[processor.enhance]
type = "openai_chat"
config_value = "json"
additional_config = { llm = "scripted" }

[[route]]
path_prefix = "/enhanced/v1/chat/completions"
target_llm = "once"
processors = ["enhance"]
`;

before(async () => {
  upstream = await startScriptedUpstream({ name: 'alpha' });
  failing = await startScriptedUpstream({ name: 'failing' });
  proxy = await startProxy(config(upstream.url, failing.url, await closedPort()));
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
  await failing?.close();
});

// A request whose upstream attempts follow script; returns the response and the request's id.
async function scripted(script, { stream = false, prefix = '', model = 'm' } = {}) {
  const id = `r${++ids}`;
  const response = await post(`${proxy.url}${prefix}/v1/chat/completions`, chatBody(model, { stream }),
    { 'x-script': script, 'x-script-id': id });
  return { response, id, attempts: () => upstream.attemptsOf(id) };
}

for (const step of ['408', '429', '500', '502', '503', '504', '529', 'reset']) {
  test(`${step}, then a success: retried, and the client gets the success`, async () => {
    const { response, attempts } = await scripted(`${step},ok`);
    assert.equal(response.status, 200);
    assert.equal((await response.json()).choices[0].message.content, 'alpha says hi');
    assert.equal(response.headers.get('x-llm-proxy-attempts'), '2');
    assert.deepEqual(attempts().map((a) => a.step), [step, 'ok']);
  });
}

for (const step of ['400', '401', '403', '404', '413', '422', 'context-length']) {
  test(`${step}: a client error, never retried; it goes to the client as the upstream said it`, async () => {
    const { response, attempts } = await scripted(`${step},ok`);
    assert.equal(response.status, step === 'context-length' ? 400 : Number(step));
    assert.equal(response.headers.get('x-llm-proxy-attempts'), '1');
    assert.equal(attempts().length, 1);
  });
}

test('attempts are bounded: the last failure goes to the client, with the attempts made', async () => {
  const { response, attempts } = await scripted('500,503,502,ok');
  assert.equal(response.status, 502);
  assert.match((await response.json()).error.message, /scripted 502/);
  assert.equal(response.headers.get('x-llm-proxy-attempts'), '3');
  assert.deepEqual(attempts().map((a) => a.step), ['500', '503', '502']);
  await proxy.waitForLog(/attempt 2 on \[llm\.scripted\] failed \(503\): .*scripted 503.*; retrying in \d+ ms/);
  await proxy.waitForLog(/attempt 3 on \[llm\.scripted\] failed \(502\); not retried/);
  await proxy.waitForLog(/access method=POST path=\/v1\/chat\/completions .*status=502 upstream_status=502 .*llm=scripted attempts=3/);
});

test('processors\' on_finish learns the attempts, the llm and the model sent upstream (ABI 1.3)', async () => {
  const { response } = await scripted('500,ok', { prefix: '/logged', model: 'gpt-logged' });
  assert.equal(response.status, 200);
  await response.text();
  await proxy.waitForLog(/\[log\] finished status=200 .* attempts=2 llm=scripted upstream_model="gpt-logged"/);
});

test('an llm without a retry policy makes one attempt', async () => {
  const { response, attempts } = await scripted('500,ok', { prefix: '/none' });
  assert.equal(response.status, 500);
  assert.equal(response.headers.get('x-llm-proxy-attempts'), '1');
  assert.equal(attempts().length, 1);
});

test('Retry-After is waited before the next attempt, and retry-after-ms wins over it', async () => {
  const seconds = await scripted('429;retry-after=1,ok');
  assert.equal(seconds.response.status, 200);
  const [first, second] = seconds.attempts();
  assert.ok(second.at - first.at >= 990, `the retry came ${second.at - first.at} ms after the 429`);

  const ms = await scripted('429;retry-after=60;retry-after-ms=300,ok');
  assert.equal(ms.response.status, 200);
  const [a, b] = ms.attempts();
  assert.ok(b.at - a.at >= 295, `the retry came ${b.at - a.at} ms after the 429`);
});

test('an upstream asking to wait longer than retry_after_max_ms is not retried: its 429 goes out, Retry-After kept', async () => {
  const { response, attempts } = await scripted('429;retry-after=30,ok');
  assert.equal(response.status, 429);
  assert.equal(response.headers.get('retry-after'), '30');
  assert.equal(attempts().length, 1);
});

test('the deadline: no retry whose wait would end past it; the last failure goes out', async () => {
  // Waits of 1 s each: the second attempt comes at about 1 s, a third would come at 2 s, past 1.5 s.
  const { response, attempts } = await scripted('429;retry-after=1,429;retry-after=1,ok', { prefix: '/deadline' });
  assert.equal(response.status, 429);
  assert.equal(response.headers.get('x-llm-proxy-attempts'), '2');
  assert.equal(attempts().length, 2);
});

test('a stream that fails before its first content is retried invisibly: the client sees one clean stream', async () => {
  const { response, attempts } = await scripted('role-then-cut,reset,ok', { stream: true });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('x-llm-proxy-attempts'), '3');
  const events = await readEvents(response);
  assert.equal(events.at(-1), '[DONE]');
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
  assert.equal(chunks.filter((c) => c.choices[0]?.delta?.role === 'assistant').length, 1, 'one opening chunk');
  assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'alpha says hi');
  assert.deepEqual(attempts().map((a) => a.step), ['role-then-cut', 'reset', 'ok']);
});

test('no retry once content reached the client: the stream ends with an error event', async () => {
  const { response, attempts } = await scripted('cut-mid,ok', { stream: true });
  assert.equal(response.status, 200);
  const events = await readEvents(response);
  assert.equal(JSON.parse(events[1]).choices[0].delta.content, 'alpha ');
  assert.ok(JSON.parse(events.at(-1)).error, `the stream ends with an error event: ${events.at(-1)}`);
  assert.equal(attempts().length, 1);
});

test('hold_stream_head = false: the head goes out at once, so a failure after it is not retried', async () => {
  const { response, attempts } = await scripted('role-then-cut,ok', { stream: true, prefix: '/unheld' });
  assert.equal(response.status, 200);
  const events = await readEvents(response);
  assert.ok(JSON.parse(events.at(-1)).error, `the stream ends with an error event: ${events.at(-1)}`);
  assert.equal(attempts().length, 1);
});

test('a retry on a public model draws another deployment than the one that failed', async () => {
  failing.script = Array(20).fill('500');
  for (let i = 0; i < 10; i++) {
    const before = failing.attempts.length;
    const response = await post(`${proxy.url}/models/v1/chat/completions`, chatBody('spread'));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-llm-proxy-llm'), 'once');
    assert.ok(failing.attempts.length - before <= 1, 'the failing deployment was tried at most once');
  }
  assert.ok(failing.attempts.length > 0, 'the failing deployment was drawn at least once in 10');
});

test('an llm that cannot be reached is a connect failure, retried', async () => {
  const response = await post(`${proxy.url}/models/v1/chat/completions`, chatBody('unreachable'));
  assert.equal(response.status, 502);
  assert.equal((await response.json()).error.code, 'upstream_unreachable');
  assert.equal(response.headers.get('x-llm-proxy-attempts'), '2');
  await proxy.waitForLog(/attempt 1 on \[llm\.dead\] failed \(connect\): .*; retrying in 0 ms/);
});

test('a client that leaves during the wait before a retry stops the retries', async () => {
  const id = `r${++ids}`;
  const client = http.request(`${proxy.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-script': '429;retry-after=1,ok', 'x-script-id': id },
  });
  client.on('error', () => {});
  client.end(chatBody('m'));
  while (upstream.attemptsOf(id).length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  client.destroy();
  // The access line comes when the request ends: after one attempt, not after the retry.
  await proxy.waitForLog(/access method=POST path=\/v1\/chat\/completions .*upstream_status=429 .*attempts=1 client_gone=true/);
  assert.equal(upstream.attemptsOf(id).length, 1);
});

test('the openai client with its own retries off gets one clean answer while the upstream failed twice', async () => {
  const client = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'k', maxRetries: 0 });
  const id = `r${++ids}`;
  const options = { headers: { 'x-script': '503,reset,ok', 'x-script-id': id } };
  const answer = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }, options);
  assert.equal(answer.choices[0].message.content, 'alpha says hi');
  assert.equal(upstream.attemptsOf(id).length, 3);

  const streamId = `r${++ids}`;
  const stream = await client.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] },
    { headers: { 'x-script': '529,role-then-cut,ok', 'x-script-id': streamId } });
  let text = '';
  for await (const part of stream) text += part.choices[0]?.delta?.content ?? '';
  assert.equal(text, 'alpha says hi');
  assert.equal(upstream.attemptsOf(streamId).length, 3);
});

test('--check refuses client errors in on, unknown failures, and a backoff ceiling under its base', () => {
  const file = writeConfig(`
[llm.a]
provider = "echo"

[llm.a.retry]
on = ["400", "teapot", "503", "0500"]
backoff_base_ms = 500
backoff_max_ms = 100

[[route]]
path_prefix = "/v1/chat/completions"
target_llm = "a"
retry = { attempts = 0 }
`);
  const result = runProxy(['--check', '--config', file]);
  assert.equal(result.status, 1, result.stdout + result.stderr);
  const out = result.stdout + result.stderr;
  assert.match(out, /llm\.a\.retry\.on.*"400" is a client error/);
  assert.match(out, /llm\.a\.retry\.on.*"teapot" is not a failure llm-proxy retries/);
  assert.match(out, /llm\.a\.retry\.on.*"0500" is not a failure llm-proxy retries/);
  assert.match(out, /llm\.a\.retry\.backoff_max_ms.*must be at least backoff_base_ms \(500\)/);
  assert.match(out, /route\[0\]\.retry\.attempts.*must be an integer from 1 to 10/);
});

test('a side call (a processor asking an llm) follows that llm\'s retry policy', async () => {
  // The openai_chat processor's call to [llm.scripted] (3 attempts) fails twice, then the request
  // itself goes to [llm.once] on the same upstream.
  upstream.script = ['503', 'reset', 'ok', 'ok'];
  const before = upstream.attempts.length;
  const response = await post(`${proxy.url}/enhanced/v1/chat/completions`, chatBody('m'));
  assert.equal(response.status, 200, await response.clone().text());
  assert.equal(response.headers.get('x-llm-proxy-attempts'), '1', 'the side call\'s attempts are its own');
  const steps = upstream.attempts.slice(before).map((a) => a.step);
  assert.deepEqual(steps, ['503', 'reset', 'ok', 'ok']);
  const [request] = upstream.attempts.slice(-1);
  assert.match(JSON.stringify(request.json.messages), /alpha says hi/, 'the enhanced query went upstream');
  await proxy.waitForLog(/side call: attempt 1 on \[llm\.scripted\] failed \(503\): .*; retrying in \d+ ms/);
});
