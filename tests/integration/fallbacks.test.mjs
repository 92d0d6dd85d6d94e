// Fallbacks (issue 12): once a target's attempts are spent on failures its retry policy names, the
// request goes on to the target's fallbacks in order (public models, each with its own attempts
// and its own fallbacks after it), across providers (an OpenAI request answered by Claude through
// the anthropic provider); a context-window error goes to the context-window fallbacks instead;
// client errors never fall back. The scripted upstreams and the Anthropic mock record what they saw.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';

import { API_KEY, TEXT, startAnthropicMock } from './lib/anthropic_upstream.mjs';
import { startScriptedUpstream } from './lib/scripted_upstream.mjs';
import { chatBody, post, readEvents, runProxy, startProxy, writeConfig } from './lib/proxy.mjs';

let alpha;
let beta;
let claude;
let proxy;
let ids = 0;

const config = () => `
[server]
host = "127.0.0.1"
port = 0

[llm.alpha]
provider = "openai"
base_url = "${alpha.url}/v1"
fallbacks = ["backup"]

[llm.beta]
provider = "openai"
base_url = "${beta.url}/v1"

[llm.claude]
provider = "anthropic"
base_url = "${claude.url}"
token_env = "ANTHROPIC_API_KEY"
[llm.claude.options]
max_tokens = 1024

[models.primary]
deployments = [{ llm = "alpha", model = "alpha-model" }]
fallbacks = ["backup"]

[models.backup]
deployments = [{ llm = "beta", model = "beta-model" }]

[models.chain-start]
deployments = [{ llm = "alpha", model = "first" }]
fallbacks = ["chain-mid", "chain-last"]

[models.chain-mid]
deployments = [{ llm = "alpha", model = "second" }]
fallbacks = ["chain-deep"]

[models.chain-deep]
deployments = [{ llm = "alpha", model = "third" }]

[models.chain-last]
deployments = [{ llm = "alpha", model = "fourth" }]

[models.gpt]
deployments = [{ llm = "alpha", model = "gpt-mock" }]
fallbacks = ["sonnet"]

[models.sonnet]
deployments = [{ llm = "claude", model = "text" }]

[models.small]
deployments = [{ llm = "claude", model = "error:400-too-long" }]
context_window_fallbacks = ["backup"]

[models.small-no-context-fallback]
deployments = [{ llm = "claude", model = "error:400-too-long" }]
fallbacks = ["backup"]

[llm.no-streams]
provider = "openai"
base_url = "${beta.url}/v1"
supports_streaming = false

[models.streams-then-not]
deployments = [{ llm = "alpha", model = "alpha-model" }]
fallbacks = ["not-streamed"]

[models.not-streamed]
deployments = [{ llm = "no-streams" }]

[models.retried]
deployments = [{ llm = "alpha", model = "alpha-model" }]
fallbacks = ["backup"]

[[route]]
path_prefix = "/v1/chat/completions"
models = ["retried"]
retry = { attempts = 2, backoff_base_ms = 0, backoff_max_ms = 0, retry_after_max_ms = 100 }

[[route]]
path_prefix = "/v1/chat/completions"

[[route]]
path_prefix = "/direct/v1/chat/completions"
target_llm = "alpha"
`;

before(async () => {
  alpha = await startScriptedUpstream({ name: 'alpha' });
  beta = await startScriptedUpstream({ name: 'beta' });
  claude = await startAnthropicMock();
  proxy = await startProxy(config(), { env: { ANTHROPIC_API_KEY: API_KEY } });
});

after(async () => {
  await proxy?.stop();
  await alpha?.close();
  await beta?.close();
  await claude?.close();
});

// A request for model; alpha answers its attempts as script says (beta, unscripted, answers ok).
async function request(model, script, { stream = false, prefix = '' } = {}) {
  const id = `f${++ids}`;
  alpha.script = script.split(',');
  const response = await post(`${proxy.url}${prefix}/v1/chat/completions`, chatBody(model, { stream }),
    { 'x-script-id': id });
  alpha.script = [];
  return { response, id, alpha: () => alpha.attemptsOf(id), beta: () => beta.attemptsOf(id) };
}

test('a failure the policy names, with no attempts left: the fallback answers, under its own model name', async () => {
  const r = await request('primary', '503');
  assert.equal(r.response.status, 200);
  assert.equal((await r.response.json()).choices[0].message.content, 'beta says hi');
  assert.equal(r.response.headers.get('x-llm-proxy-llm'), 'beta');
  assert.equal(r.response.headers.get('x-llm-proxy-attempts'), '2');
  assert.deepEqual(r.alpha().map((a) => a.json.model), ['alpha-model']);
  assert.deepEqual(r.beta().map((a) => a.json.model), ['beta-model']);
  await proxy.waitForLog(/attempt 1 on \[llm\.alpha\] failed \(503\): .*; falling back to model backup on \[llm\.beta\]/);
  await proxy.waitForLog(/access method=POST .*status=200 upstream_status=200 .*llm=beta attempts=2/);
});

test('a client that leaves while a failure is read gets no further attempt, and none is counted', async () => {
  const id = `f${++ids}`;
  alpha.script = ['500-then-stall'];
  const controller = new AbortController();
  const pending = fetch(`${proxy.url}/v1/chat/completions`, {
    method: 'POST', body: chatBody('primary'), signal: controller.signal,
    headers: { 'content-type': 'application/json', 'x-script-id': id },
  }).catch(() => null);
  while (alpha.attemptsOf(id).length === 0) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 100));  // the 500's head is in; its body is being read
  controller.abort();
  await pending;
  alpha.release();
  await proxy.waitForLog(/access method=POST .*status=499 upstream_status=500 .*llm=alpha attempts=1 client_gone=true/);
  assert.equal(beta.attemptsOf(id).length, 0);
  assert.doesNotMatch(proxy.logs(), /status=499 .*attempts=2/);
});

test('retries come first, each target with its own attempts, then the fallback', async () => {
  const r = await request('retried', '500,502');
  assert.equal(r.response.status, 200);
  assert.equal(r.response.headers.get('x-llm-proxy-attempts'), '3');
  assert.deepEqual(r.alpha().map((a) => a.step), ['500', '502']);
  assert.equal(r.beta().length, 1);
});

test('an upstream asking to wait longer than the cap: no retry, but the fallback answers at once', async () => {
  const r = await request('retried', '429;retry-after=30');
  assert.equal(r.response.status, 200);
  assert.equal(r.alpha().length, 1);
  assert.equal(r.beta().length, 1);
});

test('fallbacks are followed depth first: a fallback\'s own fallbacks before the next of the list', async () => {
  const r = await request('chain-start', '503,503,503,ok');
  assert.equal(r.response.status, 200);
  assert.deepEqual(r.alpha().map((a) => a.json.model), ['first', 'second', 'third', 'fourth']);
  assert.equal(r.response.headers.get('x-llm-proxy-attempts'), '4');
});

test('when every fallback failed too, the last failure goes to the client', async () => {
  const r = await request('chain-start', '503,503,503,529');
  assert.equal(r.response.status, 529);
  assert.equal(r.response.headers.get('x-llm-proxy-attempts'), '4');
});

test('a client error never falls back: it goes to the client as the upstream said it', async () => {
  for (const status of ['400', '401', '404', '422']) {
    const r = await request('primary', status);
    assert.equal(r.response.status, Number(status));
    assert.equal(r.beta().length, 0, `no fallback after ${status}`);
  }
});

test('an llm\'s fallbacks serve its target_llm routes', async () => {
  const r = await request('whatever-the-client-said', '502', { prefix: '/direct' });
  assert.equal(r.response.status, 200);
  assert.deepEqual(r.alpha().map((a) => a.json.model), ['whatever-the-client-said']);
  assert.deepEqual(r.beta().map((a) => a.json.model), ['beta-model']);
});

test('across providers: an OpenAI request falls back to Claude, translated both ways', async () => {
  const before = claude.requests.length;
  const r = await request('gpt', '529');
  assert.equal(r.response.status, 200);
  const body = await r.response.json();
  assert.equal(body.object, 'chat.completion');
  assert.equal(body.choices[0].message.content, TEXT);
  assert.equal(r.response.headers.get('x-llm-proxy-llm'), 'claude');
  const sent = claude.requests.slice(before);
  assert.equal(sent.length, 1);
  assert.equal(sent[0].json.model, 'text');
  assert.equal(sent[0].json.messages[0].role, 'user');
  assert.match(JSON.stringify(sent[0].json.messages[0].content), /hello there/);
});

test('across providers, streaming, with the openai client: the fallback is invisible', async () => {
  const client = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'k', maxRetries: 0 });
  const id = `f${++ids}`;
  alpha.script = ['role-then-cut'];
  const stream = await client.chat.completions.create(
    { model: 'gpt', stream: true, messages: [{ role: 'user', content: 'hi' }] },
    { headers: { 'x-script-id': id } });
  let text = '';
  for await (const part of stream) text += part.choices[0]?.delta?.content ?? '';
  alpha.script = [];
  assert.equal(text, TEXT);
  assert.equal(alpha.attemptsOf(id).length, 1);
});

test('no fallback once a stream\'s content reached the client', async () => {
  const r = await request('primary', 'cut-mid', { stream: true });
  assert.equal(r.response.status, 200);
  const events = await readEvents(r.response);
  assert.ok(JSON.parse(events.at(-1)).error, `the stream ends with an error event: ${events.at(-1)}`);
  assert.equal(r.beta().length, 0);
});

test('a fallback whose llm does not stream refuses a stream, as it would have first', async () => {
  const r = await request('streams-then-not', '503', { stream: true });
  assert.equal(r.response.status, 400);
  const { error } = await r.response.json();
  assert.equal(error.code, 'streaming_not_supported');
  assert.match(error.message, /llm 'no-streams'/);
  assert.equal(r.beta().length, 0);
});

test('a context-window error goes to the context-window fallbacks', async () => {
  const r = await request('small', 'ok');
  assert.equal(r.response.status, 200);
  assert.equal((await r.response.json()).choices[0].message.content, 'beta says hi');
  assert.deepEqual(r.beta().map((a) => a.json.model), ['beta-model']);
  await proxy.waitForLog(/attempt \d+ on \[llm\.claude\] exceeded the context window; falling back to model backup/);
});

test('a context-window error does not take the ordinary fallbacks: the error goes to the client', async () => {
  const r = await request('small-no-context-fallback', 'ok');
  assert.equal(r.response.status, 400);
  assert.equal((await r.response.json()).error.code, 'context_length_exceeded');
  assert.equal(r.beta().length, 0);
});

test('--check refuses unknown fallbacks, cycles, and fallbacks of another kind of request', () => {
  const file = writeConfig(`
[llm.chat]
provider = "echo"
fallbacks = ["nowhere"]

[llm.embed]
provider = "echo"
type = "embedding"

[models.a]
deployments = [{ llm = "chat" }]
fallbacks = ["b"]

[models.b]
deployments = [{ llm = "chat" }]
fallbacks = ["c"]

[models.c]
deployments = [{ llm = "chat" }]
fallbacks = ["a"]
context_window_fallbacks = ["vectors"]

[models.vectors]
deployments = [{ llm = "embed" }]

[[route]]
path_prefix = "/v1/chat/completions"
models = ["a", "b", "c"]
`);
  const result = runProxy(['--check', '--config', file]);
  const out = result.stdout + result.stderr;
  assert.equal(result.status, 1, out);
  assert.match(out, /llm\.chat\.fallbacks.*"nowhere" is not a public model/);
  assert.match(out, /models\.a\.fallbacks.*come back to where they began: a -> b -> c -> a/);
  assert.match(out, /models\.c\.context_window_fallbacks.*\[models\.vectors\] does not serve the same kind of requests/);
});
