// The official @anthropic-ai/sdk client against routes with api = "anthropic", both kinds:
//   native      /v1/messages -> llm "claude" (provider "anthropic") -> the mock Anthropic API
//               (lib/anthropic_upstream.mjs): the body reaches it byte for byte, its answer and
//               events come back unchanged, with the llm's key and the client's version and betas
//   translated  /local/v1/messages -> llm "local" (provider "openai") -> the OpenAI mock
//               (lib/mock_upstream.mjs), and /tools/v1/messages -> llm "tools" -> the OpenAI tool
//               mock (lib/openai_tool_upstream.mjs): the request becomes an OpenAI chat request,
//               the answer a Messages `message`, a stream the Anthropic event sequence
// Cases: create, stream, tool use with a tool_result round trip, errors (upstream, the gateway's
// own, mid-stream) in Anthropic's shape, and the SDK's beta namespace (also with ?beta=true).
// The SDK (1.x) sends its key as `Authorization: Bearer` and `anthropic-version: 2026-10-21`; an
// older client's x-api-key is sent raw.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import Anthropic from '@anthropic-ai/sdk';

import { parseSse, readAnthropicStream } from './lib/anthropic_sse.mjs';
import { ANSWER_MODEL, API_KEY, OVERLOADED_EVENT, TEXT, TIME_CALL, WEATHER_CALL, startAnthropicMock }
  from './lib/anthropic_upstream.mjs';
import { startMock } from './lib/mock_upstream.mjs';
import { ANSWER_TEXT, STREAM_ERROR_MESSAGE, TEXT_BEFORE_TOOLS, TIME_CALL_ID, WEATHER_ARGUMENTS, WEATHER_CALL_ID,
  startOpenAiToolMock } from './lib/openai_tool_upstream.mjs';
import { closedPort, eventually, startProxy } from './lib/proxy.mjs';

const CLIENT_KEY = 'sk-ant-client-own-key';
const LOCAL_KEY = 'sk-local-upstream-key';
const CONFIG_BETA = 'config-beta-2025-01-01';
const CLIENT_BETA = 'client-beta-2025-02-02';
const MAX_BODY_BYTES = 65536;
const TIMEOUT_MS = 300;

let anthropicMock;  // the Anthropic Messages API
let openaiMock;     // an OpenAI chat API: text, streams, errors, holds, cuts
let toolMock;       // an OpenAI chat API answering with tool calls
let proxy;

const llm = (name, provider, baseUrl, { key = '', timeoutMs = 5000, extra = '' } = {}) => `
[llm.${name}]
provider = "${provider}"
type = "chat"
base_url = "${baseUrl}"
read_timeout_ms = ${timeoutMs}
${key && `token_env = "${key}"`}
${extra}`;

const route = (prefix, target) => `
[[route]]
path_prefix = "${prefix}"
api = "anthropic"
target_llm = "${target}"`;

before(async () => {
  anthropicMock = await startAnthropicMock();
  openaiMock = await startMock();
  toolMock = await startOpenAiToolMock();
  const deadUrl = `http://127.0.0.1:${await closedPort()}/v1`;
  proxy = await startProxy(`
[server]
host = "127.0.0.1"
port = 0
max_body_bytes = ${MAX_BODY_BYTES}
${llm('claude', 'anthropic', anthropicMock.url, { key: 'ANTHROPIC_API_KEY', extra: `
[llm.claude.options]
anthropic_beta = ["${CONFIG_BETA}"]` })}
${llm('claude_hung', 'anthropic', openaiMock.url, { key: 'ANTHROPIC_API_KEY', timeoutMs: TIMEOUT_MS })}
${llm('claude_down', 'anthropic', deadUrl, { key: 'ANTHROPIC_API_KEY' })}
${llm('claude_cut', 'anthropic', openaiMock.url, { key: 'ANTHROPIC_API_KEY' })}
${llm('local', 'openai', openaiMock.url, { key: 'LOCAL_KEY' })}
${llm('local_hung', 'openai', openaiMock.url, { key: 'LOCAL_KEY', timeoutMs: TIMEOUT_MS })}
${llm('local_down', 'openai', deadUrl, { key: 'LOCAL_KEY' })}
${llm('tools', 'openai', toolMock.url, { key: 'LOCAL_KEY' })}
${route('/v1/messages', 'claude')}
${route('/hung/v1/messages', 'claude_hung')}
${route('/down/v1/messages', 'claude_down')}
${route('/cut/v1/messages', 'claude_cut')}
${route('/local/v1/messages', 'local')}
${route('/local-hung/v1/messages', 'local_hung')}
${route('/local-down/v1/messages', 'local_down')}
${route('/tools/v1/messages', 'tools')}
`, { env: { ANTHROPIC_API_KEY: API_KEY, LOCAL_KEY } });
});

after(async () => {
  await proxy?.stop();
  await Promise.all([anthropicMock?.close(), openaiMock?.close(), toolMock?.close()]);
});

// An SDK client for the route under prefix (the SDK appends /v1/messages), and what it sent:
// { url, body, headers } of each request, body as the text the SDK wrote.
function sdk(prefix = '', options = {}) {
  const sent = [];
  const client = new Anthropic({
    baseURL: `${proxy.url}${prefix}`,
    apiKey: CLIENT_KEY,
    maxRetries: 0,
    fetch: (url, init) => {
      sent.push({ url: String(url), body: init.body, headers: new Headers(init.headers) });
      return fetch(url, init);
    },
    ...options,
  });
  return { client, sent };
}
const native = () => sdk('');
const translated = (prefix = '/local') => sdk(prefix);

const hello = [{ role: 'user', content: 'Hello' }];
const params = (model, extra = {}) => ({ model, max_tokens: 256, messages: hello, ...extra });

// What a message says, as plain JSON (the SDK's streamed tool inputs are getters).
const fieldsOf = ({ id, type, role, model, content, stop_reason, stop_sequence, usage }) =>
  JSON.parse(JSON.stringify({ id, type, role, model, content, stop_reason, stop_sequence, usage }));
const textOf = (content) => (typeof content === 'string' ? content : content.map((part) => part.text).join(''));
const MESSAGE_ID = /^msg_[A-Za-z0-9]{24}$/;
// The anthropic-version @anthropic-ai/sdk 1.x sends.
const SDK_VERSION = '2026-10-21';

// Raw requests to a route, for what the SDK does not show.
const RAW_HEADERS = { 'content-type': 'application/json', 'x-api-key': CLIENT_KEY, 'anthropic-version': '2023-06-01' };
const rawPost = (path, body, headers = {}) => fetch(`${proxy.url}${path}`, {
  method: 'POST', headers: { ...RAW_HEADERS, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body),
});

// A raw stream's text, checked to be an Anthropic stream (no [DONE]), and what it describes.
async function rawStream(path, body) {
  const res = await rawPost(path, { ...body, stream: true });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/event-stream/);
  const text = await res.text();
  assert.doesNotMatch(text, /^data: \[DONE\]/m, 'an Anthropic stream has no [DONE]');
  const events = parseSse(text);
  return { text, events, ...readAnthropicStream(events) };
}

// Asserts an error answer in Anthropic's shape, exactly {"type":"error","error":{type, message}},
// and returns its message.
async function expectAnthropicError(res, status, type) {
  assert.equal(res.status, status);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  const body = await res.json();
  assert.deepEqual(Object.keys(body).sort(), ['error', 'type'], JSON.stringify(body));
  assert.equal(body.type, 'error');
  assert.deepEqual(Object.keys(body.error).sort(), ['message', 'type'], JSON.stringify(body));
  assert.equal(body.error.type, type);
  assert.ok(body.error.message.length > 0);
  return body.error.message;
}

// A validator for assert.rejects: an SDK error of class cls with status and Anthropic error type.
const sdkError = (cls, status, type) => (e) => {
  assert.ok(e instanceof cls, `${e?.constructor?.name}: ${e?.message}`);
  assert.equal(e.status, status);
  assert.equal(e.type, type);
  return true;
};

// The events of an SDK stream (create with stream: true), in order.
async function eventsOf(stream) {
  const events = [];
  for await (const event of stream) events.push(event);
  return events;
}
const streamedText = (events) => events.filter((e) => e.type === 'content_block_delta' && e.delta.type === 'text_delta')
  .map((e) => e.delta.text).join('');

// Nothing of the client's own credentials in the headers an upstream received.
function assertNoClientKey(headers) {
  for (const [name, value] of Object.entries(headers)) {
    assert.ok(!String(value).includes(CLIENT_KEY), `the client's key reached the upstream in ${name}`);
  }
}

const lastAnthropic = () => anthropicMock.requests.at(-1);
const lastOpenAi = () => openaiMock.requests.at(-1);
const lastTools = () => toolMock.requests.at(-1);

// Tools, as the Anthropic client defines them.
const WEATHER_SCHEMA = {
  type: 'object',
  properties: { location: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
  required: ['location'],
};
const TOOLS = [
  { name: 'get_weather', description: 'The weather at a place', input_schema: WEATHER_SCHEMA },
  { name: 'get_time', description: 'The time now', input_schema: { type: 'object', properties: {} } },
];
const QUESTION = [{ role: 'user', content: 'Weather in Boston, and the time?' }];

// The next turn after an answer with tool calls: its content, and one tool_result per call.
const withResults = (answer, results) => [...QUESTION, { role: 'assistant', content: answer.content },
  { role: 'user', content: results }];

// ---- 1. messages.create ----

test('native create: the SDK gets the upstream\'s message; the body reaches it byte for byte, with the llm\'s key', async () => {
  const { client, sent } = native();
  const message = await client.messages.create(params('text', {
    system: 'Be brief.', stop_sequences: ['END'], metadata: { user_id: 'user-42' },
  }));
  const seen = lastAnthropic();
  assert.equal(seen.status, 200, 'the mock accepted the request');
  assert.deepEqual(fieldsOf(message), {
    id: seen.answer.id, type: 'message', role: 'assistant', model: ANSWER_MODEL,
    content: [{ type: 'text', text: TEXT }], stop_reason: 'end_turn', stop_sequence: null,
    usage: seen.answer.usage,
  });
  assert.deepEqual(JSON.parse(JSON.stringify(message)), seen.answer, 'every field as the upstream sent it');
  assert.equal(seen.method, 'POST');
  assert.equal(seen.url.split('?')[0], '/v1/messages');
  assert.equal(seen.body, sent.at(-1).body, 'the SDK\'s body, byte for byte');
  assert.equal(seen.headers['x-api-key'], API_KEY, 'the llm\'s key');
  assert.equal(sent.at(-1).headers.get('authorization'), `Bearer ${CLIENT_KEY}`, 'the SDK sends its key as a bearer');
  assert.equal(seen.headers.authorization, undefined);
  assertNoClientKey(seen.headers);
  assert.equal(seen.headers['anthropic-version'], SDK_VERSION, 'the SDK\'s own anthropic-version');
  assert.equal(seen.headers['anthropic-beta'], CONFIG_BETA, 'the configured beta');
});

test('native create: the client\'s key stays behind in x-api-key too; its anthropic-version goes upstream', async () => {
  const res = await rawPost('/v1/messages', params('text'), { 'anthropic-version': '2023-01-01' });
  assert.equal(res.status, 200);
  const seen = lastAnthropic();
  assert.equal(seen.status, 200);
  assert.equal(seen.headers['anthropic-version'], '2023-01-01');
  assert.equal(seen.headers['x-api-key'], API_KEY);
  assertNoClientKey(seen.headers);
  const { 'anthropic-version': _version, ...versionless } = RAW_HEADERS;
  const without = await fetch(`${proxy.url}/v1/messages`,
    { method: 'POST', headers: versionless, body: JSON.stringify(params('text')) });
  assert.equal(without.status, 200);
  assert.equal(lastAnthropic().headers['anthropic-version'], '2023-06-01',
    'the llm\'s default when the client sends none');
});

test('native create: the whole answer is the upstream\'s bytes, and its request-id reaches the SDK', async () => {
  const body = params('text');
  const res = await rawPost('/v1/messages', body);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), JSON.stringify(lastAnthropic().answer));
  const { request_id: requestId } = await native().client.messages.create(body).withResponse();
  assert.equal(requestId, 'req_01MockRequest');
});

test('translated create: the SDK gets a Messages message; the upstream an OpenAI chat request with the llm\'s key', async () => {
  const { client } = translated();
  const message = await client.messages.create(params('json', {
    system: 'Be brief.', stop_sequences: ['END'], temperature: 0.5, top_p: 0.9, metadata: { user_id: 'user-42' },
  }));
  assert.match(message.id, MESSAGE_ID);
  assert.deepEqual(fieldsOf(message), {
    id: message.id, type: 'message', role: 'assistant', model: 'json',
    content: [{ type: 'text', text: 'mock says hi' }], stop_reason: 'end_turn', stop_sequence: null,
    usage: { input_tokens: 3, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 2 },
  });
  const seen = lastOpenAi();
  assert.equal(seen.method, 'POST');
  assert.equal(seen.url, '/v1/chat/completions');
  assert.equal(seen.headers.authorization, `Bearer ${LOCAL_KEY}`);
  assert.equal(seen.headers['x-api-key'], undefined);
  assertNoClientKey(seen.headers);
  const { json } = seen;
  assert.equal(json.model, 'json');
  assert.equal(json.max_tokens, 256);
  assert.deepEqual(json.messages.map((m) => [m.role, textOf(m.content)]), [['system', 'Be brief.'], ['user', 'Hello']]);
  assert.deepEqual(json.stop, ['END']);
  assert.equal(json.temperature, 0.5);
  assert.equal(json.top_p, 0.9);
  assert.equal(json.user, 'user-42');
  assert.ok(!json.stream);
  const again = await client.messages.create(params('json'));
  assert.notEqual(again.id, message.id, 'each message its own id');
});

test('translated create: cached tokens are cache reads, excluded from input_tokens', async () => {
  const message = await translated('/tools').client.messages.create(params('text'));
  assert.equal(message.content[0].text, ANSWER_TEXT);
  // prompt 40 of which 8 cached; completion 18
  assert.deepEqual(message.usage,
    { input_tokens: 32, cache_creation_input_tokens: 0, cache_read_input_tokens: 8, output_tokens: 18 });
});

// ---- 2. Streams ----

// The mock's stream for body, asked directly, with the message id of the proxied one it differs in.
async function directStream(body, proxiedId) {
  const res = await fetch(`${anthropicMock.url}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ ...body, stream: true }),
  });
  assert.equal(res.status, 200);
  const text = await res.text();
  return text.replaceAll(`"${lastAnthropic().answer.id}"`, `"${proxiedId}"`);
}

for (const model of ['text', 'tools', 'thinking']) {
  test(`native stream (${model}): the events on the wire are exactly the upstream's`, async () => {
    const body = params(model, model === 'tools' ? { tools: TOOLS } : {});
    const proxied = await rawStream('/v1/messages', body);
    assert.equal(lastAnthropic().body, JSON.stringify({ ...body, stream: true }), 'the body byte for byte');
    assert.equal(proxied.text, await directStream(body, lastAnthropic().answer.id));
  });
}

test('native stream: messages.stream gives the text deltas, the events and finalMessage of the upstream\'s', async () => {
  const { client, sent } = native();
  const stream = client.messages.stream(params('text'));
  let text = '';
  stream.on('text', (delta) => { text += delta; });
  const events = [];
  for await (const event of stream) events.push(event.type);
  const final = await stream.finalMessage();
  const seen = lastAnthropic();
  assert.equal(seen.body, sent.at(-1).body);
  assert.equal(text, TEXT);
  assert.deepEqual(fieldsOf(final), fieldsOf(seen.answer));
  assert.equal(events[0], 'message_start');
  assert.deepEqual(events.slice(-2), ['message_delta', 'message_stop']);
});

test('native stream: create({stream: true}) yields the upstream\'s events, ping aside', async () => {
  const events = await eventsOf(await native().client.messages.create(params('text', { stream: true })));
  const answer = lastAnthropic().answer;
  assert.equal(streamedText(events), TEXT);
  assert.equal(events[0].message.id, answer.id);
  const direct = parseSse(await directStream(params('text'), answer.id)).filter((e) => e.event !== 'ping');
  assert.deepEqual(events, direct.map((e) => e.data));
});

test('translated stream: messages.stream text deltas, the SDK\'s event order, finalMessage', async () => {
  const { client } = translated();
  const stream = client.messages.stream(params('stream:4'));
  let text = '';
  stream.on('text', (delta) => { text += delta; });
  const final = await stream.finalMessage();
  assert.equal(text, 'w0 w1 w2 w3 ');
  assert.match(final.id, MESSAGE_ID);
  assert.deepEqual(fieldsOf(final), {
    id: final.id, type: 'message', role: 'assistant', model: 'stream:4',
    content: [{ type: 'text', text: 'w0 w1 w2 w3 ' }], stop_reason: 'end_turn', stop_sequence: null,
    usage: { input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 },
  });
  const { json } = lastOpenAi();
  assert.equal(json.stream, true);
  assert.deepEqual(json.stream_options, { include_usage: true }, 'the usage goes into message_delta');

  const raw = await rawStream('/local/v1/messages', params('stream:4'));
  assert.deepEqual(raw.events.map((e) => e.event), ['message_start', 'content_block_start',
    ...Array(4).fill('content_block_delta'), 'content_block_stop', 'message_delta', 'message_stop']);
  assert.equal(raw.message.content[0].text, 'w0 w1 w2 w3 ');
});

test('translated stream: an upstream stream in 3-byte pieces with CRLF', async () => {
  const events = await eventsOf(await translated().client.messages.create(params('split-stream', { stream: true })));
  assert.equal(streamedText(events), 'alpha beta gamma delta');
  assert.equal(events.at(-1).type, 'message_stop');
});

test('translated stream: create({stream: true}) ends with the usage in message_delta', async () => {
  const events = await eventsOf(await translated('/tools').client.messages.create(params('text', { stream: true })));
  assert.equal(streamedText(events), ANSWER_TEXT);
  const delta = events.find((e) => e.type === 'message_delta');
  assert.deepEqual(delta.delta, { stop_reason: 'end_turn', stop_sequence: null });
  assert.deepEqual(delta.usage,
    { input_tokens: 32, cache_creation_input_tokens: 0, cache_read_input_tokens: 8, output_tokens: 18 });
  assert.deepEqual(events.slice(-2).map((e) => e.type), ['message_delta', 'message_stop']);
  readAnthropicStream(events.map((data) => ({ event: data.type, data })));
});

// ---- 3. Tool use ----

test('native tool use: tool_use blocks whole and streamed, and a tool_result round trip byte for byte', async () => {
  const { client, sent } = native();
  const toolParams = { model: 'tools', max_tokens: 256, messages: QUESTION, tools: TOOLS,
    tool_choice: { type: 'auto' } };
  const whole = await client.messages.create(toolParams);
  assert.equal(lastAnthropic().body, sent.at(-1).body);
  assert.equal(whole.stop_reason, 'tool_use');
  assert.deepEqual(fieldsOf(whole).content, [{ type: 'text', text: 'Let me check.' }, WEATHER_CALL, TIME_CALL]);

  const stream = client.messages.stream(toolParams);
  const fragments = [];
  stream.on('inputJson', (partial) => { fragments.push(partial); });
  const final = await stream.finalMessage();
  assert.deepEqual(fieldsOf(final).content, fieldsOf(whole).content);
  assert.ok(fragments.length > 2, 'the input arrived in fragments');

  const next = await client.messages.create({ ...toolParams, model: 'text', messages: withResults(final, [
    { type: 'tool_result', tool_use_id: WEATHER_CALL.id, content: '12 C' },
    { type: 'tool_result', tool_use_id: TIME_CALL.id, content: [{ type: 'text', text: '10:00' }] },
  ]) });
  assert.equal(lastAnthropic().status, 200, 'the mock accepted the history');
  assert.equal(lastAnthropic().body, sent.at(-1).body);
  assert.equal(next.content[0].text, TEXT);
});

// The content the translated route gives for the tool mock's `tools` answer.
const TRANSLATED_TOOL_CONTENT = [
  { type: 'text', text: TEXT_BEFORE_TOOLS },
  { type: 'tool_use', id: WEATHER_CALL_ID, name: 'get_weather', input: WEATHER_ARGUMENTS },
  { type: 'tool_use', id: TIME_CALL_ID.replace(/[^a-zA-Z0-9_-]/g, '_'), name: 'get_time', input: {} },
];

test('translated tool use: tools and tool_choice reach the upstream as functions; tool_use blocks come back', async () => {
  const { client } = translated('/tools');
  const message = await client.messages.create({ model: 'tools', max_tokens: 256, messages: QUESTION, tools: TOOLS,
    tool_choice: { type: 'tool', name: 'get_weather' } });
  assert.match(message.id, MESSAGE_ID);
  assert.deepEqual(fieldsOf(message), {
    id: message.id, type: 'message', role: 'assistant', model: 'tools', content: TRANSLATED_TOOL_CONTENT,
    stop_reason: 'tool_use', stop_sequence: null,
    usage: { input_tokens: 32, cache_creation_input_tokens: 0, cache_read_input_tokens: 8, output_tokens: 18 },
  });
  const { json } = lastTools();
  assert.deepEqual(json.tools.map((t) => [t.type, t.function.name, t.function.description, t.function.parameters]),
    TOOLS.map((t) => ['function', t.name, t.description, t.input_schema]));
  assert.deepEqual(json.tool_choice, { type: 'function', function: { name: 'get_weather' } });

  await client.messages.create({ model: 'tools', max_tokens: 256, messages: QUESTION, tools: TOOLS,
    tool_choice: { type: 'any', disable_parallel_tool_use: true } });
  assert.equal(lastTools().json.tool_choice, 'required');
  assert.equal(lastTools().json.parallel_tool_calls, false);
});

test('translated tool use streamed: input_json_delta fragments reassemble to the input; indexes contiguous', async () => {
  const body = { model: 'tools', max_tokens: 256, messages: QUESTION, tools: TOOLS, tool_choice: { type: 'auto' } };
  const stream = translated('/tools').client.messages.stream(body);
  const final = await stream.finalMessage();
  assert.deepEqual(fieldsOf(final).content, TRANSLATED_TOOL_CONTENT);
  assert.equal(final.stop_reason, 'tool_use');
  assert.equal(final.usage.output_tokens, 18);

  const raw = await rawStream('/tools/v1/messages', body);
  assert.deepEqual(raw.events.filter((e) => e.event === 'content_block_start').map((e) => e.data.index), [0, 1, 2]);
  assert.deepEqual(raw.message.content, TRANSLATED_TOOL_CONTENT);
  assert.ok(raw.fragments[1].filter((f) => f !== '').length > 1, 'the weather input came in fragments');
  assert.deepEqual(JSON.parse(raw.fragments[1].join('')), WEATHER_ARGUMENTS);
  assert.equal(raw.message.stop_reason, 'tool_use');
});

test('translated tool use: a tool_result round trip reaches the upstream as assistant tool_calls and tool messages', async () => {
  const { client } = translated('/tools');
  const first = await client.messages.create({ model: 'tools', max_tokens: 256, messages: QUESTION, tools: TOOLS });
  const [, weather, time] = first.content;
  const messages = withResults(first, [
    { type: 'tool_result', tool_use_id: weather.id, content: '12 C' },
    { type: 'tool_result', tool_use_id: time.id, content: [{ type: 'text', text: '10:00' }] },
    { type: 'text', text: 'And tomorrow?' },
  ]);
  const next = await client.messages.create({ model: 'text', max_tokens: 256, tools: TOOLS, messages });
  assert.equal(next.content[0].text, ANSWER_TEXT);
  assert.equal(next.stop_reason, 'end_turn');
  const sent = lastTools().json.messages;
  assert.deepEqual(sent.map((m) => m.role), ['user', 'assistant', 'tool', 'tool', 'user']);
  const [, assistant, weatherResult, timeResult, user] = sent;
  assert.equal(textOf(assistant.content), TEXT_BEFORE_TOOLS);
  assert.deepEqual(assistant.tool_calls.map((c) => [c.id, c.type, c.function.name, JSON.parse(c.function.arguments)]), [
    [weather.id, 'function', 'get_weather', WEATHER_ARGUMENTS],
    [time.id, 'function', 'get_time', {}],
  ]);
  assert.deepEqual([weatherResult.tool_call_id, textOf(weatherResult.content)], [weather.id, '12 C']);
  assert.deepEqual([timeResult.tool_call_id, textOf(timeResult.content)], [time.id, '10:00']);
  assert.equal(textOf(user.content), 'And tomorrow?');
});

test('translated tool use: a tool name over 64 characters goes upstream shortened and comes back whole', async () => {
  const longName = `lookup_${'the_current_weather_'.repeat(4)}`;
  const tools = [{ ...TOOLS[0], name: longName }, TOOLS[1]];
  const { client } = translated('/tools');
  const body = { model: 'tools', max_tokens: 256, messages: QUESTION, tools };
  const whole = await client.messages.create(body);
  const upstreamName = lastTools().json.tools[0].function.name;
  assert.ok(upstreamName.length <= 64, upstreamName);
  assert.equal(whole.content[1].name, longName);
  const final = await client.messages.stream(body).finalMessage();
  assert.equal(final.content[1].name, longName);
  await client.messages.create({ ...body, model: 'text', messages: withResults(whole, [
    { type: 'tool_result', tool_use_id: whole.content[1].id, content: '12 C' },
    { type: 'tool_result', tool_use_id: whole.content[2].id, content: '10:00' },
  ]) });
  assert.equal(lastTools().json.messages[1].tool_calls[0].function.name, upstreamName,
    'the history names the tool as the upstream knows it');
});

// ---- 4. Errors ----

test('native: an upstream 529 overloaded_error (and a 429) reach the SDK unchanged, whole and before a stream', async () => {
  const { client } = native();
  const overloaded = (e) => {
    sdkError(Anthropic.APIError, 529, 'overloaded_error')(e);
    assert.equal(e.apiMessage, 'Overloaded');
    assert.deepEqual(e.error,
      { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' }, request_id: 'req_01MockError' });
    return true;
  };
  await assert.rejects(client.messages.create(params('error:529')), overloaded);
  await assert.rejects(client.messages.create(params('error:529', { stream: true })), overloaded);
  await assert.rejects(client.messages.create(params('error:429')), (e) =>
    sdkError(Anthropic.RateLimitError, 429, 'rate_limit_error')(e) && e.headers.get('retry-after') === '17');
});

test('translated: an upstream 429 and 500 are Anthropic errors with the status, type and message', async () => {
  const { client } = translated();
  await assert.rejects(client.messages.create(params('error:429')), (e) =>
    sdkError(Anthropic.RateLimitError, 429, 'rate_limit_error')(e) && e.apiMessage === 'mock upstream error 429');
  await assert.rejects(client.messages.create(params('error:429', { stream: true })),
    sdkError(Anthropic.RateLimitError, 429, 'rate_limit_error'));
  await assert.rejects(client.messages.create(params('error:500')), (e) =>
    sdkError(Anthropic.InternalServerError, 500, 'api_error')(e) && e.apiMessage === 'mock upstream error 500');
  const message = await expectAnthropicError(await rawPost('/local/v1/messages', params('error:429')), 429,
    'rate_limit_error');
  assert.equal(message, 'mock upstream error 429');
});

test('translated: an upstream 429 keeps its retry-after for the SDK\'s retries', async () => {
  const res = await rawPost('/local/v1/messages', params('error:429'));
  assert.equal(res.status, 429);
  assert.equal(res.headers.get('retry-after'), '7');
});

const ROUTES = [['native', ''], ['translated', '/local']];

for (const [kind, prefix] of ROUTES) {
  test(`${kind}: 413 for a body over max_body_bytes, in Anthropic's shape`, async () => {
    const before = anthropicMock.requests.length + openaiMock.requests.length;
    const big = params('text', { system: 'x'.repeat(MAX_BODY_BYTES) });
    await expectAnthropicError(await rawPost(`${prefix}/v1/messages`, big), 413, 'request_too_large');
    await assert.rejects(sdk(prefix).client.messages.create(big),
      sdkError(Anthropic.ContentTooLargeError, 413, 'request_too_large'));
    assert.equal(anthropicMock.requests.length + openaiMock.requests.length, before, 'nothing went upstream');
  });

  test(`${kind}: 405 for another method, in Anthropic's shape`, async () => {
    const res = await fetch(`${proxy.url}${prefix}/v1/messages`, { headers: RAW_HEADERS });
    await expectAnthropicError(res, 405, 'invalid_request_error');
    assert.match(res.headers.get('allow') ?? '', /POST/);
  });

  test(`${kind}: 400 for a body that is not JSON, in Anthropic's shape`, async () => {
    const before = anthropicMock.requests.length + openaiMock.requests.length;
    await expectAnthropicError(await rawPost(`${prefix}/v1/messages`, '{"model": "text", '), 400,
      'invalid_request_error');
    assert.equal(anthropicMock.requests.length + openaiMock.requests.length, before, 'nothing went upstream');
  });
}

test('translated: 404 for .../v1/messages/count_tokens, in Anthropic\'s shape', async () => {
  const before = openaiMock.requests.length;
  await assert.rejects(translated().client.messages.countTokens({ model: 'json', messages: hello }),
    sdkError(Anthropic.NotFoundError, 404, 'not_found_error'));
  await expectAnthropicError(await rawPost('/local/v1/messages/count_tokens', { model: 'json', messages: hello }), 404,
    'not_found_error');
  assert.equal(openaiMock.requests.length, before);
});

test('translated: a field that cannot be translated is a 400 naming it, and nothing is sent', async () => {
  const before = openaiMock.requests.length;
  await assert.rejects(translated().client.messages.create(params('json', { top_k: 5 })), (e) =>
    sdkError(Anthropic.BadRequestError, 400, 'invalid_request_error')(e) && /top_k/.test(e.apiMessage));
  assert.equal(openaiMock.requests.length, before);
});

for (const [kind, down, hung] of [['native', '/down', '/hung'], ['translated', '/local-down', '/local-hung']]) {
  test(`${kind}: 502 when the upstream cannot be reached, 504 when it does not answer in time`, async () => {
    const { client } = sdk(down);
    await assert.rejects(client.messages.create(params('text')),
      sdkError(Anthropic.InternalServerError, 502, 'api_error'));
    await expectAnthropicError(await rawPost(`${down}/v1/messages`, params('text')), 502, 'api_error');
    await assert.rejects(client.messages.create(params('text', { stream: true })),
      sdkError(Anthropic.InternalServerError, 502, 'api_error'));
    // The OpenAI mock holds "hold" until it closes: longer than read_timeout_ms.
    await assert.rejects(sdk(hung).client.messages.create(params('hold')),
      sdkError(Anthropic.GatewayTimeoutError, 504, 'timeout_error'));
    await expectAnthropicError(await rawPost(`${hung}/v1/messages`, params('hold')), 504, 'timeout_error');
  });
}

// Iterates a stream that must fail: returns the text that came before and the error.
async function failingStream(stream) {
  let text = '';
  let error = null;
  try {
    for await (const event of stream) {
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    }
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof Anthropic.APIError, `the stream's iteration throws an APIError: ${error}`);
  return { text, error };
}

test('native mid-stream: the upstream\'s error event ends the stream unchanged; the SDK throws', async () => {
  const { text, error } = await failingStream(
    await native().client.messages.create(params('stream-error', { stream: true })));
  assert.equal(error.type, 'overloaded_error');
  assert.deepEqual(error.error, OVERLOADED_EVENT);
  assert.ok(text.length > 0 && TEXT.startsWith(text) && text !== TEXT, `part of the text came first: ${text}`);
  const raw = await rawStream('/v1/messages', params('stream-error'));
  assert.deepEqual(raw.error, OVERLOADED_EVENT);
  assert.equal(raw.text, await directStream(params('stream-error'), lastAnthropic().answer.id));
});

test('native mid-stream: a connection lost mid-stream ends the stream with an error event', async () => {
  // An upstream (here the OpenAI mock's "cut-stream") that sends 200, an event, then drops the connection.
  const { error } = await failingStream(
    await sdk('/cut').client.messages.create(params('cut-stream', { stream: true })));
  assert.equal(typeof error.type, 'string');
  const res = await rawPost('/cut/v1/messages', params('cut-stream', { stream: true }));
  const events = parseSse(await res.text());
  assert.equal(events.at(-1).event, 'error');
  assert.equal(events.at(-1).data.type, 'error');
});

test('native mid-stream: a stream that ends before message_stop makes the SDK throw', async () => {
  // The SDK itself takes a stream that just stops for a whole one: the gateway must say so.
  const { text, error } = await failingStream(
    await native().client.messages.create(params('stream-cut', { stream: true })));
  assert.ok(text.length > 0 && TEXT.startsWith(text) && text !== TEXT, `part of the text came first: ${text}`);
  assert.equal(error.type, 'api_error');
  const raw = await rawStream('/v1/messages', params('stream-cut'));
  assert.equal(raw.events.at(-1).event, 'error');
  assert.deepEqual(Object.keys(raw.error.error).sort(), ['message', 'type']);
  assert.equal(raw.events.filter((e) => e.event === 'message_stop').length, 0);
});

test('translated mid-stream: a connection lost mid-stream is an error event in Anthropic\'s shape', async () => {
  const { error } = await failingStream(
    await translated().client.messages.create(params('cut-stream', { stream: true })));
  assert.equal(error.status, undefined, 'an error event, not an error answer');
  assert.equal(error.type, 'api_error');
  const raw = await rawStream('/local/v1/messages', params('cut-stream'));
  assert.equal(raw.events.at(-1).event, 'error');
  assert.deepEqual(Object.keys(raw.error.error).sort(), ['message', 'type']);
  assert.equal(raw.error.error.type, 'api_error');
  assert.equal(raw.events[0].event, 'message_start');
});

test('translated mid-stream: an upstream error object ends the stream with its message', async () => {
  const { text, error } = await failingStream(
    await translated('/tools').client.messages.create(params('stream-error', { stream: true })));
  assert.equal(text, 'Partial ');
  assert.match(error.apiMessage, new RegExp(STREAM_ERROR_MESSAGE));
  const raw = await rawStream('/tools/v1/messages', params('stream-error'));
  assert.equal(raw.events.at(-1).event, 'error');
  assert.match(raw.error.error.message, new RegExp(STREAM_ERROR_MESSAGE));
});

// ---- 5. The beta namespace, and ?beta=true ----
// @anthropic-ai/sdk 0.x sent client.beta.messages to POST .../v1/messages?beta=true; 1.x sends the
// same path without the query. Both: the query given as a request option.
const BETA_QUERY = { query: { beta: 'true' } };

test('native beta: client.beta.messages create and stream, with ?beta=true; the client\'s betas merged with the configured', async () => {
  const { client, sent } = native();
  const message = await client.beta.messages.create(params('text', { betas: [CLIENT_BETA] }), BETA_QUERY);
  assert.match(sent.at(-1).url, /\/v1\/messages\?beta=true$/);
  const seen = lastAnthropic();
  assert.equal(seen.status, 200);
  assert.equal(seen.body, sent.at(-1).body);
  assert.deepEqual(fieldsOf(message), fieldsOf(seen.answer));
  assert.deepEqual(seen.headers['anthropic-beta'].split(',').map((b) => b.trim()).sort(), [CLIENT_BETA, CONFIG_BETA]);
  const stream = client.beta.messages.stream(params('text', { betas: [CLIENT_BETA] }), BETA_QUERY);
  assert.equal((await stream.finalMessage()).content[0].text, TEXT);
  assert.match(sent.at(-1).url, /\?beta=true$/);
  const plain = await client.beta.messages.create(params('text', { betas: [CLIENT_BETA] }));
  assert.match(sent.at(-1).url, /\/v1\/messages$/);
  assert.equal(plain.content[0].text, TEXT);
});

test('translated beta: client.beta.messages create and stream, with ?beta=true', async () => {
  const { client, sent } = translated();
  const message = await client.beta.messages.create(params('json', { betas: [CLIENT_BETA] }), BETA_QUERY);
  assert.match(sent.at(-1).url, /\/local\/v1\/messages\?beta=true$/);
  assert.match(message.id, MESSAGE_ID);
  assert.deepEqual(message.content, [{ type: 'text', text: 'mock says hi' }]);
  const stream = client.beta.messages.stream(params('stream:2', { betas: [CLIENT_BETA] }), BETA_QUERY);
  const final = await stream.finalMessage();
  assert.match(sent.at(-1).url, /\?beta=true$/);
  assert.equal(final.content[0].text, 'w0 w1 ');
  assert.equal(final.stop_reason, 'end_turn');
  const plain = await client.beta.messages.create(params('json', { betas: [CLIENT_BETA] }));
  assert.deepEqual(plain.content, [{ type: 'text', text: 'mock says hi' }]);
});

// ---- Token usage of native routes ----

// The token usage histograms' sums for the llm claude, by token type.
async function claudeTokens() {
  const text = await (await fetch(`${proxy.url}/metrics`)).text();
  const sum = (type) => Number((text.match(new RegExp(
    `^gen_ai_client_token_usage_sum\\{[^}]*llm="claude"[^}]*gen_ai_token_type="${type}"\\} (\\d+)$`, 'm')) || [0, 0])[1]);
  return { input: sum('input'), output: sum('output') };
}

test('native answers and streams report their usage in Anthropic\'s fields, counted with the cache', async () => {
  const before = await claudeTokens();
  await native().client.messages.create(params('cached'));  // 10 + 20 + 30 in, 5 out
  await rawStream('/v1/messages', params('text'));  // 25 in, 12 out
  await rawStream('/v1/messages', params('delta-output-only'));  // 25 in (message_start), 12 out
  await eventually(async () => {
    const after = await claudeTokens();
    assert.equal(after.input - before.input, 60 + 25 + 25);
    assert.equal(after.output - before.output, 5 + 12 + 12);
  });
});
