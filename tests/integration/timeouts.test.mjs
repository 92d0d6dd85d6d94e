// Per-phase timeouts (issue 12): an llm's first_byte_timeout_ms (request sent to answer head),
// first_event_timeout_ms (head to a stream's first event), idle_timeout_ms (between reads) and
// total_timeout_ms (one attempt), with read_timeout_ms the default of the first three; the retry
// policy's deadline_ms bounds an attempt in flight too. Each expiry is a 504 upstream_timeout (an
// SSE error event once a stream has started) naming the setting that fired and its value; a
// timeout is a failure a retry policy may retry.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startScriptedUpstream } from './lib/scripted_upstream.mjs';
import { chatBody, post, readEvents, runProxy, startProxy, writeConfig } from './lib/proxy.mjs';

let upstream;
let proxy;
let ids = 0;

const llm = (name, settings) => `
[llm.${name}]
provider = "openai"
base_url = "${upstream.url}/v1"
read_timeout_ms = 5000
${settings}
`;

const route = (prefix, target, extra = '') => `
[[route]]
path_prefix = "${prefix}/v1/chat/completions"
target_llm = "${target}"
${extra}
`;

before(async () => {
  upstream = await startScriptedUpstream({ name: 'slow' });
  proxy = await startProxy(`
[server]
host = "127.0.0.1"
port = 0
${llm('phases', 'first_byte_timeout_ms = 300\nfirst_event_timeout_ms = 300\nidle_timeout_ms = 300')}
${llm('total', 'total_timeout_ms = 400')}
${llm('retried', 'first_byte_timeout_ms = 300\nfirst_event_timeout_ms = 300\n[llm.retried.retry]\nattempts = 2\nbackoff_base_ms = 0\nbackoff_max_ms = 0')}
${llm('patient', '')}
${route('', 'phases')}
${route('/total', 'total')}
${route('/retried', 'retried')}
${route('/deadline', 'patient', 'retry = { attempts = 3, deadline_ms = 500 }')}
`);
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
});

async function request(script, { stream = false, prefix = '' } = {}) {
  const id = `t${++ids}`;
  const response = await post(`${proxy.url}${prefix}/v1/chat/completions`, chatBody('m', { stream }),
    { 'x-script': script, 'x-script-id': id });
  return { response, attempts: () => upstream.attemptsOf(id) };
}

async function expectTimeout(response, message) {
  assert.equal(response.status, 504);
  const { error } = await response.json();
  assert.equal(error.code, 'upstream_timeout');
  assert.match(error.message, message);
}

async function expectErrorEvent(response, message) {
  assert.equal(response.status, 200);
  const events = await readEvents(response);
  const last = JSON.parse(events.at(-1));
  assert.equal(last.error?.code, 'upstream_timeout', `the stream ends with a timeout: ${events.at(-1)}`);
  assert.match(last.error.message, message);
}

test('SSE comments are no events: the first event\'s timeout counts from the head, not from each read', async () => {
  const { response, attempts } = await request('pings-then-stall', { stream: true });
  await expectErrorEvent(response, /upstream 'phases' sent no event within first_event_timeout_ms = 300/);
  // A comment every 50 ms: about 6 before 300 ms; a timeout restarted by each would wait for all 40.
  const [attempt] = attempts();
  assert.ok(attempt.pings < 20, `the upstream sent ${attempt.pings} comments before the timeout`);
});

test('no answer head in time: 504 naming first_byte_timeout_ms', async () => {
  const { response } = await request('stall-head');
  await expectTimeout(response, /upstream 'phases' sent no answer head within first_byte_timeout_ms = 300/);
});

test('a stream\'s head, then no event in time: an error event naming first_event_timeout_ms', async () => {
  const { response } = await request('stall-first-event', { stream: true });
  await expectErrorEvent(response, /sent no event within first_event_timeout_ms = 300/);
});

test('a stream that goes quiet: an error event naming idle_timeout_ms, after what came', async () => {
  const { response } = await request('stall-mid', { stream: true });
  assert.equal(response.status, 200);
  const events = await readEvents(response);
  assert.equal(JSON.parse(events[1]).choices[0].delta.content, 'slow ');
  assert.match(JSON.parse(events.at(-1)).error.message, /sent nothing more within idle_timeout_ms = 300/);
});

test('a whole answer whose body stops coming: 504 naming idle_timeout_ms', async () => {
  const { response } = await request('stall-first-event');
  await expectTimeout(response, /sent nothing more within idle_timeout_ms = 300/);
});

test('an attempt longer than total_timeout_ms ends, naming it, though no gap was too long', async () => {
  const { response } = await request('stall-mid', { stream: true, prefix: '/total' });
  await expectErrorEvent(response, /upstream 'total' had not finished when total_timeout_ms = 400 ran out/);
});

test('a timeout is retried: the second attempt answers', async () => {
  const { response, attempts } = await request('stall-head,ok', { prefix: '/retried' });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('x-llm-proxy-attempts'), '2');
  assert.equal(attempts().length, 2);
  await proxy.waitForLog(/attempt 1 on \[llm\.retried\] failed \(timeout\): .*first_byte_timeout_ms = 300; retrying in 0 ms/);
});

test('a stream whose first event is late is retried before the client sees anything', async () => {
  const { response, attempts } = await request('stall-first-event,ok', { stream: true, prefix: '/retried' });
  assert.equal(response.status, 200);
  const events = await readEvents(response);
  assert.equal(events.at(-1), '[DONE]');
  assert.equal(attempts().length, 2);
});

test('a held head goes out once 64 KiB of events without content came, and is not retried after', async () => {
  const { response, attempts } = await request('empty-then-stall,ok', { stream: true, prefix: '/retried' });
  assert.equal(response.status, 200);
  const events = await readEvents(response);
  assert.match(JSON.parse(events.at(-1)).error.message, /idle_timeout_ms|read_timeout_ms/);
  assert.equal(attempts().length, 1, 'the stream had started: no retry');
});

test('the retry policy\'s deadline bounds an attempt in flight, and no retry follows', async () => {
  const { response, attempts } = await request('stall-head,ok', { prefix: '/deadline' });
  await expectTimeout(response, /had not finished when the retry policy's deadline_ms = 500 ran out/);
  assert.equal(attempts().length, 1);
});

test('--check refuses a phase timeout that cannot fit in total_timeout_ms', () => {
  const file = writeConfig(`
[llm.a]
provider = "openai"
base_url = "http://127.0.0.1:9/v1"
first_byte_timeout_ms = 5000
total_timeout_ms = 1000

[[route]]
path_prefix = "/v1/chat/completions"
target_llm = "a"
`);
  const result = runProxy(['--check', '--config', file]);
  assert.equal(result.status, 1);
  assert.match(result.stdout + result.stderr,
    /llm\.a\.first_byte_timeout_ms.*= 5000 cannot fit in total_timeout_ms = 1000/);
});
