// Budgets (issue 14): tokens or dollars per day or month of the UTC calendar, per client key and
// per route, priced by [prices]. A request is admitted while its estimate fits (its prompt from
// its size, plus its max_tokens, at its model's price), then charged what its answer's usage
// says, streams included; over a budget it gets OpenAI's 429 insufficient_quota with the time
// the budget renews; a model without a price cannot be charged to a dollar budget (403). The
// admin key reads where every key and route stands (GET /admin/usage, `llm-proxy keys usage`).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { after, before, test } from 'node:test';

import OpenAI from 'openai';

import { temporaryKeysFile } from './lib/keys.mjs';
import { startMock } from './lib/mock_upstream.mjs';
import { BIN, chatBody, post, readEvents, startProxy, upstreamConfig } from './lib/proxy.mjs';

const { dir, file: keysFile, create: createKey } = temporaryKeysFile('llm-proxy-budgets-');

// The mock's 'json' answer reports 3 prompt and 2 completion tokens; 'stream-usage:N' 7 and N.
// Priced at $0.50 a prompt token and $1 a completion token, a 'json' answer costs $3.50.
const DOLLARS_PER_INPUT = 0.5;
const DOLLARS_PER_OUTPUT = 1;
const ADMIN_KEY = 'admin-secret-for-tests';
let mock;
let proxy;
const keys = {};
let spenderUsed; // dollars, once the first test has spent them

before(async () => {
  mock = await startMock();
  keys.spender = createKey('spender', '--cost-per-day', '30');
  keys.monthly = createKey('monthly', '--tokens-per-month', '40');
  keys.unpriced = createKey('unpriced', '--cost-per-month', '50');
  keys.sdk = createKey('sdk', '--cost-per-day', '0.5');
  keys.free = createKey('free-of-limits');
  keys.fallback = createKey('fell-back', '--cost-per-day', '1000');
  keys.sideCaller = createKey('side-caller', '--tokens-per-day', '1000');
  proxy = await startProxy(upstreamConfig(mock.url, {
    extra: `
[auth]
keys_file = "${keysFile}"
admin_key_env = "LLM_PROXY_TEST_ADMIN_KEY"

[prices."json"]
input_per_million = ${DOLLARS_PER_INPUT * 1e6}
output_per_million = ${DOLLARS_PER_OUTPUT * 1e6}

[prices."stream-*"]
input_per_million = ${DOLLARS_PER_INPUT * 1e6}
output_per_million = ${DOLLARS_PER_OUTPUT * 1e6}

# A public model whose only deployment fails, falling back to a dearer one: its input at $1 a token.
[models.cheap-first]
deployments = [{ llm = "mock", model = "error:500" }]
fallbacks = ["dear"]

[models.dear]
deployments = [{ llm = "mock", model = "json" }]

[prices."cheap-first"]
input_per_million = ${DOLLARS_PER_INPUT * 1e6}
output_per_million = ${DOLLARS_PER_OUTPUT * 1e6}

[prices."dear"]
input_per_million = 1000000
output_per_million = ${DOLLARS_PER_OUTPUT * 1e6}

# A processor's side calls go to an llm that takes one request a minute.
[llm.side]
provider = "openai"
base_url = "${mock.url}"
limits = { requests_per_minute = 1 }

[processor.enhance]
type = "openai_chat"
config_value = "json"
additional_config = { llm = "side" }

[[route]]
path_prefix = "/enhanced/v1/chat/completions"
target_llm = "mock"
processors = ["enhance"]

[[route]]
path_prefix = "/models/v1/chat/completions"

[[route]]
path_prefix = "/team/v1/chat/completions"
target_llm = "mock"
auth = false
limits = { tokens_per_day = 40 }
`,
  }), { env: { LLM_PROXY_TEST_ADMIN_KEY: ADMIN_KEY } });
});

after(async () => {
  await proxy?.stop();
  await mock?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const chat = (key, { prefix = '', model = 'json', extra = {} } = {}) =>
  post(`${proxy.url}${prefix}/v1/chat/completions`, chatBody(model, extra),
    key ? { authorization: `Bearer ${key}` } : {});

// Whole seconds until the next day (or month) of the UTC calendar begins.
function secondsUntilNextDay() {
  const now = new Date();
  const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.ceil((next - now.getTime()) / 1000);
}
function secondsUntilNextMonth() {
  const now = new Date();
  return Math.ceil((Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1) - now.getTime()) / 1000);
}

// Figures near a day's end would race the renewal: wait for the next day then.
async function awayFromMidnight() {
  const left = secondsUntilNextDay();
  if (left < 30) await new Promise((resolve) => setTimeout(resolve, (left + 1) * 1000));
}

test('a dollar budget admits while the estimate fits, charges the usage, then refuses until the day renews', async () => {
  await awayFromMidnight();
  // The estimate of a 'json' request: its prompt (a token per 4 bytes) at the input price.
  const estimate = Math.ceil(chatBody('json').length / 4) * DOLLARS_PER_INPUT;
  const spent = 3 * DOLLARS_PER_INPUT + 2 * DOLLARS_PER_OUTPUT;
  let used = 0;
  while (used + estimate <= 30) {
    const response = await chat(keys.spender);
    assert.equal(response.status, 200, `admitted with $${used} used`);
    await response.text();
    used += spent;
  }
  const sent = mock.requests.length;
  const refused = await chat(keys.spender);
  assert.equal(refused.status, 429);
  const { error } = await refused.json();
  assert.equal(error.type, 'insufficient_quota');
  assert.equal(error.code, 'insufficient_quota');
  assert.equal(error.message, `Budget reached for key 'spender' on cost per day: limit $30, used $${used}, ` +
    `requested $${estimate}. It renews in ${error.message.match(/renews in ([^.]+)\./)[1]}.`);
  const retryAfter = Number(refused.headers.get('retry-after'));
  assert.ok(Math.abs(retryAfter - secondsUntilNextDay()) <= 2, `retry-after ${retryAfter}`);
  assert.equal(mock.requests.length, sent, 'the refused request went nowhere');
  spenderUsed = used;
  // A request asking for more than the budget could ever hold is told so, without a wait.
  const huge = await chat(keys.spender, { extra: { max_tokens: 1000 } });
  assert.equal(huge.status, 429);
  assert.equal(huge.headers.get('retry-after'), null);
  assert.match((await huge.json()).error.message, /alone is more than the limit .*at its model's price/);
});

test('a token budget per month counts a stream from the usage llm-proxy asked for, hidden from the client', async () => {
  const stream = await chat(keys.monthly, { model: 'stream-usage:4', extra: { stream: true } });
  assert.equal(stream.status, 200);
  const events = await readEvents(stream);
  assert.equal(events.some((e) => e.includes('"usage":{')), false, 'the usage chunk is hidden');
  assert.deepEqual(mock.requests.at(-1).json.stream_options, { include_usage: true });
  // 11 used of 40: a request whose estimate is over the 29 left is refused, naming what is used.
  const maxTokens = 15;
  const estimate = Math.ceil(chatBody('json', { max_tokens: maxTokens }).length / 4) + maxTokens;
  assert.ok(estimate > 29 && estimate <= 40, `estimate ${estimate}`);
  const over = await chat(keys.monthly, { extra: { max_tokens: maxTokens } });
  assert.equal(over.status, 429);
  const { error } = await over.json();
  assert.match(error.message, new RegExp(`^Budget reached for key 'monthly' on tokens per month: limit 40, used 11, requested ${estimate}\\. It renews in \\d+(d|h|m) \\d+(h|m|s)\\.$`));
  const retryAfter = Number(over.headers.get('retry-after'));
  assert.ok(Math.abs(retryAfter - secondsUntilNextMonth()) <= 2, `retry-after ${retryAfter}`);
  // A request that fits is admitted (nothing else was charged by the refusal).
  assert.equal((await chat(keys.monthly)).status, 200);
});

test('a route budget holds for every client together', async () => {
  await awayFromMidnight();
  // Each 'json' answer uses 5 tokens; the estimate of the next must fit the 40 of the day.
  const estimate = Math.ceil(chatBody('json').length / 4);
  let used = 0;
  let admitted = 0;
  while (used + estimate <= 40) {
    assert.equal((await chat(null, { prefix: '/team' })).status, 200);
    used += 5;
    admitted += 1;
  }
  const refused = await chat(null, { prefix: '/team' });
  assert.equal(refused.status, 429);
  assert.match((await refused.json()).error.message,
    new RegExp(`^Budget reached for route '/team/v1/chat/completions' on tokens per day: limit 40, used ${used}`));
  assert.ok(admitted >= 2, `${admitted} admitted`);
});

test('a model with no price cannot be charged to a dollar budget', async () => {
  const sent = mock.requests.length;
  const refused = await chat(keys.unpriced, { model: 'unpriced-model' });
  assert.equal(refused.status, 403);
  const { error } = await refused.json();
  assert.equal(error.code, 'model_not_priced');
  assert.match(error.message, /The model 'unpriced-model' has no price in llm-proxy's \[prices\], and key 'unpriced' has a budget in dollars/);
  assert.equal(mock.requests.length, sent);
  // A priced model goes through.
  assert.equal((await chat(keys.unpriced)).status, 200);
});

test('the openai client raises its RateLimitError with insufficient_quota over a budget', async () => {
  await awayFromMidnight();
  const client = new OpenAI({ apiKey: keys.sdk, baseURL: `${proxy.url}/v1`, maxRetries: 0 });
  await assert.rejects(client.chat.completions.create({ model: 'json', messages: [{ role: 'user', content: 'hi' }] }),
    (e) => e instanceof OpenAI.RateLimitError && e.status === 429 && e.code === 'insufficient_quota' &&
      e.type === 'insufficient_quota');
});

test('a request a dearer fallback answers is charged at the price of the model that answered', async () => {
  await awayFromMidnight();
  const answer = await chat(keys.fallback, { prefix: '/models', model: 'cheap-first' });
  assert.equal(answer.status, 200);
  const usage = await fetch(`${proxy.url}/admin/usage?key=fell-back`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  const [standing] = (await usage.json()).holders[0].limits;
  assert.equal(standing.used, 3 * 1 + 2 * DOLLARS_PER_OUTPUT); // not 3 * DOLLARS_PER_INPUT + ...
});

test('a side call counts against its llm\'s limits, and against the request\'s own budget', async () => {
  await awayFromMidnight();
  const first = await chat(keys.sideCaller, { prefix: '/enhanced' });
  assert.equal(first.status, 200, await first.clone().text());
  const usage = await fetch(`${proxy.url}/admin/usage?key=side-caller`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  const [standing] = (await usage.json()).holders[0].limits;
  assert.equal(standing.used, 5 + 5, 'the request\'s 5 tokens and its side call\'s 5');
  const second = await chat(keys.sideCaller, { prefix: '/enhanced' });
  assert.equal(second.status, 502);
  assert.match((await second.json()).error.message, /the call to \[llm\.side\] failed/);
  await proxy.waitForLog(/limits: refused: Rate limit reached for llm 'side' on requests per minute: limit 1/);
});

test('the admin key reads each key and route against its limits: GET /admin/usage and keys usage', async () => {
  const usage = (query = '', headers = { authorization: `Bearer ${ADMIN_KEY}` }) =>
    fetch(`${proxy.url}/admin/usage${query}`, { headers });
  for (const headers of [{}, { authorization: 'Bearer not-the-admin-key' }, { authorization: `Bearer ${keys.spender}` }]) {
    const refused = await usage('', headers);
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate'), /^Bearer /);
    assert.match((await refused.json()).error.code, /^(missing|invalid)_api_key$/);
  }
  const all = await (await usage()).json();
  const holders = Object.fromEntries(all.holders.map((h) => [h.holder, h]));
  assert.equal(all.counters, 'in the process');
  assert.deepEqual(holders['key:free-of-limits']?.limits ?? [], []);
  assert.equal(holders['route:/team/v1/chat/completions'].limits[0].kind, 'daily_tokens');
  const spender = (await (await usage('?key=spender')).json()).holders;
  assert.equal(spender.length, 1);
  const nextDay = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1))
    .toISOString().replace('.000Z', 'Z');
  assert.deepEqual(spender[0], {
    holder: 'key:spender', type: 'key', name: 'spender',
    limits: [{ kind: 'daily_cost', limit: 30, used: spenderUsed, unit: 'dollars', renews_at: nextDay }],
  });
  const unknown = await usage('?key=nobody');
  assert.equal(unknown.status, 404);
  assert.equal((await unknown.json()).error.code, 'unknown_key');

  // The command asks the running llm-proxy, with the admin key from the same variable.
  const run = (args, env) => spawnSync(BIN, ['keys', 'usage', ...args, '--config', proxy.configFile, '--url', proxy.url],
    { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20000 });
  const printed = run(['spender'], { LLM_PROXY_TEST_ADMIN_KEY: ADMIN_KEY });
  assert.equal(printed.status, 0, printed.stderr);
  assert.equal(printed.stdout, `HOLDER\tKIND\tUSED\tLIMIT\tRENEWS\nkey:spender\tdaily_cost\t$${spenderUsed}\t$30\t${nextDay}\n`);
  const wrong = run([], { LLM_PROXY_TEST_ADMIN_KEY: 'wrong' });
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /answered 401: the admin key is not valid/);
  const unset = run([], { LLM_PROXY_TEST_ADMIN_KEY: '' });
  assert.equal(unset.status, 1);
  assert.match(unset.stderr, /LLM_PROXY_TEST_ADMIN_KEY is not set/);
});
