// The mock Anthropic upstream (lib/anthropic_upstream.mjs) checked directly, without the proxy: a
// request using every accepted shape passes; each shape the real API refuses gets its 400 (or 401)
// in Anthropic's error shape; each answer, streamed, follows the documented event order and rebuilds
// the same message; the split-bytes prefix sends the same bytes one per write.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';

import { parseSse, readAnthropicStream } from './lib/anthropic_sse.mjs';
import { API_KEY, OVERLOADED_EVENT, TEXT, TIME_CALL, WEATHER_CALL, jsonFragments, startAnthropicMock }
  from './lib/anthropic_upstream.mjs';

let mock;

before(async () => {
  mock = await startAnthropicMock();
});

after(async () => {
  await mock?.close();
});

const HEADERS = { 'content-type': 'application/json', 'x-api-key': API_KEY, 'anthropic-version': '2023-06-01' };

function send(body, { headers = HEADERS, base = mock.url, path = '/messages' } = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return fetch(`${base}${path}`, { method: 'POST', headers, body: text });
}

const PNG = { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' };
const schema = (properties = {}) => ({ type: 'object', properties });

// A request with every shape the API accepts: system blocks, consecutive user turns (merged),
// images of both sources, thinking in history, two tool calls answered by tool_result blocks
// spread over two consecutive user messages, a prefilled final assistant turn. valid() gives a
// fresh copy to change.
const VALID = {
  model: 'text',
  max_tokens: 256,
  system: [
    { type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } },
    { type: 'text', text: 'Be kind.' },
  ],
  messages: [
    { role: 'user', content: 'What is the weather?' },
    {
      role: 'user',
      content: [{ type: 'text', text: 'In Boston.' }, { type: 'image', source: PNG },
        { type: 'image', source: { type: 'url', url: 'https://example.com/a.jpg' } }],
    },
    {
      role: 'assistant',
      content: [{ type: 'thinking', thinking: 'They want weather.', signature: 'sig' },
        { type: 'text', text: 'Checking.' },
        { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { location: 'Boston' } },
        { type: 'tool_use', id: 'toolu_01B', name: 'get_time', input: {} }],
    },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01A', content: '12 C' }] },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_01B', content: [{ type: 'text', text: '10:00' }], is_error: false },
        { type: 'text', text: 'Thanks.' }],
    },
    { role: 'assistant', content: 'It is' },
  ],
  tools: [
    { name: 'get_weather', description: 'The weather', input_schema: schema({ location: { type: 'string' } }) },
    { name: 'get_time', input_schema: schema() },
  ],
  tool_choice: { type: 'auto', disable_parallel_tool_use: true },
  stop_sequences: ['END', '\nUser:'],
  temperature: 1,
  top_p: 0.9,
  top_k: 5,
  metadata: { user_id: 'user-123' },
  output_config: { effort: 'high', format: { type: 'json_schema', schema: schema() } },
  service_tier: 'auto',
};
const valid = () => structuredClone(VALID);

// A valid request changed by edit (which changes the body in place).
function invalid(edit) {
  const body = valid();
  edit(body);
  return body;
}

const user = (content) => ({ role: 'user', content });
const assistant = (content) => ({ role: 'assistant', content });
const toolUse = (id, name = 'get_weather') => ({ type: 'tool_use', id, name, input: {} });
const toolResult = (id) => ({ type: 'tool_result', tool_use_id: id, content: 'ok' });

async function expectRefusal(res, status, type, message) {
  const body = await res.json();
  assert.equal(res.status, status, JSON.stringify(body));
  assert.equal(body.type, 'error');
  assert.equal(body.error.type, type);
  assert.match(body.error.message, message);
  assert.match(body.request_id, /^req_/);
  assert.match(res.headers.get('content-type'), /^application\/json/);
}

test('a request with every accepted shape is answered 200 with a message, and recorded', async () => {
  const res = await send(valid(), { path: '/messages?beta=true' });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.match(res.headers.get('request-id'), /^req_/);
  assert.equal(body.type, 'message');
  assert.deepEqual(body.content, [{ type: 'text', text: TEXT }]);
  const seen = mock.requests.at(-1);
  assert.equal(seen.method, 'POST');
  assert.equal(seen.url, '/v1/messages?beta=true');
  assert.equal(seen.headers['x-api-key'], API_KEY);
  assert.deepEqual(seen.json, valid());
  assert.equal(seen.status, 200);
  assert.deepEqual(seen.answer, body);
});

test('401 authentication_error for a missing or wrong x-api-key', async () => {
  const { 'x-api-key': _key, ...keyless } = HEADERS;
  await expectRefusal(await send(valid(), { headers: keyless }), 401, 'authentication_error',
    /x-api-key header is required/);
  await expectRefusal(await send(valid(), { headers: { ...HEADERS, 'x-api-key': 'sk-wrong' } }), 401,
    'authentication_error', /invalid x-api-key/);
  await expectRefusal(await send(valid(), { headers: { ...keyless, authorization: `Bearer ${API_KEY}` } }), 401,
    'authentication_error', /x-api-key header is required/);
});

test('400 for a missing or unknown anthropic-version', async () => {
  const { 'anthropic-version': _version, ...versionless } = HEADERS;
  await expectRefusal(await send(valid(), { headers: versionless }), 400, 'invalid_request_error',
    /anthropic-version: header is required/);
  await expectRefusal(await send(valid(), { headers: { ...HEADERS, 'anthropic-version': '2024-13-01' } }), 400,
    'invalid_request_error', /anthropic-version: invalid version/);
});

test('404 not_found_error for another path, another method, or an unknown model', async () => {
  await expectRefusal(await send(valid(), { path: '/chat/completions' }), 404, 'not_found_error', /Not found/);
  await expectRefusal(await fetch(`${mock.url}/messages`, { headers: HEADERS }), 404, 'not_found_error', /GET/);
  await expectRefusal(await send(invalid((b) => { b.model = 'claude-opus-9'; })), 404, 'not_found_error',
    /model: claude-opus-9/);
});

test('413 request_too_large for a body over the API\'s 32 MiB', async () => {
  const res = await send('x'.repeat((32 << 20) + 1));
  await expectRefusal(res, 413, 'request_too_large', /exceeds the maximum allowed size/);
});

// [what is wrong, how the valid request is changed, the message the API gives]
const REFUSED = [
  ['a body that is not JSON', '{"model": "text",', /not valid JSON/],
  ['a JSON array body', '[]', /not valid JSON/],
  ['an unknown top-level field', (b) => { b.n = 2; }, /^n: Extra inputs are not permitted/],
  ['an OpenAI field', (b) => { b.stream_options = { include_usage: true }; }, /^stream_options: Extra inputs/],
  ['no model', (b) => { delete b.model; }, /^model: Field required/],
  ['no max_tokens', (b) => { delete b.max_tokens; }, /^max_tokens: Field required/],
  ['a fractional max_tokens', (b) => { b.max_tokens = 1.5; }, /^max_tokens: Input should be a valid integer/],
  ['no messages', (b) => { delete b.messages; }, /^messages: Field required/],
  ['messages not a list', (b) => { b.messages = 'hi'; }, /^messages: Input should be a valid list/],
  ['empty messages', (b) => { b.messages = []; }, /^messages: at least one message is required/],
  ['a message that is not an object', (b) => { b.messages[0] = 'hi'; }, /^messages\.0: Input should be a valid dict/],
  ['a system role in messages', (b) => { b.messages.unshift({ role: 'system', content: 'x' }); },
    /Unexpected role "system"/],
  ['a tool role in messages', (b) => { b.messages[0].role = 'tool'; }, /^messages\.0\.role: Input should be 'user' or/],
  ['a message with a name', (b) => { b.messages[0].name = 'bob'; }, /^messages\.0\.name: Extra inputs/],
  ['an empty string content', (b) => { b.messages[0].content = ''; }, /^messages\.0: all messages must have non-empty/],
  ['an empty content list', (b) => { b.messages[0].content = []; }, /^messages\.0: all messages must have non-empty/],
  ['content of another type', (b) => { b.messages[0].content = { text: 'x' }; },
    /^messages\.0\.content: Input should be/],
  ['an empty text block', (b) => { b.messages[1].content[0].text = ''; }, /text content blocks must be non-empty/],
  ['a whitespace-only text block', (b) => { b.messages[1].content[0].text = ' \n'; },
    /must contain non-whitespace text/],
  ['a text block without text', (b) => { delete b.messages[1].content[0].text; },
    /content\.0\.text: Input should be a valid/],
  ['a block without type', (b) => { b.messages[1].content[0] = { text: 'x' }; }, /content\.0\.type: Field required/],
  ['an unknown block type', (b) => { b.messages[1].content[0].type = 'image_url'; }, /unknown content block type/],
  ['a tool_use block from the user', (b) => { b.messages[0].content = [toolUse('toolu_X')]; },
    /a 'tool_use' block cannot appear in a 'user' message/],
  ['an image from the assistant', (b) => { b.messages[2].content.push({ type: 'image', source: PNG }); },
    /a 'image' block cannot appear in a 'assistant' message/],
  ['an unknown key in a block', (b) => { b.messages[1].content[2].detail = 'high'; },
    /content\.2\.detail: Extra inputs/],
  ['an image media type not jpeg/png/gif/webp', (b) => { b.messages[1].content[1].source.media_type = 'image/svg'; },
    /content\.1\.source\.base64\.media_type: Input should be 'image\/jpeg'/],
  ['an image without data', (b) => { b.messages[1].content[1].source.data = ''; },
    /source\.base64\.data: Field required/],
  ['an image without source', (b) => { delete b.messages[1].content[1].source; }, /content\.1\.source: Field required/],
  ['an image url that is not http(s)', (b) => { b.messages[1].content[2].source.url = 'data:image/png;base64,AA=='; },
    /source\.url: invalid URL/],
  ['an unknown image source type', (b) => { b.messages[1].content[2].source.type = 'file'; }, /source\.type: unknown/],
  ['a PDF document of another media type', (b) => {
    b.messages[0].content = [{ type: 'document', source: { ...PNG } }];
  }, /media_type: Input should be 'application\/pdf'/],
  ['a tool_use id with other characters', (b) => {
    b.messages[2].content[2].id = 'functions.get_weather:0';
    b.messages[3].content[0].tool_use_id = 'functions.get_weather:0';
  }, /content\.2\.id: String should match pattern/],
  ['a tool_use without name', (b) => { delete b.messages[2].content[2].name; }, /content\.2\.name: Field required/],
  ['a tool_use whose input is a string', (b) => { b.messages[2].content[2].input = '{}'; },
    /content\.2\.input: Input should be a valid dictionary/],
  ['a tool_result id with other characters', (b) => { b.messages[3].content[0].tool_use_id = 'a:b'; },
    /content\.0\.tool_use_id: String should match/],
  ['a tool_result with a part of another type', (b) => { b.messages[4].content[0].content = [{ type: 'tool_use' }]; },
    /content\.0\.content\.0: text or image/],
  ['a tool_result with a blank text part', (b) => { b.messages[4].content[0].content = [{ type: 'text', text: ' ' }]; },
    /must contain non-whitespace text/],
  ['a tool_result whose content is a number', (b) => { b.messages[3].content[0].content = 12; },
    /content: string or list/],
  ['a tool_result whose is_error is a string', (b) => { b.messages[3].content[0].is_error = 'yes'; },
    /is_error: boolean/],
  ['a thinking block without signature', (b) => { delete b.messages[2].content[0].signature; }, /thinking, signature/],
  ['a redacted_thinking block without data', (b) => { b.messages[2].content[0] = { type: 'redacted_thinking' }; },
    /content\.0\.data: Field required/],
  ['a tool_use without its tool_result', (b) => { b.messages[4].content.shift(); },
    /^messages\.2: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_01B\./],
  ['a tool_result after text in the next turn', (b) => { b.messages[4].content.reverse(); },
    /^messages\.2: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_01B\./],
  ['a tool_use as the last turn', (b) => { b.messages.splice(3); }, /`tool_use` ids were found without `tool_result`/],
  ['a tool_result without a preceding tool_use', (b) => { b.messages[0].content = [toolResult('toolu_01Z')]; },
    /^messages\.0\.content\.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_01Z\./],
  ['a tool_result two turns after its tool_use', (b) => {
    b.messages.splice(5, 1, assistant('Done.'), user([toolResult('toolu_01A')]));
  }, /^messages\.6\.content\.0: unexpected `tool_use_id`/],
  ['tool blocks without tools', (b) => { delete b.tools; delete b.tool_choice; },
    /include `tool_use` or `tool_result` blocks must define tools/],
  ['a final assistant turn ending in whitespace', (b) => { b.messages[5].content = 'It is '; },
    /final assistant content cannot end with trailing whitespace/],
  ['system as a number', (b) => { b.system = 3; }, /^system: Input should be a valid string or list/],
  ['a system block of another type', (b) => { b.system[0].type = 'image'; },
    /^system\.0\.type: Input should be 'text'/],
  ['a whitespace-only system block', (b) => { b.system[1].text = '  '; }, /must contain non-whitespace text/],
  ['an unknown key in a system block', (b) => { b.system[1].role = 'system'; }, /^system\.1\.role: Extra inputs/],
  ['tools not a list', (b) => { b.tools = {}; }, /^tools: Input should be a valid list/],
  ['a tool that is not an object', (b) => { b.tools[1] = 'get_time'; }, /^tools\.1: Input should be a valid dict/],
  ['an OpenAI-shaped tool', (b) => { b.tools[1] = { type: 'function', function: { name: 'get_time' } }; },
    /^tools\.1\.function: Extra inputs/],
  ['a tool name with a dot', (b) => { b.tools[1].name = 'get.time'; }, /^tools\.1\.name: String should match/],
  ['a tool without input_schema', (b) => { delete b.tools[1].input_schema; }, /^tools\.1\.input_schema\.type: Input/],
  ['a tool description that is not a string', (b) => { b.tools[0].description = 1; }, /^tools\.0\.description: string/],
  ['two tools of one name', (b) => { b.tools[1].name = 'get_weather'; }, /Tool names must be unique/],
  ['tool_choice without tools', (b) => {
    b.messages.splice(2);
    delete b.tools;
  }, /tool_choice may only be specified while providing tools/],
  ['an OpenAI tool_choice', (b) => { b.tool_choice = 'auto'; }, /^tool_choice\.type: Input should be 'auto'/],
  ['tool_choice none with disable_parallel_tool_use', (b) => { b.tool_choice.type = 'none'; },
    /^tool_choice\.disable_parallel_tool_use: Extra inputs/],
  ['tool_choice naming no tool', (b) => { b.tool_choice = { type: 'tool', name: 'nope' }; }, /no tool named 'nope'/],
  ['disable_parallel_tool_use not a boolean', (b) => { b.tool_choice.disable_parallel_tool_use = 'true'; },
    /disable_parallel_tool_use: Input should be a valid boolean/],
  ['temperature above 1', (b) => { b.temperature = 1.5; }, /^temperature: Input should be less than or equal to 1/],
  ['temperature below 0', (b) => { b.temperature = -0.1; }, /^temperature: Input should be greater than or equal to 0/],
  ['top_p as a string', (b) => { b.top_p = '0.5'; }, /^top_p: Input should be a valid number/],
  ['a negative top_k', (b) => { b.top_k = -1; }, /^top_k: integer/],
  ['stop_sequences as a string', (b) => { b.stop_sequences = 'END'; }, /^stop_sequences: Input should be a valid list/],
  ['a stop sequence that is not a string', (b) => { b.stop_sequences = [1]; },
    /^stop_sequences: Input should be a valid str/],
  ['an empty stop sequence', (b) => { b.stop_sequences = ['END', '']; }, /each stop sequence must be non-empty/],
  ['a whitespace-only stop sequence', (b) => { b.stop_sequences = ['\n']; },
    /each stop sequence must contain non-whitespace/],
  ['stream as a string', (b) => { b.stream = 'true'; }, /^stream: Input should be a valid boolean/],
  ['metadata as a string', (b) => { b.metadata = 'user-123'; }, /^metadata: Input should be a valid dictionary/],
  ['an unknown metadata key', (b) => { b.metadata.session = 'x'; }, /^metadata\.session: Extra inputs/],
  ['a numeric user_id', (b) => { b.metadata.user_id = 123; }, /^metadata\.user_id: string/],
  ['an unknown thinking type', (b) => { b.thinking = { type: 'on' }; }, /^thinking\.type: Input should be/],
  ['a thinking budget below 1024', (b) => { b.thinking = { type: 'enabled', budget_tokens: 512 }; },
    /budget_tokens: Input should be greater than or equal to 1024/],
  ['a thinking budget not below max_tokens', (b) => { b.thinking = { type: 'enabled', budget_tokens: 1024 }; },
    /`max_tokens` must be greater than `thinking.budget_tokens`/],
  ['thinking with forced tool use', (b) => {
    b.thinking = { type: 'adaptive' };
    b.tool_choice = { type: 'any' };
  }, /Thinking may not be enabled when tool_choice forces tool use/],
  ['thinking with a changed temperature', (b) => {
    b.thinking = { type: 'adaptive' };
    b.temperature = 0.5;
  }, /`temperature` may only be set to 1 when thinking is enabled/],
  ['output_config as a string', (b) => { b.output_config = 'high'; }, /^output_config: Input should be a valid dict/],
  ['an unknown output_config key', (b) => { b.output_config.format_type = 'json'; },
    /^output_config\.format_type: Extra/],
  ['an unknown effort', (b) => { b.output_config.effort = 'minimal'; }, /^output_config\.effort: Input should be/],
  ['a schema-less JSON format', (b) => { b.output_config.format = { type: 'json_object' }; },
    /^output_config\.format:/],
  ['an unknown service_tier', (b) => { b.service_tier = 'flex'; }, /^service_tier:/],
  ['five cache_control blocks', (b) => {
    for (const tool of b.tools) tool.cache_control = { type: 'ephemeral' };
    b.system[1].cache_control = { type: 'ephemeral' };
    b.messages[1].content[0].cache_control = { type: 'ephemeral' };
  }, /A maximum of 4 blocks with cache_control may be provided\. Found 5\./],
  ['a whole-answer request for a stream-only model', (b) => { b.model = 'stream-error'; }, /needs "stream": true/],
];

test('400 invalid_request_error, with the API\'s message, for each shape the API refuses', async () => {
  for (const [what, edit, message] of REFUSED) {
    const before = mock.requests.length;
    const res = await send(typeof edit === 'string' ? edit : invalid(edit));
    await assert.doesNotReject(expectRefusal(res, 400, 'invalid_request_error', message), what);
    assert.equal(mock.requests.length, before + 1);
    assert.equal(mock.requests.at(-1).status, 400, what);
  }
});

test('accepted too: string system, tool_choice any/tool/none, thinking, an empty last turn, a PDF', async () => {
  const variants = [
    (b) => { b.system = 'Be brief.'; },
    (b) => { b.tool_choice = { type: 'any' }; },
    (b) => { b.tool_choice = { type: 'tool', name: 'get_time', disable_parallel_tool_use: false }; },
    (b) => { b.tool_choice = { type: 'none' }; },
    (b) => { b.thinking = { type: 'enabled', budget_tokens: 1024 }; b.max_tokens = 2048; },
    (b) => { b.thinking = { type: 'adaptive' }; delete b.top_k; },
    (b) => { b.messages[5].content = []; },
    (b) => {
      const source = { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' };
      b.messages[0].content = [{ type: 'document', source }];
    },
    (b) => { b.max_tokens = 0; },
  ];
  for (const [i, edit] of variants.entries()) {
    const res = await send(invalid(edit));
    assert.equal(res.status, 200, `variant ${i}: ${await res.text()}`);
  }
});

const simple = (model, extra = {}) => ({ model, max_tokens: 64, messages: [user('Hi')], ...extra });

async function stream(model, base = mock.url) {
  const res = await send(simple(model, { stream: true }), { base });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/event-stream/);
  return res.text();
}

const names = (events) => events.map((e) => e.event);

test('a streamed tool-use answer follows the documented event order, with "" first in partial_json', async () => {
  const events = parseSse(await stream('tools'));
  const blockEvents = (index, deltas) => ['content_block_start', ...(index === 0 ? ['ping'] : []),
    ...Array(deltas).fill('content_block_delta'), 'content_block_stop'];
  assert.deepEqual(names(events), ['message_start', ...blockEvents(0, 3),  // 'Let ', 'me ', 'check.'
    ...blockEvents(1, jsonFragments(WEATHER_CALL.input).length), ...blockEvents(2, 1),
    'message_delta', 'message_stop']);
  const { message, fragments } = readAnthropicStream(events);
  assert.deepEqual(message, mock.requests.at(-1).answer, 'the stream rebuilds the message');
  assert.deepEqual(message.content.slice(1), [WEATHER_CALL, TIME_CALL]);
  assert.equal(message.stop_reason, 'tool_use');
  assert.equal(fragments[1][0], '', 'the first fragment is empty');
  assert.ok(fragments[1].length > 3, 'arguments arrive in several fragments');
  assert.deepEqual(fragments[2], [''], 'a tool without arguments sends one empty fragment');
  assert.deepEqual(events[events.findIndex((e) => e.event === 'content_block_start' && e.data.index === 1)].data
    .content_block, { ...WEATHER_CALL, input: {} });
});

test('every answer, streamed, rebuilds the message it was made from', async () => {
  for (const model of ['text', 'thinking', 'refusal', 'max_tokens', 'cached', 'echo-request']) {
    const events = parseSse(await stream(model));
    const { message, error } = readAnthropicStream(events);
    assert.equal(error, null);
    assert.deepEqual(message, mock.requests.at(-1).answer, model);
    assert.equal(events[0].data.message.usage.output_tokens, 1, 'message_start carries a placeholder count');
  }
});

test('the answers: thinking, refusal, max_tokens, cached usage, echo', async () => {
  const answer = async (body) => (await send(body)).json();
  const thinking = await answer(simple('thinking'));
  assert.deepEqual(thinking.content.map((b) => b.type), ['thinking', 'redacted_thinking', 'text']);
  const refusal = await answer(simple('refusal'));
  assert.deepEqual(refusal.content, []);
  assert.equal(refusal.stop_reason, 'refusal');
  assert.equal(refusal.stop_details.type, 'refusal');
  const truncated = await answer(simple('max_tokens'));
  assert.equal(truncated.stop_reason, 'max_tokens');
  assert.equal(truncated.usage.output_tokens, 64);
  const cached = await answer(simple('cached'));
  assert.deepEqual([cached.usage.input_tokens, cached.usage.cache_creation_input_tokens,
    cached.usage.cache_read_input_tokens, cached.usage.output_tokens], [10, 20, 30, 5]);
  const echo = await answer(simple('echo-request', { temperature: 0.5 }));
  assert.deepEqual(JSON.parse(echo.content[0].text), simple('echo-request', { temperature: 0.5 }));
});

test('a streamed refusal has no content blocks and its stop_details on message_delta', async () => {
  const events = parseSse(await stream('refusal'));
  assert.deepEqual(names(events), ['message_start', 'ping', 'message_delta', 'message_stop']);
  assert.equal(events[2].data.delta.stop_reason, 'refusal');
  assert.equal(events[2].data.delta.stop_details.type, 'refusal');
});

test('a thinking stream: thinking deltas then a signature delta, redacted thinking whole', async () => {
  const events = parseSse(await stream('thinking'));
  const deltasOf = (index) => events.filter((e) => e.event === 'content_block_delta' && e.data.index === index)
    .map((e) => e.data.delta.type);
  assert.equal(deltasOf(0).at(-1), 'signature_delta');
  assert.ok(deltasOf(0).slice(0, -1).every((t) => t === 'thinking_delta') && deltasOf(0).length > 2);
  assert.deepEqual(deltasOf(1), []);
  assert.ok(deltasOf(2).length > 1 && deltasOf(2).every((t) => t === 'text_delta'));
});

test('stream-error sends a few text deltas then an overloaded_error event, and no message_stop', async () => {
  const events = parseSse(await stream('stream-error'));
  const { message, error } = readAnthropicStream(events);
  assert.deepEqual(error, OVERLOADED_EVENT);
  assert.equal(events.at(-1).event, 'error');
  assert.ok(message.content[0].text.length > 0 && message.content[0].text !== TEXT, 'part of the text came');
  assert.ok(!names(events).includes('message_stop'));
});

test('stream-cut ends the response cleanly without message_stop', async () => {
  const events = parseSse(await stream('stream-cut'));
  assert.ok(names(events).includes('content_block_delta'));
  assert.throws(() => readAnthropicStream(events), /ends with message_stop or error/);
});

test('error answers: 529 overloaded, 429 with retry-after, prompt too long, an HTML 502', async () => {
  let res = await send(simple('error:529'));
  await expectRefusal(res, 529, 'overloaded_error', /^Overloaded$/);
  res = await send(simple('error:429'));
  assert.equal(res.headers.get('retry-after'), '17');
  await expectRefusal(res, 429, 'rate_limit_error', /rate limit/);
  await expectRefusal(await send(simple('error:400-too-long')), 400, 'invalid_request_error', /^prompt is too long: /);
  await expectRefusal(await send(simple('error:500')), 500, 'api_error', /mock error 500/);
  res = await send(simple('html:502'));
  assert.equal(res.status, 502);
  assert.match(res.headers.get('content-type'), /^text\/html/);
  assert.match(await res.text(), /<title>502 Bad Gateway<\/title>/);
  assert.equal(mock.requests.at(-1).status, 502);
});

// The body of a POST to the split-bytes prefix, as the pieces the HTTP parser handed over (one
// per chunk of the chunked encoding).
function pieces(body) {
  return new Promise((resolve, reject) => {
    const url = new URL(`${mock.splitUrl}/messages`);
    const req = http.request(url, { method: 'POST', headers: HEADERS }, (res) => {
      const received = [];
      res.on('data', (piece) => received.push(piece));
      res.on('end', () => resolve(received));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const withoutIds = (text) => text.replace(/msg_01Mock\d+/g, 'msg_ID');

test('the split-bytes prefix sends the same stream one byte per write', async () => {
  for (const model of ['tools', 'thinking', 'stream-error']) {
    const received = await pieces(simple(model, { stream: true }));
    const whole = await stream(model);
    assert.ok(received.every((piece) => piece.length === 1), `${model}: one byte per piece`);
    assert.equal(withoutIds(Buffer.concat(received).toString('utf8')), withoutIds(whole), model);
  }
  assert.equal((await send(simple('text'), { base: mock.splitUrl })).status, 200, 'whole answers are served too');
});
