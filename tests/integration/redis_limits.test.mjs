// Rate limits shared through Redis (issue 14, [state] redis): several llm-proxy replicas against
// one real redis-server keep one set of counters. Clients racing across three replicas get
// exactly a key's, a route's and an llm's requests per minute; the tokens a stream used on one
// replica (corrected from the usage llm-proxy asked the upstream for and hid from the client) are
// what another replica sees; a concurrent request held on one replica refuses another replica's
// until it ends. Requests with no limit never touch Redis. When Redis goes away (stopped, or
// paused so that it answers nothing), every request is answered: on_error = "open" admits
// as if no limit applied, on_error = "closed" answers a limited request 503
// rate_limits_unavailable with Retry-After (and an unlimited one as usual), both counted in
// llm_proxy_limit_store_errors_total; once Redis is back (restarted empty), limits hold again,
// and a request admitted while it was down gives back no place it never took.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';

import { temporaryKeysFile, freshWindow } from './lib/keys.mjs';
import { startMock } from './lib/mock_upstream.mjs';
import { chatBody, eventually, readEvents, startProxy, upstreamConfig } from './lib/proxy.mjs';
import { startRedis } from './lib/redis_server.mjs';

const { dir, file: keysFile, create: createKey } = temporaryKeysFile('llm-proxy-redis-limits-');

const KEY_RPM = 10;
const ROUTE_RPM = 6;
const LLM_RPM = 4;
const TOKENS_PER_MINUTE = 2000;
const TIMEOUT_MS = 1000; // [state] timeout_ms: generous, for the sanitizers' slow builds
// Reconnection backs off up to ~2 s: counting resumes well within this.
const RESUME_MS = 10000;
// Each request, body included, is given up on after this: no wait here is unbounded, and a
// request that hangs while Redis is away fails its test.
const REQUEST_TIMEOUT_MS = 15000;

let redis;
let mock;
const open = []; // three replicas with on_error = "open"
const closed = []; // two with on_error = "closed", on the same Redis
const keys = {};

// Every replica's config: the same keys file and Redis; routes of each case's own.
const sharedConfig = (onError) => upstreamConfig(mock.url, {
  extra: `
[auth]
keys_file = "${keysFile}"

[state]
redis = "${redis.url}"
on_error = "${onError}"
timeout_ms = ${TIMEOUT_MS}

[[route]]
path_prefix = "/route-a/v1/chat/completions"
target_llm = "mock"
auth = false
limits = { requests_per_minute = ${ROUTE_RPM} }

[[route]]
path_prefix = "/route-e/v1/chat/completions"
target_llm = "mock"
auth = false
limits = { requests_per_minute = 1000 }

[llm.capped]
provider = "openai"
base_url = "${mock.url}"
limits = { requests_per_minute = ${LLM_RPM} }

[[route]]
path_prefix = "/capped/v1/chat/completions"
target_llm = "capped"
auth = false

[[route]]
path_prefix = "/free/v1/chat/completions"
target_llm = "mock"
auth = false
`,
});

before(async () => {
  redis = await startRedis();
  mock = await startMock();
  keys.touch = createKey('touch', '--requests-per-minute', '1000');
  keys.free = createKey('free');
  keys.burst = createKey('burst', '--requests-per-minute', String(KEY_RPM));
  keys.tokens = createKey('tokens', '--tokens-per-minute', String(TOKENS_PER_MINUTE));
  keys.single = createKey('single', '--concurrent-requests', '1');
  keys.scripts = createKey('scripts', '--requests-per-minute', '3');
  keys.open = createKey('open', '--requests-per-minute', '3');
  keys.outage = createKey('outage', '--concurrent-requests', '1');
  keys.closed = createKey('closed', '--requests-per-minute', '1000');
  keys.paused = createKey('paused', '--requests-per-minute', '3');
  // One at a time, so that after() stops every one that started.
  for (let i = 0; i < 3; i++) open.push(await startProxy(sharedConfig('open')));
  for (let i = 0; i < 2; i++) closed.push(await startProxy(sharedConfig('closed')));
});

after(async () => {
  await Promise.all([...open, ...closed].map((replica) => replica.stop()));
  await redis?.close();
  await mock?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});


// A chat request to one replica, given up on after REQUEST_TIMEOUT_MS (or when signal aborts).
const ask = (replica, key, { prefix = '', model = 'json', extra = {}, body, signal } = {}) =>
  fetch(`${replica.url}${prefix}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: body ?? chatBody(model, extra),
    signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]) : AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });

// A whole answer (body read).
async function answer(request) {
  const response = await request();
  const body = await response.text();
  return { status: response.status, headers: response.headers, body };
}

const statusOf = async (request) => (await answer(request)).status;

// n requests at once, the i-th to replicas[i % replicas.length]: their whole answers, in order.
const burst = (n, replicas, key, options) =>
  Promise.all(Array.from({ length: n }, (_, i) => answer(() => ask(replicas[i % replicas.length], key, options))));

// The replica's llm_proxy_limit_store_errors_total{on_error} (0 before it has counted any).
async function storeErrors(replica, onError) {
  const text = await (await fetch(`${replica.url}/metrics`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })).text();
  const m = text.match(new RegExp(`^llm_proxy_limit_store_errors_total\\{on_error="${onError}"\\} (\\d+)$`, 'm'));
  return m ? Number(m[1]) : 0;
}

// The replica has not crashed: its process is there and it answers.
async function assertAlive(replica) {
  assert.doesNotThrow(() => process.kill(replica.pid, 0), `llm-proxy ${replica.pid} is gone:\n${replica.logs()}`);
  const metrics = await fetch(`${replica.url}/metrics`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  assert.equal(metrics.status, 200);
  await metrics.text();
}

// Commands Redis has run on data (a connection's PING, HELLO, CLIENT, SELECT, AUTH, SCRIPT or
// FUNCTION LOAD and this file's INFO left out).
const HOUSEKEEPING = new Set(['info', 'ping', 'hello', 'client', 'select', 'auth', 'quit', 'command', 'script', 'function']);
async function dataCommands() {
  const stats = await redis.command('INFO', 'commandstats');
  let calls = 0;
  for (const [, name, n] of stats.matchAll(/^cmdstat_([^:|]+)[^:]*:calls=(\d+)/gm)) if (!HOUSEKEEPING.has(name)) calls += Number(n);
  return calls;
}

// Resolves as promise does, or fails after ms.
async function within(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms); });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

// Runs outage() with Redis stopped, then starts it again on its port (empty), also when outage()
// fails, so that the next test has its Redis.
async function withRedisStopped(outage) {
  await redis.stop();
  try {
    await outage();
  } finally {
    await redis.start();
  }
}

// Tokens reserved for a body, as rate_limits.test.mjs counts them.
const reservation = (body) => Math.ceil(body.length / 4) + (JSON.parse(body).max_tokens || 0);

// A chat body whose reservation is exactly total (max_tokens making up the rest).
function bodyReserving(total) {
  let maxTokens = total;
  for (let i = 0; i < 5; i++) maxTokens = total - Math.ceil(chatBody('json', { max_tokens: maxTokens }).length / 4);
  const body = chatBody('json', { max_tokens: maxTokens });
  assert.equal(reservation(body), total);
  return body;
}

test('requests with no limit never touch Redis; a limited one does', async () => {
  const before = await dataCommands();
  for (const replica of [...open, ...closed]) {
    assert.equal(await statusOf(() => ask(replica, null, { prefix: '/free' })), 200);
    assert.equal(await statusOf(() => ask(replica, keys.free)), 200);
    assert.equal(await statusOf(() => ask(replica, keys.free, { model: 'stream-usage:2', extra: { stream: true } })), 200);
  }
  assert.equal(await dataCommands(), before, 'no command on data for requests without a limit');
  // The count does see what a limited request does (so the check above is not vacuous).
  assert.equal(await statusOf(() => ask(open[0], keys.touch)), 200);
  assert.ok(await dataCommands() > before, 'a limited request is counted in Redis');
});

test("one key's, one route's and one llm's requests per minute are counted once across three replicas", async () => {
  await freshWindow();
  // A key: 30 requests at once, round-robin over the replicas.
  let sent = mock.requests.length;
  const answers = await burst(30, open, keys.burst);
  const admitted = answers.filter((a) => a.status === 200);
  const refused = answers.filter((a) => a.status === 429);
  assert.equal(admitted.length, KEY_RPM);
  assert.equal(refused.length, 30 - KEY_RPM);
  assert.equal(mock.requests.length, sent + KEY_RPM, 'the refused requests went nowhere');
  // Each admitted request was told its own place in the one count.
  assert.deepEqual(admitted.map((a) => Number(a.headers.get('x-ratelimit-remaining-requests'))).sort((x, y) => x - y),
    Array.from({ length: KEY_RPM }, (_, i) => i));
  for (const a of refused) {
    const retryAfter = Number(a.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
    const { error } = JSON.parse(a.body);
    assert.equal(error.code, 'rate_limit_exceeded');
    assert.match(error.message, new RegExp(`key 'burst' on requests per minute: limit ${KEY_RPM}, used ${KEY_RPM}, requested 1`));
  }
  assert.ok(await redis.command('DBSIZE') > 0, 'the counters are in Redis');

  // A route's limit, every client together (no key).
  sent = mock.requests.length;
  const routed = await burst(18, open, null, { prefix: '/route-a' });
  assert.equal(routed.filter((a) => a.status === 200).length, ROUTE_RPM);
  assert.equal(routed.filter((a) => a.status === 429).length, 18 - ROUTE_RPM);
  assert.equal(mock.requests.length, sent + ROUTE_RPM);
  const routeRefusal = routed.find((a) => a.status === 429);
  assert.ok(Number(routeRefusal.headers.get('retry-after')) >= 1);
  assert.match(JSON.parse(routeRefusal.body).error.message, /route '\/route-a\/v1\/chat\/completions' on requests per minute/);

  // An llm's limit, charged per attempt (no retries or fallbacks here: the client gets the 429).
  sent = mock.requests.length;
  const capped = await burst(12, open, null, { prefix: '/capped' });
  assert.equal(capped.filter((a) => a.status === 200).length, LLM_RPM);
  assert.equal(capped.filter((a) => a.status === 429).length, 12 - LLM_RPM);
  assert.equal(mock.requests.length, sent + LLM_RPM);
  const llmRefusal = capped.find((a) => a.status === 429);
  assert.ok(Number(llmRefusal.headers.get('retry-after')) >= 1);
  assert.match(JSON.parse(llmRefusal.body).error.message, new RegExp(`llm 'capped' on requests per minute: limit ${LLM_RPM}, used ${LLM_RPM}`));
});

test('the tokens a stream used on one replica, corrected from its usage, are what another replica sees', async () => {
  await freshWindow();
  const [a, b] = open;
  // A stream whose client did not ask for usage: llm-proxy asks, counts it, and hides it.
  const streamBody = chatBody('stream-usage:4', { stream: true });
  const stream = await ask(a, keys.tokens, { body: streamBody });
  assert.equal(stream.status, 200);
  assert.equal(stream.headers.get('x-ratelimit-remaining-tokens'), String(TOKENS_PER_MINUTE - reservation(streamBody)));
  const events = await readEvents(stream);
  assert.equal(events.at(-1), '[DONE]');
  assert.equal(events.some((e) => e.includes('"usage":{')), false, 'the usage chunk is hidden');
  assert.deepEqual(mock.requests.at(-1).json.stream_options, { include_usage: true });
  const used = 7 + 4; // the mock's usage for stream-usage:4

  // The correction reaches Redis just after the stream's end. Until then, B would see the
  // reservation: B is asked, with a request that fits alone but not beside what is used (so it
  // is refused, spending nothing, and its message says what is used), until it sees the usage.
  const tooMuch = bodyReserving(TOKENS_PER_MINUTE - 2);
  await eventually(async () => {
    const refused = await answer(() => ask(b, keys.tokens, { body: tooMuch }));
    assert.equal(refused.status, 429);
    assert.match(JSON.parse(refused.body).error.message,
      new RegExp(`key 'tokens' on tokens per minute: limit ${TOKENS_PER_MINUTE}, used ${used}, requested`));
  });
  // An admitted request on B: its header counts the usage, not A's reservation.
  const probeBody = chatBody('json');
  const probe = await answer(() => ask(b, keys.tokens, { body: probeBody }));
  assert.equal(probe.status, 200);
  assert.equal(probe.headers.get('x-ratelimit-remaining-tokens'), String(TOKENS_PER_MINUTE - used - reservation(probeBody)));
});

test('a request held on one replica takes the place of a concurrent_requests = 1 key on the others', async () => {
  const [a, b, c] = open;
  // The mock holds this stream after two events until mock.release() (for good: this file holds
  // no other).
  const held = await ask(a, keys.single, { model: 'hold-stream', extra: { stream: true } });
  assert.equal(held.status, 200);
  try {
    await mock.waitForRequest((r) => r.json.model === 'hold-stream');
    for (const other of [b, c]) {
      const refused = await answer(() => ask(other, keys.single));
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get('retry-after'), '1');
      assert.match(JSON.parse(refused.body).error.message, /key 'single' on concurrent requests: limit 1, in progress 1/);
    }
  } finally {
    mock.release();
  }
  assert.equal((await readEvents(held)).at(-1), '[DONE]');
  // Given back once the stream has ended (just after the client has it).
  for (const other of [b, c]) await eventually(async () => assert.equal(await statusOf(() => ask(other, keys.single)), 200));
});

test('a Redis that has forgotten the scripts (SCRIPT FLUSH, as after a failover) still counts', async () => {
  await freshWindow();
  assert.equal(await redis.command('SCRIPT', 'FLUSH'), 'OK');
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push(await statusOf(() => ask(open[i % open.length], keys.scripts)));
  assert.deepEqual(statuses, [200, 200, 200, 429]);
});

test('on_error = "open": with Redis stopped, requests are admitted and counted as errors; restarted, limits hold again', async () => {
  await freshWindow();
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push(await statusOf(() => ask(open[i % open.length], keys.open)));
  assert.deepEqual(statuses, [200, 200, 200, 429]);
  const errorsBefore = await Promise.all(open.map((replica) => storeErrors(replica, 'open')));
  const logsBefore = open.map((replica) => replica.logs().length);

  await withRedisStopped(async () => {
    // The key is over its limit, yet admitted as if no limit applied, and so is a limited route's
    // request; one after another, then several at once.
    for (const replica of open) {
      for (const [key, prefix] of [[keys.open, ''], [keys.open, ''], [null, '/route-a']]) {
        const { status } = await answer(() => ask(replica, key, { prefix }));
        assert.equal(status, 200);
      }
    }
    for (const { status } of await burst(9, open, keys.open)) {
      assert.equal(status, 200);
    }
    for (const [i, replica] of open.entries()) {
      assert.ok(await storeErrors(replica, 'open') > errorsBefore[i], 'llm_proxy_limit_store_errors_total{on_error="open"} counts');
      await eventually(() => assert.match(replica.logs().slice(logsBefore[i]), /^\S+ warning .*(redis|limit store)/im));
    }
  });
  // Restarted empty: once each replica has reconnected, the key's 3 requests are counted again,
  // then it is refused.
  for (const replica of open) {
    await eventually(async () => assert.equal(await statusOf(() => ask(replica, keys.open)), 429), RESUME_MS);
  }
  for (const replica of [...open, ...closed]) await assertAlive(replica);
});

test('a request admitted while Redis was down gives back no concurrent place it never took', async () => {
  const [a, b, c] = open;
  // A long stream holding keys.outage's one place (or not), until its client leaves. Its body is
  // read meanwhile (a response left unread may be collected, and its connection closed, early).
  const holdPlace = async (replica, model = 'drip:1000:50') => {
    const client = new AbortController();
    const response = await ask(replica, keys.outage, { model, extra: { stream: true }, signal: client.signal });
    const reading = response.text().catch(() => {});
    return { status: response.status, reading, leave: () => client.abort() };
  };
  let during;
  try {
    await withRedisStopped(async () => {
      during = await holdPlace(a, 'drip:1000:51'); // admitted without Redis (on_error = "open")
      assert.equal(during.status, 200);
    });
    // Once B and C count again, a place held on B refuses a request on C.
    await eventually(async () => {
      const held = await holdPlace(b);
      try {
        assert.equal(held.status, 200);
        assert.equal(await statusOf(() => ask(c, keys.outage)), 429);
      } finally {
        held.leave();
      }
    }, RESUME_MS);
    await eventually(async () => assert.equal(await statusOf(() => ask(c, keys.outage)), 200));
    // The stream admitted during the outage ends now (once llm-proxy has seen its client leave, and
    // a moment for what it then tells Redis). It took no place, so it gives none back: the key's
    // one place still refuses a second request.
    during.leave();
    await within((await mock.waitForRequest((r) => r.json.model === 'drip:1000:51')).connectionClosed, 5000,
      'llm-proxy closing the upstream of a stream whose client left');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const held = await eventually(async () => {
      const attempt = await holdPlace(b);
      if (attempt.status !== 200) attempt.leave();
      assert.equal(attempt.status, 200);
      return attempt;
    });
    try {
      assert.equal(await statusOf(() => ask(c, keys.outage)), 429, 'the place was not given back twice');
    } finally {
      held.leave();
    }
  } finally {
    during?.leave(); // also when a check failed: llm-proxy's stop would wait for the stream
  }
});

test('on_error = "closed": with Redis stopped, a limited request gets 503 rate_limits_unavailable, an unlimited one 200; restarted, 200 again', async () => {
  await freshWindow();
  for (const replica of closed) {
    assert.equal(await statusOf(() => ask(replica, keys.closed)), 200);
    assert.equal(await statusOf(() => ask(replica, null, { prefix: '/route-e' })), 200);
  }
  const errorsBefore = await Promise.all(closed.map((replica) => storeErrors(replica, 'closed')));
  const sent = mock.requests.length;

  await withRedisStopped(async () => {
    for (const replica of closed) {
      for (const [key, prefix, extra] of [[keys.closed, '', {}], [null, '/route-e', {}], [keys.closed, '', { stream: true }]]) {
        const refused = await answer(() => ask(replica, key, { prefix, extra }));
        assert.equal(refused.status, 503);
        assert.equal(refused.headers.get('retry-after'), '1');
        const { error } = JSON.parse(refused.body);
        assert.equal(error.type, 'server_error');
        assert.equal(error.code, 'rate_limits_unavailable');
        assert.equal(typeof error.message, 'string');
      }
    }
    assert.equal(mock.requests.length, sent, 'the refused requests went nowhere');
    // Without a limit, nothing needs Redis.
    for (const replica of closed) {
      for (const [key, prefix] of [[null, '/free'], [keys.free, '']]) {
        const { status } = await answer(() => ask(replica, key, { prefix }));
        assert.equal(status, 200);
      }
    }
    for (const [i, replica] of closed.entries()) {
      assert.ok(await storeErrors(replica, 'closed') > errorsBefore[i], 'llm_proxy_limit_store_errors_total{on_error="closed"} counts');
    }
  });
  for (const replica of closed) {
    await eventually(async () => assert.equal(await statusOf(() => ask(replica, keys.closed)), 200), RESUME_MS);
    await eventually(async () => assert.equal(await statusOf(() => ask(replica, null, { prefix: '/route-e' })), 200), RESUME_MS);
  }
  for (const replica of [...open, ...closed]) await assertAlive(replica);
});

test('a Redis that answers nothing (paused) does not hold requests up, open or closed', async () => {
  await freshWindow();
  redis.pause();
  try {
    // One after another, then several at once, on every replica.
    for (const replica of open) {
      const { status } = await answer(() => ask(replica, keys.paused));
      assert.equal(status, 200);
    }
    for (const { status } of await burst(9, open, keys.paused)) {
      assert.equal(status, 200);
    }
    for (const replica of closed) {
      const { status, body } = await answer(() => ask(replica, keys.closed));
      assert.equal(status, 503);
      assert.equal(JSON.parse(body).error.code, 'rate_limits_unavailable');
      assert.equal(await statusOf(() => ask(replica, null, { prefix: '/free' })), 200);
    }
  } finally {
    redis.resume();
  }
  // Answering again (what it ran of the timed-out commands once resumed may count too): the key's
  // limit is reached again, on every replica.
  for (const replica of open) {
    await eventually(async () => assert.equal(await statusOf(() => ask(replica, keys.paused)), 429), RESUME_MS);
  }
  for (const replica of closed) {
    await eventually(async () => assert.equal(await statusOf(() => ask(replica, keys.closed)), 200), RESUME_MS);
  }
  for (const replica of [...open, ...closed]) await assertAlive(replica);
});
