// Public models and routing by model (issue 12): [models.NAME] tables with deployments, routes
// that choose their target by the request's model (exact names and globs), the deployment's own
// model name sent upstream, GET /v1/models, and 404 model_not_found in the route's API shape.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

import { startMock } from './lib/mock_upstream.mjs';
import { chatBody, post, readEvents, runProxy, startProxy, writeConfig } from './lib/proxy.mjs';

let mockA;
let mockB;
let proxy;

const config = (a, b) => `
[server]
host = "127.0.0.1"
port = 0

[llm.a]
provider = "openai"
base_url = "${a}/v1"

[llm.b]
provider = "openai"
base_url = "${b}/v1"

[models.fast]
deployments = [{ llm = "a" }, { llm = "b", weight = 1 }]

[models."model.v2"]
deployments = [{ llm = "a", model = "stream:3" }]

[[route]]
path_prefix = "/v1/chat/completions"
models = ["vendor-*"]
target_llm = "b"

[[route]]
path_prefix = "/v1/chat/completions"

[[route]]
path_prefix = "/strict/v1/chat/completions"
models = ["fast"]

[[route]]
path_prefix = "/v1/messages"
api = "anthropic"

[processor.rename]
type = "params"
additional_config = { aliases = { "model.v2" = "renamed" } }

[[route]]
path_prefix = "/renamed/v1/chat/completions"
processors = ["rename"]
`;

before(async () => {
  mockA = await startMock();
  mockB = await startMock();
  proxy = await startProxy(config(mockA.url, mockB.url));
});

after(async () => {
  await proxy?.stop();
  await mockA?.close();
  await mockB?.close();
});

const chat = (model, extra = {}) =>
  JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...extra });

test('a public model spreads over its deployments, and the answer names the llm', async () => {
  const before = { a: mockA.requests.length, b: mockB.requests.length };
  const seen = { a: 0, b: 0 };
  for (let i = 0; i < 40; i++) {
    const res = await post(`${proxy.url}/v1/chat/completions`, chat('fast'));
    assert.equal(res.status, 200);
    await res.json();
    seen[res.headers.get('x-llm-proxy-llm')]++;
  }
  // Equal weights: each gets a share (all 40 on one side: about 1 in 10^12).
  assert.ok(seen.a > 0 && seen.b > 0, JSON.stringify(seen));
  assert.equal(mockA.requests.length - before.a, seen.a, 'the header names the llm that answered');
  assert.equal(mockB.requests.length - before.b, seen.b);
  assert.equal(JSON.parse(mockA.requests.at(-1).body).model, 'fast', 'no model given: the public name');
});

test('the deployment\'s own model name goes upstream, streams included', async () => {
  const res = await post(`${proxy.url}/v1/chat/completions`, chat('model.v2', { stream: true }));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-llm-proxy-llm'), 'a');
  const events = await readEvents(res);
  assert.equal(events.at(-1), '[DONE]');
  assert.equal(events.length, 3 + 2, 'three content events, the finish chunk and [DONE]');
  const upstream = JSON.parse(mockA.requests.at(-1).body);
  assert.equal(upstream.model, 'stream:3');
  assert.equal(upstream.stream, true);
});

test('a processor that names another model has the last word over the deployment\'s name',
  async () => {
    const res = await post(`${proxy.url}/renamed/v1/chat/completions`, chat('model.v2'));
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(mockA.requests.at(-1).body).model, 'renamed');
    const plain = await post(`${proxy.url}/renamed/v1/chat/completions`, chat('fast'));
    assert.equal(plain.status, 200);
    const seen = plain.headers.get('x-llm-proxy-llm') === 'a' ? mockA : mockB;
    assert.equal(JSON.parse(seen.requests.at(-1).body).model, 'fast', 'no alias: the deployment\'s');
  });

test('a route taking models by glob sends them to its target_llm as named', async () => {
  const res = await post(`${proxy.url}/v1/chat/completions`, chat('vendor-json'));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-llm-proxy-llm'), 'b');
  assert.equal(JSON.parse(mockB.requests.at(-1).body).model, 'vendor-json');
});

test('an unknown model is a 404 model_not_found, OpenAI-style', async () => {
  const count = mockA.requests.length + mockB.requests.length;
  for (const [path, model, why] of [
    ['/v1/chat/completions', 'nope', /not one of the models served here/],
    ['/strict/v1/chat/completions', 'model.v2', /is taken by no route of '\/strict\/v1\/chat\/completions'/],
  ]) {
    const res = await post(`${proxy.url}${path}`, chat(model));
    assert.equal(res.status, 404);
    const { error } = await res.json();
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(error.code, 'model_not_found');
    assert.match(error.message, why);
    assert.match(error.message, new RegExp(`'${model.replace('.', '\\.')}'`));
  }
  assert.equal(mockA.requests.length + mockB.requests.length, count, 'nothing went upstream');
});

test('on an api = "anthropic" route, models are chosen the same way, and errors are Anthropic\'s',
  async () => {
    const body = (model) => JSON.stringify({
      model, max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] });
    const ok = await post(`${proxy.url}/v1/messages`, body('fast'));
    assert.equal(ok.status, 200);
    const message = await ok.json();
    assert.equal(message.type, 'message');
    assert.equal(message.model, 'fast', 'the client\'s own model name comes back');
    const missing = await post(`${proxy.url}/v1/messages`, body('nope'));
    assert.equal(missing.status, 404);
    const error = await missing.json();
    assert.equal(error.type, 'error');
    assert.equal(error.error.type, 'not_found_error');
    assert.match(error.error.message, /'nope'/);
  });

test('GET /v1/models lists the public models, and /v1/models/{id} shows one', async () => {
  const list = await fetch(`${proxy.url}/v1/models`);
  assert.equal(list.status, 200);
  const body = await list.json();
  assert.equal(body.object, 'list');
  assert.deepEqual(body.data.map((m) => m.id), ['fast', 'model.v2']);
  for (const m of body.data) {
    assert.equal(m.object, 'model');
    assert.equal(typeof m.created, 'number');
    assert.equal(m.owned_by, 'llm-proxy');
  }
  const one = await fetch(`${proxy.url}/v1/models/model.v2`);
  assert.equal(one.status, 200);
  assert.equal((await one.json()).id, 'model.v2');
  const none = await fetch(`${proxy.url}/v1/models/nope`);
  assert.equal(none.status, 404);
  assert.equal((await none.json()).error.code, 'model_not_found');
});

test('Anthropic\'s client lists the public models in Anthropic\'s format, and gets its 404', async () => {
  const client = new Anthropic({ baseURL: proxy.url, apiKey: 'unused', maxRetries: 0 });
  const models = [];
  for await (const model of client.models.list()) models.push(model);
  assert.deepEqual(models.map((m) => m.id), ['fast', 'model.v2']);
  for (const m of models) {
    assert.equal(m.type, 'model');
    assert.equal(m.display_name, m.id);
    assert.match(m.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  }
  const page = await (await fetch(`${proxy.url}/v1/models`, { headers: { 'anthropic-version': '2023-06-01' } })).json();
  assert.equal(page.has_more, false);
  assert.equal(page.first_id, 'fast');
  assert.equal(page.last_id, 'model.v2');
  assert.equal((await client.models.retrieve('fast')).id, 'fast');
  await assert.rejects(client.models.retrieve('nope'), (e) => {
    assert.ok(e instanceof Anthropic.NotFoundError, String(e));
    assert.equal(e.error.error.type, 'not_found_error');
    assert.match(e.error.error.message, /'nope'/);
    return true;
  });
});

test('the official openai client lists and uses the public models', async () => {
  const client = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const ids = [];
  for await (const model of client.models.list()) ids.push(model.id);
  assert.deepEqual(ids, ['fast', 'model.v2']);
  assert.equal((await client.models.retrieve('fast')).id, 'fast');
  const answer = await client.chat.completions.create({
    model: 'fast', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(answer.choices[0].message.content, 'mock says hi');
  await assert.rejects(client.chat.completions.create({
    model: 'nope', messages: [{ role: 'user', content: 'hi' }] }),
  (e) => e.status === 404 && e.code === 'model_not_found');
});

test('--check refuses models and routes that cannot work, naming each', () => {
  const file = writeConfig(`
[llm.a]
provider = "openai"
base_url = "http://127.0.0.1:1/v1"

[models.empty]
deployments = []

[models.ghost]
deployments = [{ llm = "missing", weight = 0 }]

[models."bad name"]
deployments = [{ llm = "a" }]

[[route]]
path_prefix = "/v1/chat/completions"
target_llm = "a"

[[route]]
path_prefix = "/v1/chat/completions"
models = ["x-*"]

[[route]]
path_prefix = "/two"
models = ["ghost"]

[[route]]
path_prefix = "/two"
api = "anthropic"
`);
  const { status, stderr } = runProxy(['--config', file, '--check']);
  assert.notEqual(status, 0);
  for (const expected of [
    /models\.empty\.deployments': must be a non-empty array of tables/,
    /models\.ghost\.deployments\[0\]\.llm': no \[llm\.missing\] is defined/,
    /models\.ghost\.deployments\[0\]\.weight': must be an integer from 1/,
    /models\.bad name': a public model name is 1 to 256 characters/,
    /route\[1\]': is never used: the route at line \d+, before it with the same path_prefix, takes every model/,
    /route\[1\]\.models': "x-\*" matches no \[models\.NAME\]/,
    /route\[3\]\.api': routes of one path_prefix share their api/,
  ])
    assert.match(stderr, expected);
});

test('--check refuses a route choosing by model that would reach an llm speaking its API natively',
  () => {
    const file = writeConfig(`
[llm.claude]
provider = "anthropic"
base_url = "http://127.0.0.1:1/v1"

[models.sonnet]
deployments = [{ llm = "claude" }]

[[route]]
path_prefix = "/v1/messages"
api = "anthropic"
`);
    const { status, stderr } = runProxy(['--config', file, '--check']);
    assert.notEqual(status, 0);
    assert.match(stderr, /route\[0\]\.target_llm': \[llm\.claude\] speaks client API 'anthropic' natively, which a route choosing by model or falling back cannot relay yet/);
  });
