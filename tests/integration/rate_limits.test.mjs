// Rate limits (issue 14), embedded state: requests and tokens per minute and concurrent requests,
// per client key, route and llm. Exactly the limit passes in a minute window, concurrent clients
// included; a 429 carries Retry-After and OpenAI's x-ratelimit-* headers; tokens are reserved
// then corrected from the usage the answer reports, which llm-proxy asks a stream for (and hides
// from a client that did not ask); the openai client's own retry honours the Retry-After.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';

import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

import { API_KEY as ANTHROPIC_KEY, startAnthropicMock } from './lib/anthropic_upstream.mjs';
import { temporaryKeysFile, freshWindow } from './lib/keys.mjs';
import { startMock } from './lib/mock_upstream.mjs';
import { chatBody, eventually, post, readEvents, startProxy, upstreamConfig } from './lib/proxy.mjs';

const { dir, file: keysFile, create: createKey } = temporaryKeysFile('llm-proxy-limits-');

const TOKENS_PER_MINUTE = 2000;
let mock;
let anthropic;
let proxy;
const keys = {};

before(async () => {
  mock = await startMock();
  anthropic = await startAnthropicMock();
  keys.rpm = createKey('rpm', '--requests-per-minute', '5');
  keys.crowd = createKey('crowd', '--requests-per-minute', '7');
  keys.tpm = createKey('tpm', '--tokens-per-minute', String(TOKENS_PER_MINUTE));
  keys.one = createKey('one-at-a-time', '--concurrent-requests', '1');
  keys.sdk = createKey('sdk', '--concurrent-requests', '1');
  keys.free = createKey('free');
  keys.shown = createKey('shown', '--requests-per-minute', '100');
  keys.claude = createKey('claude-app', '--requests-per-minute', '1');
  proxy = await startProxy(upstreamConfig(mock.url, {
    extra: `
[auth]
keys_file = "${keysFile}"

[[route]]
path_prefix = "/limited/v1/chat/completions"
target_llm = "mock"
auth = false
limits = { requests_per_minute = 3 }

[[route]]
path_prefix = "/reloaded/v1/chat/completions"
target_llm = "mock"
auth = false
limits = { requests_per_minute = 3 }

[[route]]
path_prefix = "/v1/messages"
api = "anthropic"
target_llm = "mock"

[llm.capped]
provider = "openai"
base_url = "${mock.url}"
limits = { requests_per_minute = 1 }

[llm.spare]
provider = "openai"
base_url = "${mock.url}"

[models.capped]
deployments = [{ llm = "capped", model = "json" }]
fallbacks = ["spare"]

[models.alone]
deployments = [{ llm = "capped", model = "json" }]

[models.spare]
deployments = [{ llm = "spare", model = "json" }]

[[route]]
path_prefix = "/models/v1/chat/completions"
auth = false
limits = { tokens_per_minute = 1000000 }

# Its provider gives a request without max_tokens Anthropic's required one: 1024.
[llm.claude_capped]
provider = "anthropic"
base_url = "${anthropic.url}"
token_env = "ANTHROPIC_API_KEY"
limits = { tokens_per_minute = 500 }
[llm.claude_capped.options]
max_tokens = 1024

[[route]]
path_prefix = "/claude-capped/v1/chat/completions"
target_llm = "claude_capped"
auth = false

[llm.guarded]
provider = "openai"
base_url = "${mock.url}"
limits = { concurrent_requests = 1 }

[[route]]
path_prefix = "/guarded/v1/chat/completions"
target_llm = "guarded"
auth = false
`,
  }), { env: { ANTHROPIC_API_KEY: ANTHROPIC_KEY } });
});

after(async () => {
  await proxy?.stop();
  await mock?.close();
  await anthropic?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});


const chat = (key, { prefix = '', model = 'json', extra = {} } = {}) =>
  post(`${proxy.url}${prefix}/v1/chat/completions`, chatBody(model, extra),
    key ? { authorization: `Bearer ${key}` } : {});

test('an llm\'s token limit reserves the max_tokens its provider wrote into the request', async () => {
  // The client gave none; the upstream would be asked for 1024, more than the llm's 500.
  const response = await post(`${proxy.url}/claude-capped/v1/chat/completions`, chatBody('text'));
  assert.equal(response.status, 429);
  assert.equal(response.headers.get('retry-after'), null);
  assert.match((await response.json()).error.message, /llm 'claude_capped' on tokens per minute: limit 500.*The request alone is more than the limit/);
  assert.equal(anthropic.requests.length, 0);
});

test('a key takes its requests per minute, then gets a 429 with Retry-After and the headers', async () => {
  await freshWindow();
  const before = mock.requests.length;
  for (let left = 4; left >= 0; left--) {
    const response = await chat(keys.rpm);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-ratelimit-limit-requests'), '5');
    assert.equal(response.headers.get('x-ratelimit-remaining-requests'), String(left));
    assert.match(response.headers.get('x-ratelimit-reset-requests'), /^\d+(s|ms)$/);
  }
  const refused = await chat(keys.rpm);
  assert.equal(refused.status, 429);
  const retryAfter = Number(refused.headers.get('retry-after'));
  assert.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
  assert.equal(refused.headers.get('x-ratelimit-remaining-requests'), '0');
  const { error } = await refused.json();
  assert.equal(error.code, 'rate_limit_exceeded');
  assert.equal(error.type, 'requests');
  assert.match(error.message, /key 'rpm' on requests per minute: limit 5, used 5, requested 1/);
  assert.equal(mock.requests.length, before + 5, 'the refused request went nowhere');
  const metrics = await (await fetch(`${proxy.url}/metrics`)).text();
  assert.match(metrics, /^llm_proxy_rate_limited_total\{limit="key:rpm",kind="requests"\} 1$/m);
  // Other keys have limits of their own. Without a limit of llm-proxy's, the upstream's own
  // x-ratelimit-* headers reach the client; under one, llm-proxy's replace them.
  const unlimited = await chat(keys.free, { model: 'upstream-limits' });
  assert.equal(unlimited.status, 200);
  assert.equal(unlimited.headers.get('x-ratelimit-remaining-requests'), '9999');
  const limited = await chat(keys.shown, { model: 'upstream-limits' });
  assert.equal(limited.headers.get('x-ratelimit-limit-requests'), '100');
  assert.equal(limited.headers.get('x-ratelimit-reset-requests').endsWith('6ms'), false);
});

test('clients racing for one limit: exactly the limit passes', async () => {
  await freshWindow();
  const statuses = await Promise.all(Array.from({ length: 20 }, () => chat(keys.crowd).then((r) => r.status)));
  assert.equal(statuses.filter((s) => s === 200).length, 7);
  assert.equal(statuses.filter((s) => s === 429).length, 13);
});

test("a route's limit counts every client's requests, keyed or not", async () => {
  await freshWindow();
  const statuses = [];
  for (let i = 0; i < 5; i++) statuses.push((await chat(null, { prefix: '/limited' })).status);
  assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
  const refused = await chat(null, { prefix: '/limited' });
  assert.match((await refused.json()).error.message, /route '\/limited\/v1\/chat\/completions'/);
});

test('concurrent requests: a second one waits its turn, for a key and for an llm', async () => {
  for (const [key, prefix, who] of [[keys.one, '', "key 'one-at-a-time'"], [null, '/guarded', "llm 'guarded'"]]) {
    const slow = chat(key, { prefix, model: 'slow:600' });
    await mock.waitForRequest((r) => r.json.model === 'slow:600' && !r.responseFinished);
    const second = await chat(key, { prefix });
    assert.equal(second.status, 429);
    assert.equal(second.headers.get('retry-after'), '1');
    assert.match((await second.json()).error.message, new RegExp(`${who} on concurrent requests: limit 1, in progress 1`));
    assert.equal((await slow).status, 200);
    // Given back once the first answer has gone (just after the client has it).
    await eventually(async () => assert.equal((await chat(key, { prefix })).status, 200));
  }
  // A stream holds its place until it ends.
  const stream = await chat(keys.one, { model: 'drip:3:200', extra: { stream: true } });
  assert.equal(stream.status, 200);
  assert.equal((await chat(keys.one)).status, 429);
  await stream.text();
  await eventually(async () => assert.equal((await chat(keys.one)).status, 200));
});

test("the openai client's retry honours Retry-After and then gets its answer", async () => {
  let attempts = 0;
  const client = new OpenAI({
    baseURL: `${proxy.url}/v1`, apiKey: keys.sdk, maxRetries: 2,
    fetch: (url, init) => { attempts++; return fetch(url, init); },
  });
  const slow = chat(keys.sdk, { model: 'slow:300' });
  await mock.waitForRequest((r) => r.json.model === 'slow:300' && !r.responseFinished);
  const answer = await client.chat.completions.create({ model: 'json', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(answer.object, 'chat.completion');
  assert.equal(attempts, 2, 'one 429, then the answer');
  assert.equal((await slow).status, 200);
  await proxy.waitForLog(/limits: refused: Rate limit reached for key 'sdk' on concurrent requests/);
});

test("an llm's limit is charged per attempt: over it, a fallback takes the request", async () => {
  await freshWindow();
  const ask = (model) => chat(null, { prefix: '/models', model });
  const first = await ask('capped');
  assert.equal(first.status, 200);
  assert.equal(first.headers.get('x-llm-proxy-llm'), 'capped');
  const sent = mock.requests.length;
  const second = await ask('capped');
  assert.equal(second.status, 200, 'the fallback answered');
  assert.equal(mock.requests.length, sent + 1, 'the refused attempt went nowhere');
  assert.equal(second.headers.get('x-llm-proxy-llm'), 'spare');
  assert.equal(second.headers.get('retry-after'), null, 'nothing to wait for: it was answered');
  // With nothing to fall back to, the client gets the llm's 429.
  const alone = await ask('alone');
  assert.equal(alone.status, 429);
  assert.ok(Number(alone.headers.get('retry-after')) >= 1);
  assert.match((await alone.json()).error.message, /llm 'capped' on requests per minute: limit 1, used 1/);
  // The route's token reservation of the refused request is given back: only the two answers'
  // usage (5 tokens each) is counted when the next request is admitted.
  const next = await ask('spare');
  const reservation = Math.ceil(chatBody('spare').length / 4);
  assert.equal(next.headers.get('x-ratelimit-remaining-tokens'), String(1000000 - 10 - reservation));
});

test('the anthropic client gets a RateLimitError it knows, with Retry-After', async () => {
  await freshWindow();
  const client = new Anthropic({ baseURL: proxy.url, apiKey: keys.claude, maxRetries: 0 });
  const ask = () => client.messages.create({ model: 'json', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
  assert.equal((await ask()).type, 'message');
  await assert.rejects(ask(), (e) => e instanceof Anthropic.RateLimitError && e.status === 429 &&
    e.error?.error?.type === 'rate_limit_error' && /key 'claude-app' on requests per minute/.test(e.error.error.message) &&
    Number(e.headers?.['retry-after'] ?? e.headers?.get?.('retry-after')) >= 1);
});

test('tokens: reserved from the request, corrected from usage; a stream is asked for its usage', async () => {
  await freshWindow();
  const reservation = (body) => Math.ceil(body.length / 4) + (JSON.parse(body).max_tokens || 0);
  // A whole answer reports 5 tokens (the mock's usage): the next request sees them used.
  const first = await chat(keys.tpm);
  assert.equal(first.status, 200);
  const firstBody = chatBody('json');
  assert.equal(first.headers.get('x-ratelimit-remaining-tokens'), String(TOKENS_PER_MINUTE - reservation(firstBody)));
  let used = 5;
  // A stream whose client did not ask for usage: llm-proxy asks, counts it, and hides it.
  const streamBody = chatBody('stream-usage:4', { stream: true });
  const stream = await chat(keys.tpm, { model: 'stream-usage:4', extra: { stream: true } });
  assert.equal(stream.headers.get('x-ratelimit-remaining-tokens'), String(TOKENS_PER_MINUTE - used - reservation(streamBody)));
  const events = await readEvents(stream);
  assert.equal(events.at(-1), '[DONE]');
  assert.equal(events.some((e) => e.includes('"usage":{')), false, 'the usage chunk is hidden');
  assert.deepEqual(mock.requests.at(-1).json.stream_options, { include_usage: true });
  used += 7 + 4;
  // A client that asked for usage gets it, and nothing is added to its request.
  const asked = await chat(keys.tpm, { model: 'stream-usage:2', extra: { stream: true, stream_options: { include_usage: true } } });
  assert.equal(asked.headers.get('x-ratelimit-remaining-tokens'),
    String(TOKENS_PER_MINUTE - used - reservation(chatBody('stream-usage:2', { stream: true, stream_options: { include_usage: true } }))));
  assert.equal((await readEvents(asked)).some((e) => e.includes('"usage":{"prompt_tokens":7')), true);
  used += 7 + 2;
  // A client that asked not to get usage: llm-proxy asks all the same, counts it, and hides it.
  const declined = await chat(keys.tpm, { model: 'stream-usage:3', extra: { stream: true, stream_options: { include_usage: false } } });
  assert.equal((await readEvents(declined)).some((e) => e.includes('"usage":{')), false, 'the usage chunk is hidden');
  assert.deepEqual(mock.requests.at(-1).json.stream_options, { include_usage: true });
  used += 7 + 3;
  // A stream_options that is no object is replaced, never sent twice.
  const nulled = await chat(keys.tpm, { model: 'stream-usage:1', extra: { stream: true, stream_options: null } });
  assert.equal((await readEvents(nulled)).some((e) => e.includes('"usage":{')), false, 'the usage chunk is hidden');
  assert.equal(mock.requests.at(-1).body.match(/"stream_options"/g).length, 1, mock.requests.at(-1).body);
  assert.deepEqual(mock.requests.at(-1).json.stream_options, { include_usage: true });
  used += 7 + 1;
  // A request whose max_tokens cannot fit is refused, saying why, without a Retry-After: no
  // wait would let it through. One far beyond any number is refused the same way.
  const big = await chat(keys.tpm, { extra: { max_tokens: TOKENS_PER_MINUTE } });
  assert.equal(big.status, 429);
  assert.equal(big.headers.get('retry-after'), null);
  const { error } = await big.json();
  assert.equal(error.type, 'tokens');
  assert.match(error.message, /The request alone is more than the limit/);
  const huge = await post(`${proxy.url}/v1/chat/completions`,
    '{"model":"json","messages":[],"max_tokens":9223372036854775807}', { authorization: `Bearer ${keys.tpm}` });
  assert.equal(huge.status, 429);
  assert.match(error.message, new RegExp(`key 'tpm' on tokens per minute: limit ${TOKENS_PER_MINUTE}, used ${used}, requested`));
  // An upstream error uses no tokens: its reservation is given back.
  assert.equal((await chat(keys.tpm, { model: 'error:500' })).status, 500);
  const probe = await chat(keys.tpm);
  assert.equal(probe.headers.get('x-ratelimit-remaining-tokens'), String(TOKENS_PER_MINUTE - used - reservation(firstBody)));
});

test('limits go on across a reload', async () => {
  await freshWindow();
  const config = fs.readFileSync(proxy.configFile, 'utf8');
  const reloaded = () => chat(null, { prefix: '/reloaded' }).then((r) => r.status);
  assert.equal(await reloaded(), 200);
  assert.equal(await reloaded(), 200);
  assert.equal(await proxy.reload(config), true);
  assert.equal(await reloaded(), 200);
  assert.equal(await reloaded(), 429);
});
