// Deployments and balancing (issue 12): a public model's deployments are chosen by weight, by the
// fewest attempts in flight, or by the lowest recent time to first byte; a deployment that keeps
// failing is ejected for a while and comes back; with every deployment out the choice is among all
// (panic mode); a 429's Retry-After cools its deployment; client errors and clients that leave
// never count. Two scripted upstreams, `a` and `b`, each told how to answer by its `otherwise`
// step; each test has its own public model, so its health starts fresh.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';

import { startScriptedUpstream } from './lib/scripted_upstream.mjs';
import { chatBody, post, startProxy } from './lib/proxy.mjs';

let a;
let b;
let c;  // answers the side calls of the slow route's processor
let proxy;

const pair = (name, extra = '') => `
[models.${name}]
deployments = [{ llm = "a" }, { llm = "b" }]
${extra}
`;

const config = () => `
[server]
host = "127.0.0.1"
port = 0

[llm.a]
provider = "openai"
base_url = "${a.url}/v1"

[llm.b]
provider = "openai"
base_url = "${b.url}/v1"

[llm.small]                  # a's upstream, taking events of at most 4 KB
provider = "openai"
base_url = "${a.url}/v1"
max_event_bytes = 4096

[llm.c]
provider = "openai"
base_url = "${c.url}/v1"

[processor.enhance]
type = "openai_chat"
config_value = "json"
additional_config = { llm = "c" }
${pair('eject', 'ejection = { consecutive_failures = 2, base_ejection_ms = 1000, max_ejection_ms = 1000 }')}
${pair('panic', 'ejection = { consecutive_failures = 1, max_ejected_percent = 100, base_ejection_ms = 600000 }')}
${pair('cool', 'ejection = { consecutive_failures = 1000 }')}
${pair('client-errors', 'ejection = { consecutive_failures = 1, base_ejection_ms = 600000 }')}
${pair('gone', 'ejection = { consecutive_failures = 1, base_ejection_ms = 600000 }')}
${pair('rate', 'ejection = { consecutive_failures = 0, failure_percent = 50, min_requests = 6, interval_ms = 600000, base_ejection_ms = 600000 }')}
${pair('least', 'balance = "least_outstanding"')}

[models.strict]
deployments = [{ llm = "small" }, { llm = "b" }]
ejection = { consecutive_failures = 1, base_ejection_ms = 600000 }
${pair('fast', 'balance = "latency"')}

[[route]]
path_prefix = "/v1/chat/completions"

[[route]]
path_prefix = "/slow/v1/chat/completions"
processors = ["enhance"]
`;

before(async () => {
  a = await startScriptedUpstream({ name: 'a' });
  b = await startScriptedUpstream({ name: 'b' });
  c = await startScriptedUpstream({ name: 'c' });
  proxy = await startProxy(config());
});

after(async () => {
  await proxy?.stop();
  await a?.close();
  await b?.close();
  await c?.close();
});

beforeEach(() => {
  for (const upstream of [a, b, c]) {
    upstream.otherwise = 'ok';
    upstream.script = [];
    upstream.release();
  }
});

const ask = (model, headers = {}) => post(`${proxy.url}/v1/chat/completions`, chatBody(model), headers);

// A request to model, and the llm that answered it (its body read).
async function served(model) {
  const response = await ask(model);
  await response.text();
  return { status: response.status, llm: response.headers.get('x-llm-proxy-llm') };
}

// Requests until `until()` holds, at most `most` of them (a deployment drawn at random by
// weight is missed 40 times running about once in 10^12).
async function requestUntil(model, until, most = 40) {
  for (let i = 0; i < most && !until(); i++) await served(model);
  assert.ok(until(), `the condition did not hold within ${most} requests to ${model}`);
}

async function health(model) {
  const response = await fetch(`${proxy.url}/healthz`);
  return (await response.json()).models[model].deployments;
}

// Polls /healthz until check(deployments) holds (ejections end on the host's clock).
async function healthUntil(model, check, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const deployments = await health(model);
    if (check(deployments)) return deployments;
    if (Date.now() > deadline) assert.fail(`/healthz never showed the state: ${JSON.stringify(deployments)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('a deployment failing in a row is ejected: requests go to the other until it comes back', async () => {
  a.otherwise = '500';
  const failed = a.attempts.length;
  await requestUntil('eject', () => a.attempts.length - failed >= 2);
  const [ejected, other] = await health('eject');
  assert.equal(ejected.healthy, false);
  assert.ok(ejected.ejected_ms > 0 && ejected.ejected_ms <= 1000, JSON.stringify(ejected));
  assert.equal(ejected.ejections, 1);
  assert.equal(other.healthy, true);
  await proxy.waitForLog(/model eject: deployment 0 \(\[llm\.a\], model eject\) ejected for 1000 ms after 2 failures in a row \(recent ejections: 1\)/);
  a.otherwise = 'ok';

  // While ejected (1 s; a request takes a few ms), none reaches it. A request may come after the
  // ejection ended and go to a again, so only those with the ejection still on after them count.
  const before = a.attempts.length;
  let checked = 0;
  for (let i = 0; i < 5; i++) {
    const { status, llm } = await served('eject');
    const [state] = await health('eject');
    if (state.ejected_ms === 0) break;
    assert.equal(status, 200);
    assert.equal(llm, 'b', 'an ejected deployment served a request');
    assert.equal(a.attempts.length, before, 'the ejected deployment got a request');
    checked++;
  }
  assert.ok(checked > 0, 'the ejection ended before any request');

  // Recovery: once its ejection ends, it is chosen again, and a success there keeps it in.
  await healthUntil('eject', ([state]) => state.healthy);
  await requestUntil('eject', () => a.attempts.length > before);
  const [back] = await health('eject');
  assert.equal(back.healthy, true);
});

test('a failure rate over the minimum volume ejects, though no two failures came in a row', async () => {
  a.script = ['ok', '500', 'ok', '500', 'ok', '500'];  // 3 of 6 failed: 50%
  await requestUntil('rate', () => a.script.length === 0);
  const [state] = await health('rate');
  assert.equal(state.healthy, false, JSON.stringify(state));
  assert.equal(state.ejections, 1);
  await proxy.waitForLog(/model rate: deployment 0 \(\[llm\.a\], model rate\) ejected for 600000 ms after 3 of 6 attempts failed within interval_ms = 600000/);
});

test('panic mode: with every deployment ejected, requests still go to them, and the log says so', async () => {
  a.otherwise = '500';
  b.otherwise = '500';
  const [a0, b0] = [a.attempts.length, b.attempts.length];
  await requestUntil('panic', () => a.attempts.length > a0 && b.attempts.length > b0);
  const states = await health('panic');
  assert.deepEqual(states.map((s) => s.healthy), [false, false]);
  a.otherwise = 'ok';
  b.otherwise = 'ok';
  const seen = new Set();
  for (let i = 0; i < 40 && seen.size < 2; i++) {
    const { status, llm } = await served('panic');
    assert.equal(status, 200, 'a request in panic mode is served, not refused');
    seen.add(llm);
  }
  await proxy.waitForLog(/model panic: every deployment is ejected or cooling down; choosing among all of them/);
  assert.deepEqual([...seen].sort(), ['a', 'b'], 'panic chooses among all deployments');
});

test('a 429 with Retry-After cools its deployment for that long: the others take the requests', async () => {
  a.otherwise = '429;retry-after=30';
  const before = a.attempts.length;
  await requestUntil('cool', () => a.attempts.length > before);
  a.otherwise = 'ok';
  const [cooling, other] = await health('cool');
  assert.ok(cooling.cooling_ms > 25000 && cooling.cooling_ms <= 30000, JSON.stringify(cooling));
  assert.equal(cooling.ejected_ms, 0, 'cooling is not an ejection');
  assert.equal(other.healthy, true);
  const after = a.attempts.length;
  for (let i = 0; i < 10; i++) assert.equal((await served('cool')).llm, 'b');
  assert.equal(a.attempts.length, after);
});

test('client errors (400, 401, 403, 404, 413, 422) never count against a deployment; a 500 does', async () => {
  a.script = ['400', '401', '403', '404', '413', '422'];
  await requestUntil('client-errors', () => a.script.length === 0);
  let [state] = await health('client-errors');
  assert.equal(state.healthy, true, JSON.stringify(state));
  assert.equal(state.ejections, 0);
  // The same model ejects on one failure of its own (consecutive_failures = 1).
  a.script = ['500'];
  await requestUntil('client-errors', () => a.script.length === 0);
  [state] = await health('client-errors');
  assert.equal(state.healthy, false);
});

test('a client that leaves never counts against the deployment it was waiting on', async () => {
  a.otherwise = 'stall-head';
  let left = false;
  for (let i = 0; i < 40 && !left; i++) {
    const before = a.attempts.length;
    const controller = new AbortController();
    let done = false;
    const pending = fetch(`${proxy.url}/v1/chat/completions`, {
      method: 'POST', body: chatBody('gone'),
      headers: { 'content-type': 'application/json' }, signal: controller.signal,
    }).then((r) => r.text()).catch(() => null).finally(() => { done = true; });
    // Either b answers, or a holds the request: then the client leaves.
    while (!done && a.attempts.length === before) await new Promise((r) => setTimeout(r, 5));
    if (a.attempts.length > before) {
      controller.abort();
      left = true;
    }
    await pending;
  }
  assert.ok(left, 'a held one of 40 requests');
  const [state] = await healthUntil('gone', ([s]) => s.in_flight === 0);
  assert.equal(state.healthy, true, JSON.stringify(state));
  assert.equal(state.ejections, 0);
});

test('an error that is not the upstream\'s failure (an event over max_event_bytes) does not count', async () => {
  a.otherwise = 'huge-event';
  const before = a.attempts.length;
  for (let i = 0; i < 40 && a.attempts.length === before; i++) {
    const response = await post(`${proxy.url}/v1/chat/completions`, chatBody('strict', { stream: true }));
    await response.text();
  }
  assert.ok(a.attempts.length > before, 'the small deployment got a request in 40');
  const [state] = await health('strict');
  assert.equal(state.healthy, true, JSON.stringify(state));
  assert.equal(state.ejections, 0);
});

test('least_outstanding: while one deployment holds a request, the next ones go to the other', async () => {
  a.otherwise = 'stall-head';
  b.otherwise = 'stall-head';
  const [a0, b0] = [a.attempts.length, b.attempts.length];
  const held = ask('least').then((r) => r.text(), () => null);
  while (a.attempts.length === a0 && b.attempts.length === b0) await new Promise((r) => setTimeout(r, 5));
  const free = a.attempts.length > a0 ? 'b' : 'a';
  a.otherwise = 'ok';
  b.otherwise = 'ok';
  for (let i = 0; i < 8; i++) assert.equal((await served('least')).llm, free);
  a.release();
  b.release();
  await held;
});

test('least_outstanding: a deployment drawn while the processors run counts at once', async () => {
  // The processor's side call takes a second; a second request drawn meanwhile sees the first's
  // deployment in flight, though no attempt has started on it yet.
  c.otherwise = 'slow-ok;ms=1000';
  for (let i = 0; i < 3; i++) {
    const before = c.attempts.length;
    const first = post(`${proxy.url}/slow/v1/chat/completions`, chatBody('least'));
    while (c.attempts.length === before) await new Promise((r) => setTimeout(r, 5));
    const second = post(`${proxy.url}/slow/v1/chat/completions`, chatBody('least'));
    const llms = [];
    for (const response of await Promise.all([first, second])) {
      assert.equal(response.status, 200);
      await response.text();
      llms.push(response.headers.get('x-llm-proxy-llm'));
    }
    assert.notEqual(llms[0], llms[1], `both went to ${llms[0]}`);
  }
});

test('latency: the deployment with the faster first byte gets the requests', async () => {
  a.otherwise = 'slow-ok;ms=150';
  const llms = [];
  for (let i = 0; i < 12; i++) llms.push((await served('fast')).llm);
  // The first two try each deployment once (untried ones come first); then only b.
  assert.deepEqual([...llms.slice(0, 2)].sort(), ['a', 'b'], `${llms}`);
  assert.deepEqual(llms.slice(2), Array(10).fill('b'), `${llms}`);
  const [slow, quick] = await health('fast');
  assert.ok(slow.first_byte_ms >= 140, JSON.stringify(slow));
  assert.ok(quick.first_byte_ms < slow.first_byte_ms, JSON.stringify(quick));
});
