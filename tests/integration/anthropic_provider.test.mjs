// The official openai npm client through llm-proxy's `anthropic` provider to a mock Anthropic
// Messages API (lib/anthropic_upstream.mjs, which refuses what the real API refuses): what the
// client gets (text, tool calls, usage, finish reasons, reasoning, errors), what reaches Anthropic
// (system, headers, max_tokens, stop, user, tools, images, tool history), every stream also split at
// every byte, and the fields that cannot be translated refused before anything is sent.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import OpenAI from 'openai';

import { ANSWER_MODEL, API_KEY, TEXT, THINKING, TIME_CALL, WEATHER_CALL, startAnthropicMock }
  from './lib/anthropic_upstream.mjs';
import { post, readEvents, startProxy } from './lib/proxy.mjs';

const CONFIG_BETA = 'some-beta-2025-01-01';

let mock;
let proxy;

before(async () => {
  mock = await startAnthropicMock();
  const llm = (name, baseUrl) => `
[llm.${name}]
provider = "anthropic"
type = "chat"
base_url = "${baseUrl}"
token_env = "ANTHROPIC_API_KEY"
read_timeout_ms = 5000
[llm.${name}.options]
max_tokens = 1024
anthropic_beta = ["${CONFIG_BETA}"]
`;
  proxy = await startProxy(`
[server]
host = "127.0.0.1"
port = 0
${llm('claude', mock.url)}
${llm('claude_split', mock.splitUrl)}
[[route]]
path_prefix = "/v1/chat/completions"
target_llm = "claude"

[[route]]
path_prefix = "/split/v1/chat/completions"
target_llm = "claude_split"
`, { env: { ANTHROPIC_API_KEY: API_KEY } });
});

after(async () => {
  await proxy?.stop();
  await mock?.close();
});

// The same streams through an upstream that writes them whole, and one byte per write.
const VARIANTS = [['whole', '/v1'], ['split at every byte', '/split/v1']];

const client = (prefix = '/v1') =>
  new OpenAI({ baseURL: `${proxy.url}${prefix}`, apiKey: 'client-key', maxRetries: 0 });
const hello = [{ role: 'user', content: 'Hello' }];
const chat = (model, extra = {}, prefix = '/v1') =>
  client(prefix).chat.completions.create({ model, messages: hello, ...extra });
const lastRequest = () => mock.requests.at(-1);

// Anthropic content as a list of blocks (a string is one text block).
const blocks = (content) => (typeof content === 'string' ? [{ type: 'text', text: content }] : content);
const toolResultText = (block) => blocks(block.content).map((b) => b.text).join('');

const WEATHER_PARAMS = {
  type: 'object',
  properties: { location: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
  required: ['location'],
  additionalProperties: false,
};
const TOOLS = [
  {
    type: 'function',
    function: { name: 'get_weather', description: 'The weather at a place', parameters: WEATHER_PARAMS },
  },
  { type: 'function', function: { name: 'get_time', description: 'The time now' } },
];

test('a plain answer: content, finish_reason, usage with cached tokens, id and model', async () => {
  const completion = await chat('cached');
  const answer = lastRequest().answer;
  assert.equal(completion.object, 'chat.completion');
  assert.equal(completion.id, answer.id);
  assert.equal(completion.model, ANSWER_MODEL, 'the model the upstream answered with');
  assert.ok(Number.isInteger(completion.created) && completion.created > 1_700_000_000);
  assert.equal(completion.choices.length, 1);
  assert.equal(completion.choices[0].message.role, 'assistant');
  assert.equal(completion.choices[0].message.content, TEXT);
  assert.equal(completion.choices[0].finish_reason, 'stop');
  // input 10 + cache creation 20 + cache read 30; output 5
  assert.equal(completion.usage.prompt_tokens, 60);
  assert.equal(completion.usage.completion_tokens, 5);
  assert.equal(completion.usage.total_tokens, 65);
  assert.equal(completion.usage.prompt_tokens_details.cached_tokens, 30);
});

test('what reaches Anthropic: path, key, version, merged betas, system, max_tokens, stop, user, sampling', async () => {
  const completion = await client().chat.completions.create({
    model: 'echo-request',
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'developer', content: [{ type: 'text', text: 'Answer in English.' }] },
      { role: 'user', content: [{ type: 'text', text: 'Hi' }, { type: 'text', text: '  ' }], name: 'bob' },
    ],
    stop: ['END', 'STOP'],
    user: 'user-42',
    temperature: 0.5,
    top_p: 0.9,
  }, {
    headers: {
      'anthropic-beta': `other-beta-2025-02-02,${CONFIG_BETA}`,
      // The client's credentials in every header an upstream reads keys from.
      'x-api-key': 'client-x-api-key',
      'api-key': 'client-api-key',
    },
  });
  const seen = lastRequest();
  assert.equal(seen.status, 200, 'the mock accepted the translation');
  assert.equal(seen.method, 'POST');
  assert.equal(seen.url, '/v1/messages');
  assert.equal(seen.headers['x-api-key'], API_KEY);
  // The llm has token_env, so no credential of the client's reaches the upstream, also where the
  // provider sets no header of that name itself (Authorization, api-key).
  assert.equal(seen.headers.authorization, undefined, 'the client\'s own key does not reach Anthropic');
  assert.equal(seen.headers['api-key'], undefined);
  assert.equal(seen.headers['anthropic-version'], '2023-06-01');
  const betas = seen.headers['anthropic-beta'].split(',').map((b) => b.trim());
  assert.deepEqual(betas.toSorted(), ['other-beta-2025-02-02', CONFIG_BETA], 'merged, without duplicates');
  const body = JSON.parse(completion.choices[0].message.content);
  assert.deepEqual(body, seen.json, 'echo-request answers with the body it received');
  assert.equal(body.model, 'echo-request', 'the model is passed as named');
  assert.deepEqual(body.system,
    [{ type: 'text', text: 'You are terse.' }, { type: 'text', text: 'Answer in English.' }]);
  assert.equal(body.messages.length, 1);
  assert.equal(body.messages[0].role, 'user');
  assert.deepEqual(blocks(body.messages[0].content), [{ type: 'text', text: 'Hi' }], 'the blank part is dropped');
  assert.equal(body.max_tokens, 1024, 'the default from [llm.claude.options]');
  assert.deepEqual(body.stop_sequences, ['END', 'STOP']);
  assert.deepEqual(body.metadata, { user_id: 'user-42' });
  assert.equal(body.temperature, 0.5);
  assert.equal(body.top_p, 0.9);
  assert.ok(!body.stream, 'not a stream');
});

test('max_tokens and max_completion_tokens are sent as max_tokens; a single stop string as a list', async () => {
  await chat('text', { max_tokens: 77 });
  assert.equal(lastRequest().json.max_tokens, 77);
  await chat('text', { max_completion_tokens: 55 });
  assert.equal(lastRequest().json.max_tokens, 55);
  await chat('text', { stop: 'END' });
  assert.deepEqual(lastRequest().json.stop_sequences, ['END']);
  assert.equal(lastRequest().headers['anthropic-beta'], CONFIG_BETA, 'the configured beta alone');
});

test('tools, tool_choice and parallel_tool_calls', async () => {
  await chat('text', { tools: TOOLS });
  const { tools } = lastRequest().json;
  assert.deepEqual(tools[0],
    { name: 'get_weather', description: 'The weather at a place', input_schema: WEATHER_PARAMS });
  assert.equal(tools[1].name, 'get_time');
  assert.equal(tools[1].description, 'The time now');
  assert.equal(tools[1].input_schema.type, 'object', 'a tool without parameters gets an empty object schema');
  const cases = [
    [{ tool_choice: 'auto' }, { type: 'auto' }],
    [{ tool_choice: 'required' }, { type: 'any' }],
    [{ tool_choice: 'none' }, { type: 'none' }],
    [{ tool_choice: { type: 'function', function: { name: 'get_time' } } }, { type: 'tool', name: 'get_time' }],
    [{ tool_choice: 'required', parallel_tool_calls: false }, { type: 'any', disable_parallel_tool_use: true }],
    [{ parallel_tool_calls: false }, { type: 'auto', disable_parallel_tool_use: true }],
    [{ tool_choice: 'none', parallel_tool_calls: false }, { type: 'none' }],
  ];
  for (const [openai, anthropic] of cases) {
    await chat('text', { tools: TOOLS, ...openai });
    const choice = lastRequest().json.tool_choice;
    const { disable_parallel_tool_use: disable = false, ...rest } = choice;
    const { disable_parallel_tool_use: wanted = false, ...wantedRest } = anthropic;
    assert.deepEqual(rest, wantedRest, JSON.stringify(openai));
    assert.equal(disable, wanted, JSON.stringify(openai));
  }
});

test('images: a data: URL becomes a base64 block, an https URL a url block', async () => {
  await client().chat.completions.create({
    model: 'text',
    messages: [{
      role: 'user',
      content: [
        { type: 'text', text: 'What is in these?' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'high' } },
        { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
      ],
    }],
  });
  assert.equal(lastRequest().status, 200);
  assert.deepEqual(blocks(lastRequest().json.messages[0].content), [
    { type: 'text', text: 'What is in these?' },
    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
    { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
  ]);
});

// A client that shows the model what a tool made puts a user message after the tool message.
test('tool_calls become tool_use; the tool and user messages after them one user turn, results first', async () => {
  await client().chat.completions.create({
    model: 'text',
    tools: TOOLS,
    messages: [
      { role: 'user', content: 'Weather and time?' },
      {
        role: 'assistant',
        content: '',
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Boston"}' } },
          { id: 'functions.get_time:1', type: 'function', function: { name: 'get_time', arguments: '' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '12 C' },
      { role: 'user', content: 'The chart it drew:' },
      { role: 'tool', tool_call_id: 'functions.get_time:1', content: [{ type: 'text', text: '10:00' }] },
      { role: 'user', content: 'And tomorrow?' },
    ],
  });
  const seen = lastRequest();
  assert.equal(seen.status, 200, 'the mock accepted the history');
  const { messages } = seen.json;
  assert.deepEqual(messages.map((m) => m.role), ['user', 'assistant', 'user']);
  assert.deepEqual(blocks(messages[1].content), [
    { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { location: 'Boston' } },
    { type: 'tool_use', id: 'functions_get_time_1', name: 'get_time', input: {} },
  ], 'no empty text block; "" arguments are {}; other id characters become _');
  const turn = blocks(messages[2].content);
  assert.deepEqual(turn.map((b) => b.type), ['tool_result', 'tool_result', 'text', 'text']);
  assert.deepEqual(turn.slice(0, 2).map((b) => [b.tool_use_id, toolResultText(b)]),
    [['call_1', '12 C'], ['functions_get_time_1', '10:00']]);
  assert.deepEqual(turn.slice(2).map((b) => b.text), ['The chart it drew:', 'And tomorrow?']);
});

test('response_format json_schema and reasoning_effort', async () => {
  const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
  await chat('text', { response_format: { type: 'json_schema', json_schema: { name: 'city', schema } } });
  assert.deepEqual(lastRequest().json.output_config.format, { type: 'json_schema', schema });
  await chat('text', { reasoning_effort: 'low' });
  assert.deepEqual(lastRequest().json.thinking, { type: 'adaptive' });
  assert.equal(lastRequest().json.output_config.effort, 'low');
});

test('a tool-result round trip: the answer\'s tool calls, sent back with their results', async () => {
  const messages = [{ role: 'user', content: 'Weather in Boston, and the time?' }];
  const first = await client().chat.completions.create({ model: 'tools', tools: TOOLS, messages });
  const { message } = first.choices[0];
  assert.equal(first.choices[0].finish_reason, 'tool_calls');
  assert.equal(message.content, 'Let me check.');
  assert.deepEqual(message.tool_calls.map((c) => [c.id, c.type, c.function.name, JSON.parse(c.function.arguments)]), [
    [WEATHER_CALL.id, 'function', WEATHER_CALL.name, WEATHER_CALL.input],
    [TIME_CALL.id, 'function', TIME_CALL.name, {}],
  ]);
  assert.equal(message.tool_calls[1].function.arguments, '{}');
  messages.push(message,
    { role: 'tool', tool_call_id: WEATHER_CALL.id, content: '12 C' },
    { role: 'tool', tool_call_id: TIME_CALL.id, content: '10:00' });
  const second = await client().chat.completions.create({ model: 'text', tools: TOOLS, messages });
  assert.equal(second.choices[0].message.content, TEXT);
  const sent = lastRequest().json.messages;
  assert.deepEqual(blocks(sent[1].content), [{ type: 'text', text: 'Let me check.' }, WEATHER_CALL, TIME_CALL]);
  assert.deepEqual(blocks(sent[2].content).map((b) => [b.type, b.tool_use_id, toolResultText(b)]),
    [['tool_result', WEATHER_CALL.id, '12 C'], ['tool_result', TIME_CALL.id, '10:00']]);
});

test('finish_reason for each stop_reason, and thinking as reasoning_content', async () => {
  for (const [model, finish] of [['text', 'stop'], ['tools', 'tool_calls'], ['max_tokens', 'length'],
    ['refusal', 'content_filter']]) {
    const completion = await chat(model, { tools: TOOLS });
    assert.equal(completion.choices[0].finish_reason, finish, model);
  }
  const thinking = await chat('thinking');
  assert.equal(thinking.choices[0].message.reasoning_content, THINKING);
  assert.equal(thinking.choices[0].message.content, 'The answer is 42.');
});

// The chunks of a stream, as the client yields them.
async function chunksOf(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

// A stream's SSE body as the data of each event, read without the client.
async function rawEvents(prefix, body) {
  const res = await post(`${proxy.url}${prefix}/chat/completions`, JSON.stringify({ ...body, stream: true }),
    { authorization: 'Bearer client-key' });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/event-stream/);
  return readEvents(res);
}

const doneCount = (events) => events.filter((data) => data === '[DONE]').length;

for (const [variant, prefix] of VARIANTS) {
  test(`${variant}: streamed tool calls with include_usage, then exactly one [DONE] on the wire`, async () => {
    const body = { model: 'tools', messages: hello, tools: TOOLS, stream_options: { include_usage: true } };
    const stream = client(prefix).chat.completions.stream(body);
    const chunks = await chunksOf(stream);
    const final = await stream.finalChatCompletion();
    const { message } = final.choices[0];
    assert.equal(message.content, 'Let me check.');
    assert.deepEqual(message.tool_calls.map((c) => [c.id, c.type, c.function.name]),
      [[WEATHER_CALL.id, 'function', 'get_weather'], [TIME_CALL.id, 'function', 'get_time']]);
    assert.deepEqual(JSON.parse(message.tool_calls[0].function.arguments), WEATHER_CALL.input);
    assert.equal(message.tool_calls[1].function.arguments, '{}', 'a tool without arguments gets "{}"');
    assert.equal(final.choices[0].finish_reason, 'tool_calls');

    assert.equal(chunks[0].choices[0].delta.role, 'assistant', 'the role chunk comes first');
    const toolDeltas = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
    for (const index of [0, 1]) {
      const first = toolDeltas.find((d) => d.index === index);
      assert.equal(first.id, [WEATHER_CALL.id, TIME_CALL.id][index], `tool ${index}: the first delta has the id`);
      assert.equal(first.function.name, ['get_weather', 'get_time'][index]);
      assert.equal(first.type, 'function');
    }
    assert.ok(toolDeltas.filter((d) => d.index === 0).length > 2, 'arguments arrive in fragments');
    assert.equal(chunks.filter((c) => c.choices[0]?.finish_reason).length, 1, 'one finish chunk');
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, [], 'the usage chunk has no choices');
    assert.deepEqual(last.usage, {
      prompt_tokens: 25, completion_tokens: 12, total_tokens: 37, prompt_tokens_details: { cached_tokens: 0 },
    });
    assert.ok(chunks.slice(0, -1).every((c) => c.usage === null), 'earlier chunks carry "usage": null');
    assert.ok(new Set(chunks.map((c) => c.id)).size === 1 && new Set(chunks.map((c) => c.created)).size === 1);

    const events = await rawEvents(prefix, body);
    assert.equal(doneCount(events), 1);
    assert.equal(events.at(-1), '[DONE]');
  });

  test(`${variant}: a streamed text answer with cached usage; multi-byte characters intact`, async () => {
    const stream = await chat('cached', { stream: true, stream_options: { include_usage: true } }, prefix);
    const chunks = await chunksOf(stream);
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    assert.equal(text, TEXT);
    assert.equal(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason, 'stop');
    const { usage } = chunks.at(-1);
    assert.deepEqual([usage.prompt_tokens, usage.completion_tokens, usage.total_tokens,
      usage.prompt_tokens_details.cached_tokens], [60, 5, 65, 30]);
  });

  test(`${variant}: without include_usage no usage chunk`, async () => {
    const chunks = await chunksOf(await chat('text', { stream: true }, prefix));
    assert.ok(chunks.every((c) => c.choices.length === 1 && !c.usage));
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
  });

  test(`${variant}: streamed thinking as reasoning_content, refusal as content_filter`, async () => {
    const thinking = await chunksOf(await chat('thinking', { stream: true }, prefix));
    const join = (chunks, key) => chunks.map((c) => c.choices[0]?.delta?.[key] ?? '').join('');
    assert.equal(join(thinking, 'reasoning_content'), THINKING);
    assert.equal(join(thinking, 'content'), 'The answer is 42.');
    const refusal = await chunksOf(await chat('refusal', { stream: true }, prefix));
    assert.equal(refusal.at(-1).choices[0].finish_reason, 'content_filter');
    const truncated = await chunksOf(await chat('max_tokens', { stream: true }, prefix));
    assert.equal(truncated.at(-1).choices[0].finish_reason, 'length');
  });

  test(`${variant}: a mid-stream error event throws in the client, with no [DONE] on the wire`, async () => {
    const stream = await chat('stream-error', { stream: true }, prefix);
    let text = '';
    await assert.rejects(async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    }, (e) => e instanceof OpenAI.APIError && /Overloaded/.test(e.message));
    assert.ok(text.length > 0 && TEXT.startsWith(text) && text !== TEXT, `part of the text came first: ${text}`);
    const events = await rawEvents(prefix, { model: 'stream-error', messages: hello });
    assert.equal(doneCount(events), 0);
    assert.match(events.at(-1), /"error"/);
  });

  test(`${variant}: a stream cut before message_stop is an error, not a normal end`, async () => {
    const stream = await chat('stream-cut', { stream: true }, prefix);
    await assert.rejects(chunksOf(stream),
      (e) => e instanceof OpenAI.APIError && e.code === 'upstream_stream_truncated');
    const events = await rawEvents(prefix, { model: 'stream-cut', messages: hello });
    assert.equal(doneCount(events), 0);
    assert.equal(JSON.parse(events.at(-1)).error.code, 'upstream_stream_truncated');
  });
}

test('529 overloaded reaches the client as 503 with the upstream\'s message, whole and before a stream', async () => {
  const overloaded = (e) => e instanceof OpenAI.InternalServerError && e.status === 503 &&
    /Overloaded/.test(e.message) && e.code === 'overloaded_error';
  await assert.rejects(chat('error:529'), overloaded);
  await assert.rejects(chat('error:529', { stream: true }), overloaded);
});

test('429 reaches the client as 429 with the upstream\'s retry-after', async () => {
  await assert.rejects(chat('error:429'), (e) => e instanceof OpenAI.RateLimitError && e.status === 429 &&
    e.type === 'rate_limit_error' && e.headers.get('retry-after') === '17' && /rate limit/.test(e.message));
});

test('a prompt too long is a 400 with code context_length_exceeded', async () => {
  await assert.rejects(chat('error:400-too-long'), (e) => e instanceof OpenAI.BadRequestError &&
    e.code === 'context_length_exceeded' && /prompt is too long/.test(e.message));
});

test('an HTML 502 from a CDN is a 502 naming the status and part of the body', async () => {
  await assert.rejects(chat('html:502'), (e) => e instanceof OpenAI.InternalServerError && e.status === 502 &&
    /502/.test(e.error.message) && /Bad Gateway/.test(e.error.message));
});

// Whether an error names field: as its param, or as a word of its message.
const namesField = (e, field) => e.param === field ||
  new RegExp(`(^|[^\\w.])${field}([^\\w]|$)`).test(e.error?.message ?? '');

test('fields that cannot be translated are a 400 naming the field, and nothing is sent', async () => {
  const refused = [
    ['n', { n: 2 }, 'unsupported_parameter'],
    ['logprobs', { logprobs: true }, 'unsupported_parameter'],
    ['response_format', { response_format: { type: 'json_object' } }],
    ['temperature', { temperature: 1.5 }],
    ['stop', { stop: ['\n'] }],
  ];
  for (const [field, extra, code] of refused) {
    const before = mock.requests.length;
    await assert.rejects(chat('text', extra), (e) => e instanceof OpenAI.BadRequestError && namesField(e, field) &&
      (code === undefined || e.code === code), field);
    assert.equal(mock.requests.length, before, `${field}: the mock received nothing`);
  }
  await assert.rejects(chat('text', { response_format: { type: 'json_object' } }), /json_schema/,
    'the message points to json_schema');
});
