// A mock Anthropic Messages API on 127.0.0.1, written from the API reference (the docs' errors and
// streaming pages, the official SDK's request types), to judge a translation into Anthropic's format.
//
// Endpoint: POST <basePath>/messages (basePath "/v1" unless given; a query string is allowed).
// Split streams: the same endpoint under the prefix "/split-bytes" (mock.splitUrl, e.g.
// http://127.0.0.1:PORT/split-bytes/v1) writes every stream one byte per write, each write flushed
// to the socket before the next, so that a reader's incremental parsing is exercised. A prefix of
// the base URL, not a header or a query, because a provider appends its own path to base_url and
// sends its own headers.
//
// It checks what the real API checks and answers in Anthropic's error shape
// ({"type":"error","error":{"type":...,"message":...},"request_id":"req_..."}): 404 for another
// path or method; 413 for a body over 32 MiB; 401 for a missing or wrong x-api-key (a bearer token
// is not taken for one); 400 for a missing or unknown anthropic-version, a body that is not a JSON
// object, an unknown top-level field, missing model/max_tokens/messages, a message with a key other
// than role/content, a "system" (or other) role in messages, empty content, an empty or
// whitespace-only text block, a block type the role cannot send, a block with unknown keys, an
// image whose media type is not jpeg/png/gif/webp, a tool_use id outside ^[a-zA-Z0-9_-]+$, a
// tool_use whose tool_result blocks are not at the start of the next user turn (consecutive
// same-role turns are merged first, as the API does, after which turns alternate by construction
// and only the roles remain to check), a tool_result without a tool_use in the previous turn, tool
// blocks without `tools`, temperature or top_p outside 0..1, an empty or whitespace-only stop
// sequence, malformed tools/tool_choice/metadata/thinking/output_config, thinking with forced tool
// use or a changed temperature, more than 4 cache_control blocks, a final assistant turn ending in
// whitespace. See `validateRequest` below; the self-test (anthropic_upstream.test.mjs) has one case
// per check.
//
// What a valid request gets is chosen by its "model" (see `answers`): text, tools, thinking,
// refusal, max_tokens, cached, echo-request (a text block holding the JSON body it received),
// error:<status> (error:529 overloaded, error:429 with retry-after, error:400-too-long), html:502,
// stream-error, stream-cut. Any other model gets 404 not_found_error. With "stream": true the answer
// is the real event sequence (see `streamEvents`).
//
// mock.requests records every request: { method, url, headers, body, json, status, answer }, where
// status is what the mock answered and answer the message it sent (null for an error).
import http from 'node:http';

export const API_KEY = 'sk-ant-mock-key';
export const ANSWER_MODEL = 'claude-mock-4-5-20250929';
export const TEXT = 'Hello from the mock — ünïcode ✓ and more words.';
const SPLIT_PREFIX = '/split-bytes';

// 2026-10-21 is what @anthropic-ai/sdk 1.x sends by default (its request-side changes, such as
// refusing temperature/top_p/top_k, are not modelled here: no test sends those with it).
const API_VERSIONS = ['2023-06-01', '2023-01-01', '2026-10-21'];
const MAX_BODY_BYTES = 32 << 20;  // the Messages API's own limit (413 request_too_large above it)
const TOP_LEVEL_FIELDS = new Set(['model', 'max_tokens', 'messages', 'system', 'stop_sequences', 'stream',
  'temperature', 'top_p', 'top_k', 'tools', 'tool_choice', 'thinking', 'metadata', 'output_config',
  'service_tier', 'cache_control', 'container']);
const BLOCK_KEYS = {
  text: ['type', 'text', 'cache_control', 'citations'],
  image: ['type', 'source', 'cache_control'],
  document: ['type', 'source', 'title', 'context', 'citations', 'cache_control'],
  tool_result: ['type', 'tool_use_id', 'content', 'is_error', 'cache_control'],
  tool_use: ['type', 'id', 'name', 'input', 'cache_control'],
  thinking: ['type', 'thinking', 'signature'],
  redacted_thinking: ['type', 'data'],
};
const BLOCKS_OF_ROLE = {
  user: ['text', 'image', 'document', 'tool_result'],
  assistant: ['text', 'tool_use', 'thinking', 'redacted_thinking'],
};
const TOOL_KEYS = ['type', 'name', 'description', 'input_schema', 'cache_control', 'strict',
  'eager_input_streaming', 'defer_loading', 'input_examples'];
const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];
const TOOL_USE_ID = /^[a-zA-Z0-9_-]+$/;
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,128}$/;
const ERROR_TYPE_OF_STATUS = {
  400: 'invalid_request_error', 401: 'authentication_error', 402: 'billing_error', 403: 'permission_error',
  404: 'not_found_error', 413: 'request_too_large', 429: 'rate_limit_error', 500: 'api_error',
  504: 'timeout_error', 529: 'overloaded_error',
};

// A request the API refuses: status, Anthropic error type, message.
class Refusal extends Error {
  constructor(status, type, message) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

function check(condition, message) {
  if (!condition) throw new Refusal(400, 'invalid_request_error', message);
}

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const isBlank = (s) => s.trim() === '';

function checkKeys(value, allowed, path) {
  for (const key of Object.keys(value)) check(allowed.includes(key), `${path}.${key}: Extra inputs are not permitted`);
}

function checkText(text, path) {
  check(typeof text === 'string', `${path}.text: Input should be a valid string`);
  check(text !== '', 'messages: text content blocks must be non-empty');
  check(!isBlank(text), 'messages: text content blocks must contain non-whitespace text');
}

function checkSource(block, path) {
  const { source } = block;
  check(isObject(source), `${path}.source: Field required`);
  if (source.type === 'url') {
    check(typeof source.url === 'string' && /^https?:\/\//.test(source.url), `${path}.source.url: invalid URL`);
  } else if (source.type === 'base64') {
    const allowed = block.type === 'image' ? IMAGE_TYPES : ['application/pdf'];
    check(allowed.includes(source.media_type),
      `${path}.source.base64.media_type: Input should be ${allowed.map((t) => `'${t}'`).join(', ')}`);
    check(typeof source.data === 'string' && source.data !== '', `${path}.source.base64.data: Field required`);
  } else {
    check(block.type === 'document' && source.type === 'text', `${path}.source.type: unknown source type`);
  }
}

function checkBlock(block, role, path) {
  check(isObject(block) && typeof block.type === 'string', `${path}.type: Field required`);
  check(block.type in BLOCK_KEYS, `${path}.type: unknown content block type '${block.type}'`);
  check(BLOCKS_OF_ROLE[role].includes(block.type),
    `${path}: a '${block.type}' block cannot appear in a '${role}' message`);
  checkKeys(block, BLOCK_KEYS[block.type], path);
  switch (block.type) {
    case 'text': checkText(block.text, path); break;
    case 'image': case 'document': checkSource(block, path); break;
    case 'tool_use':
      check(typeof block.id === 'string' && TOOL_USE_ID.test(block.id),
        `${path}.id: String should match pattern '^[a-zA-Z0-9_-]+$'`);
      check(typeof block.name === 'string' && block.name !== '', `${path}.name: Field required`);
      check(isObject(block.input), `${path}.input: Input should be a valid dictionary`);
      break;
    case 'tool_result':
      check(typeof block.tool_use_id === 'string' && TOOL_USE_ID.test(block.tool_use_id),
        `${path}.tool_use_id: String should match pattern '^[a-zA-Z0-9_-]+$'`);
      if (Array.isArray(block.content)) {
        block.content.forEach((part, k) => {
          check(isObject(part) && ['text', 'image'].includes(part.type), `${path}.content.${k}: text or image`);
          checkBlock(part, 'user', `${path}.content.${k}`);
        });
      } else {
        check(block.content === undefined || typeof block.content === 'string', `${path}.content: string or list`);
      }
      check(block.is_error === undefined || typeof block.is_error === 'boolean', `${path}.is_error: boolean`);
      break;
    case 'thinking':
      check(typeof block.thinking === 'string' && typeof block.signature === 'string', `${path}: thinking, signature`);
      break;
    default:  // redacted_thinking
      check(typeof block.data === 'string', `${path}.data: Field required`);
  }
}

// The messages as turns with consecutive same-role messages merged (as the API does), each block
// with its path for error messages: [{ role, index, blocks: [{ block, path }] }].
function mergedTurns(messages) {
  const turns = [];
  messages.forEach((message, i) => {
    const path = `messages.${i}`;
    check(isObject(message), `${path}: Input should be a valid dictionary`);
    check(message.role !== 'system', 'messages: Unexpected role "system". The Messages API accepts a ' +
      'top-level `system` parameter, not "system" as an input message role.');
    check(message.role in BLOCKS_OF_ROLE, `${path}.role: Input should be 'user' or 'assistant'`);
    checkKeys(message, ['role', 'content'], path);
    const isFinalAssistant = i === messages.length - 1 && message.role === 'assistant';
    let blocks;
    if (typeof message.content === 'string') {
      check(message.content !== '' || isFinalAssistant,
        `${path}: all messages must have non-empty content except for the optional final assistant message`);
      blocks = message.content === '' ? [] : [{ block: { type: 'text', text: message.content }, path }];
    } else {
      check(Array.isArray(message.content), `${path}.content: Input should be a valid list`);
      check(message.content.length > 0 || isFinalAssistant,
        `${path}: all messages must have non-empty content except for the optional final assistant message`);
      blocks = message.content.map((block, j) => ({ block, path: `${path}.content.${j}` }));
    }
    for (const { block, path: blockPath } of blocks) checkBlock(block, message.role, blockPath);
    const last = turns.at(-1);
    if (last?.role === message.role) last.blocks.push(...blocks);
    else turns.push({ role: message.role, index: i, blocks });
  });
  return turns;
}

// Every tool_use is answered by a tool_result at the start of the next turn; every tool_result
// answers a tool_use of the previous turn.
function checkToolPairing(turns) {
  turns.forEach((turn, t) => {
    if (turn.role === 'assistant') {
      const ids = turn.blocks.filter(({ block }) => block.type === 'tool_use').map(({ block }) => block.id);
      if (ids.length === 0) return;
      const next = turns[t + 1]?.blocks ?? [];
      const leading = [];
      for (const { block } of next) {
        if (block.type !== 'tool_result') break;
        leading.push(block.tool_use_id);
      }
      const missing = ids.filter((id) => !leading.includes(id));
      check(missing.length === 0, `messages.${turn.index}: \`tool_use\` ids were found without \`tool_result\` ` +
        `blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding ` +
        '`tool_result` block in the next message.');
    } else {
      const previous = turns[t - 1]?.blocks ?? [];
      const ids = previous.filter(({ block }) => block.type === 'tool_use').map(({ block }) => block.id);
      for (const { block, path } of turn.blocks) {
        check(block.type !== 'tool_result' || ids.includes(block.tool_use_id),
          `${path}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${block.tool_use_id}. Each ` +
          '`tool_result` block must have a corresponding `tool_use` block in the previous message.');
      }
    }
  });
}

function checkSystem(system) {
  if (system === undefined || typeof system === 'string') return [];
  check(Array.isArray(system), 'system: Input should be a valid string or list');
  system.forEach((block, i) => {
    check(isObject(block) && block.type === 'text', `system.${i}.type: Input should be 'text'`);
    checkKeys(block, BLOCK_KEYS.text, `system.${i}`);
    checkText(block.text, `system.${i}`);
  });
  return system;
}

function checkTools(body) {
  const { tools, tool_choice: choice } = body;
  const names = [];
  if (tools !== undefined) {
    check(Array.isArray(tools), 'tools: Input should be a valid list');
    tools.forEach((tool, i) => {
      check(isObject(tool), `tools.${i}: Input should be a valid dictionary`);
      checkKeys(tool, TOOL_KEYS, `tools.${i}`);
      check(typeof tool.name === 'string' && TOOL_NAME.test(tool.name),
        `tools.${i}.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'`);
      check(isObject(tool.input_schema) && tool.input_schema.type === 'object',
        `tools.${i}.input_schema.type: Input should be 'object'`);
      check(tool.description === undefined || typeof tool.description === 'string', `tools.${i}.description: string`);
      check(!names.includes(tool.name), 'tools: Tool names must be unique.');
      names.push(tool.name);
    });
  }
  if (choice === undefined) return;
  check(tools !== undefined, 'tool_choice may only be specified while providing tools.');
  check(isObject(choice) && ['auto', 'any', 'tool', 'none'].includes(choice.type),
    "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'");
  checkKeys(choice, choice.type === 'tool' ? ['type', 'name', 'disable_parallel_tool_use']
    : choice.type === 'none' ? ['type'] : ['type', 'disable_parallel_tool_use'], 'tool_choice');
  check(choice.type !== 'tool' || names.includes(choice.name), `tool_choice.name: no tool named '${choice.name}'`);
  check(choice.disable_parallel_tool_use === undefined || typeof choice.disable_parallel_tool_use === 'boolean',
    'tool_choice.disable_parallel_tool_use: Input should be a valid boolean');
}

function checkSampling(body) {
  for (const field of ['temperature', 'top_p']) {
    const value = body[field];
    if (value === undefined) continue;
    check(typeof value === 'number', `${field}: Input should be a valid number`);
    check(value >= 0, `${field}: Input should be greater than or equal to 0`);
    check(value <= 1, `${field}: Input should be less than or equal to 1`);
  }
  check(body.top_k === undefined || (Number.isInteger(body.top_k) && body.top_k >= 0), 'top_k: integer >= 0');
  if (body.stop_sequences !== undefined) {
    check(Array.isArray(body.stop_sequences), 'stop_sequences: Input should be a valid list');
    for (const stop of body.stop_sequences) {
      check(typeof stop === 'string', 'stop_sequences: Input should be a valid string');
      check(stop !== '', 'stop_sequences: each stop sequence must be non-empty');
      check(!isBlank(stop), 'stop_sequences: each stop sequence must contain non-whitespace');
    }
  }
  check(body.stream === undefined || typeof body.stream === 'boolean', 'stream: Input should be a valid boolean');
}

function checkOptions(body) {
  const { metadata, thinking, output_config: output, service_tier: tier } = body;
  if (metadata !== undefined) {
    check(isObject(metadata), 'metadata: Input should be a valid dictionary');
    checkKeys(metadata, ['user_id'], 'metadata');
    check(metadata.user_id == null || typeof metadata.user_id === 'string', 'metadata.user_id: string');
  }
  if (thinking !== undefined) {
    check(isObject(thinking) && ['enabled', 'disabled', 'adaptive'].includes(thinking.type),
      "thinking.type: Input should be 'enabled', 'disabled' or 'adaptive'");
    if (thinking.type === 'enabled') {
      check(Number.isInteger(thinking.budget_tokens) && thinking.budget_tokens >= 1024,
        'thinking.enabled.budget_tokens: Input should be greater than or equal to 1024');
      check(thinking.budget_tokens < body.max_tokens, '`max_tokens` must be greater than `thinking.budget_tokens`.');
    }
    if (thinking.type !== 'disabled') {
      check(!['any', 'tool'].includes(body.tool_choice?.type),
        'Thinking may not be enabled when tool_choice forces tool use.');
      check(body.temperature === undefined || body.temperature === 1,
        '`temperature` may only be set to 1 when thinking is enabled.');
    }
  }
  if (output !== undefined) {
    check(isObject(output), 'output_config: Input should be a valid dictionary');
    checkKeys(output, ['effort', 'format'], 'output_config');
    check(output.effort === undefined || ['low', 'medium', 'high', 'xhigh', 'max'].includes(output.effort),
      "output_config.effort: Input should be 'low', 'medium', 'high', 'xhigh' or 'max'");
    check(output.format === undefined || (output.format.type === 'json_schema' && isObject(output.format.schema)),
      "output_config.format: Input should be {'type': 'json_schema', 'schema': {...}}");
  }
  check(tier === undefined || ['auto', 'standard_only'].includes(tier), "service_tier: 'auto' or 'standard_only'");
}

// Counts the blocks (system, messages, tools) that carry cache_control.
function countCacheControl(body, system) {
  const blocks = [...system, ...(body.tools ?? [])];
  for (const message of body.messages) if (Array.isArray(message.content)) blocks.push(...message.content);
  return blocks.filter((block) => block.cache_control !== undefined).length;
}

function finalAssistantText(turns) {
  const last = turns.at(-1);
  if (last.role !== 'assistant') return '';
  const textBlock = last.blocks.filter(({ block }) => block.type === 'text').at(-1);
  return textBlock?.block.text ?? '';
}

// Throws a Refusal for anything the API would refuse; returns nothing for a valid request.
function validateRequest(headers, body, apiKey = API_KEY) {
  if (!headers['x-api-key']) throw new Refusal(401, 'authentication_error', 'x-api-key header is required');
  if (headers['x-api-key'] !== apiKey) throw new Refusal(401, 'authentication_error', 'invalid x-api-key');
  check(headers['anthropic-version'] !== undefined, 'anthropic-version: header is required');
  check(API_VERSIONS.includes(headers['anthropic-version']),
    `anthropic-version: invalid version '${headers['anthropic-version']}'`);
  check(isObject(body), 'The request body is not valid JSON.');
  for (const field of Object.keys(body)) check(TOP_LEVEL_FIELDS.has(field), `${field}: Extra inputs are not permitted`);
  check(typeof body.model === 'string' && body.model !== '', 'model: Field required');
  check(body.max_tokens !== undefined, 'max_tokens: Field required');
  check(Number.isInteger(body.max_tokens) && body.max_tokens >= 0, 'max_tokens: Input should be a valid integer');
  check(body.messages !== undefined, 'messages: Field required');
  check(Array.isArray(body.messages), 'messages: Input should be a valid list');
  check(body.messages.length > 0, 'messages: at least one message is required');
  const turns = mergedTurns(body.messages);
  checkToolPairing(turns);
  const usesTools = turns.some((turn) =>
    turn.blocks.some(({ block }) => ['tool_use', 'tool_result'].includes(block.type)));
  check(!usesTools || body.tools !== undefined,
    'Requests which include `tool_use` or `tool_result` blocks must define tools.');
  check(!/\s$/.test(finalAssistantText(turns)), 'final assistant content cannot end with trailing whitespace');
  const system = checkSystem(body.system);
  checkTools(body);
  checkSampling(body);
  checkOptions(body);
  const cached = countCacheControl(body, system);
  check(cached <= 4, `A maximum of 4 blocks with cache_control may be provided. Found ${cached}.`);
}

// ---- Answers ----

const usage = (overrides = {}) => ({
  input_tokens: 25, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 12,
  service_tier: 'standard', ...overrides,
});

let messageCount = 0;
function message(content, { stopReason = 'end_turn', stopDetails = null, usageOverrides = {} } = {}) {
  messageCount++;
  return {
    id: `msg_01Mock${messageCount}`, type: 'message', role: 'assistant', model: ANSWER_MODEL, content,
    stop_reason: stopReason, stop_sequence: null, stop_details: stopDetails, usage: usage(usageOverrides),
  };
}

const text = (t) => ({ type: 'text', text: t });

export const WEATHER_CALL = {
  type: 'tool_use', id: 'toolu_01MockWeather', name: 'get_weather', input: { location: 'Boston, MA', unit: 'c' },
};
export const TIME_CALL = { type: 'tool_use', id: 'toolu_01MockTime', name: 'get_time', input: {} };
export const THINKING = 'Let me think this through step by step.';
const REFUSAL_DETAILS = { type: 'refusal', category: 'cyber', explanation: 'mock refusal' };

const apiError = (status, type, msg, headers = {}) => ({
  status, headers, contentType: 'application/json',
  body: JSON.stringify({ type: 'error', error: { type, message: msg }, request_id: 'req_01MockError' }),
});

const HTML_502 = '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway' +
  '</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n';

// What a valid request gets, by the name before ':' in its model; arg is what follows.
// { message } for an answer (whole or streamed), plus streamEnd ('error' or 'cut') after
// streamEndAfter events for a failing stream; or { status, headers, contentType, body }.
const answers = {
  text: () => ({ message: message([text(TEXT)]) }),
  tools: () => ({ message: message([text('Let me check.'), WEATHER_CALL, TIME_CALL], { stopReason: 'tool_use' }) }),
  thinking: () => ({
    message: message([
      { type: 'thinking', thinking: THINKING, signature: 'EqQBCgIYAhIMmockSignature' },
      { type: 'redacted_thinking', data: 'EmwKAhgBEgy3mockRedacted' },
      text('The answer is 42.'),
    ]),
  }),
  refusal: () => ({ message: message([], { stopReason: 'refusal', stopDetails: REFUSAL_DETAILS }) }),
  max_tokens: (body) => ({
    message: message([text('The first part of a long')], { stopReason: 'max_tokens',
      usageOverrides: { output_tokens: body.max_tokens } }),
  }),
  // A stream whose message_delta reports output tokens only, as the API did before 2025: the
  // input tokens are in message_start alone.
  'delta-output-only': () => ({ message: message([text(TEXT)]), deltaUsage: 'output' }),
  cached: () => ({
    message: message([text(TEXT)], {
      usageOverrides: {
        input_tokens: 10, cache_creation_input_tokens: 20, cache_read_input_tokens: 30, output_tokens: 5,
      },
    }),
  }),
  'echo-request': (body) => ({ message: message([text(JSON.stringify(body))]) }),
  // The first 6 events (message_start, a text block's start, ping, 3 text deltas), then an
  // overloaded_error event, or (cut) the end of the response without message_stop.
  'stream-error': () => ({ message: message([text(TEXT)]), streamEnd: 'error', streamEndAfter: 6 }),
  'stream-cut': () => ({ message: message([text(TEXT)]), streamEnd: 'cut', streamEndAfter: 6 }),
  error: (body, arg) => {
    if (arg === '400-too-long') {
      return apiError(400, 'invalid_request_error', 'prompt is too long: 215000 tokens > 200000 maximum');
    }
    const status = Number(arg);
    if (status === 529) return apiError(529, 'overloaded_error', 'Overloaded');
    if (status === 429) {
      return apiError(429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit',
        { 'retry-after': '17' });
    }
    return apiError(status, ERROR_TYPE_OF_STATUS[status] ?? 'api_error', `mock error ${status}`);
  },
  // A CDN's HTML page instead of the API's JSON.
  html: (body, arg) => ({ status: Number(arg), headers: {}, contentType: 'text/html', body: HTML_502 }),
};

// ---- Streams ----

// Pieces of a text as the API streams them: a word and the spaces after it at a time.
const words = (t) => t.match(/\s*\S+\s*/g) ?? [t];

// The partial_json fragments of a tool input: "" first, as the API sends it, then the JSON in
// pieces of a few characters (none for an empty input).
export function jsonFragments(input) {
  const json = JSON.stringify(input);
  if (json === '{}') return [''];
  const pieces = [''];
  for (let i = 0; i < json.length; i += 7) pieces.push(json.slice(i, i + 7));
  return pieces;
}

function blockStart(block) {
  switch (block.type) {
    case 'text': return text('');
    case 'tool_use': return { ...block, input: {} };
    case 'thinking': return { type: 'thinking', thinking: '', signature: '' };
    default: return block;  // redacted_thinking arrives whole
  }
}

function blockDeltas(block) {
  switch (block.type) {
    case 'text': return words(block.text).map((t) => ({ type: 'text_delta', text: t }));
    case 'tool_use': return jsonFragments(block.input).map((p) => ({ type: 'input_json_delta', partial_json: p }));
    case 'thinking': return [...words(block.thinking).map((t) => ({ type: 'thinking_delta', thinking: t })),
      { type: 'signature_delta', signature: block.signature }];
    default: return [];
  }
}

// The events of a whole message's stream, as [name, data]: message_start (empty content, first
// usage), per block start/deltas/stop, a ping after the first start, message_delta with the stop
// reason and the cumulative usage, message_stop.
function streamEvents(msg, { deltaUsage = 'all' } = {}) {
  const events = [['message_start', {
    type: 'message_start',
    message: { ...msg, content: [], stop_reason: null, stop_sequence: null, stop_details: null,
      usage: { ...msg.usage, output_tokens: 1 } },
  }]];
  if (msg.content.length === 0) events.push(['ping', { type: 'ping' }]);
  msg.content.forEach((block, index) => {
    events.push(['content_block_start', { type: 'content_block_start', index, content_block: blockStart(block) }]);
    if (index === 0) events.push(['ping', { type: 'ping' }]);
    for (const delta of blockDeltas(block)) {
      events.push(['content_block_delta', { type: 'content_block_delta', index, delta }]);
    }
    events.push(['content_block_stop', { type: 'content_block_stop', index }]);
  });
  const delta = { stop_reason: msg.stop_reason, stop_sequence: msg.stop_sequence };
  if (msg.stop_details) delta.stop_details = msg.stop_details;
  const usage = deltaUsage === 'output' ? { output_tokens: msg.usage.output_tokens } : msg.usage;
  events.push(['message_delta', { type: 'message_delta', delta, usage }]);
  events.push(['message_stop', { type: 'message_stop' }]);
  return events;
}

export const OVERLOADED_EVENT = {
  type: 'error', error: { details: null, type: 'overloaded_error', message: 'Overloaded' },
};

const frame = ([name, data]) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

async function writeStream(res, plan, splitBytes) {
  let events = streamEvents(plan.message, { deltaUsage: plan.deltaUsage });
  if (plan.streamEnd) {
    events = events.slice(0, plan.streamEndAfter);
    if (plan.streamEnd === 'error') events.push(['error', OVERLOADED_EVENT]);
  }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache',
    'request-id': 'req_01MockStream' });
  res.flushHeaders();
  for (const event of events) {
    if (res.destroyed) return;
    if (!splitBytes) {
      res.write(frame(event));
      continue;
    }
    const bytes = Buffer.from(frame(event));
    for (let i = 0; i < bytes.length && !res.destroyed; i++) {
      await new Promise((resolve) => res.write(bytes.subarray(i, i + 1), resolve));
    }
  }
  res.end();
}

function sendJson(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': 'req_01MockRequest', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function sendRefusal(res, refusal) {
  sendJson(res, refusal.status, {
    type: 'error', error: { type: refusal.type, message: refusal.message }, request_id: 'req_01MockRefused',
  });
}

// Reads a request body, refusing one larger than the API accepts.
async function readBody(req) {
  const pieces = [];
  let size = 0;
  for await (const piece of req) {
    size += piece.length;
    if (size > MAX_BODY_BYTES) throw new Refusal(413, 'request_too_large', 'Request exceeds the maximum allowed size');
    pieces.push(piece);
  }
  return Buffer.concat(pieces).toString('utf8');
}

async function answer(req, res, record, { basePath, apiKey }) {
  const [path] = req.url.split('?');
  const splitBytes = path.startsWith(SPLIT_PREFIX);
  if (req.method !== 'POST' || (splitBytes ? path.slice(SPLIT_PREFIX.length) : path) !== `${basePath}/messages`) {
    throw new Refusal(404, 'not_found_error', `Not found: ${req.method} ${path}`);
  }
  record.body = await readBody(req);
  try { record.json = JSON.parse(record.body); } catch { /* refused below as not an object */ }
  validateRequest(req.headers, record.json, apiKey);
  const [name, arg] = record.json.model.split(':');
  if (!(name in answers)) throw new Refusal(404, 'not_found_error', `model: ${record.json.model}`);
  const plan = answers[name](record.json, arg);
  check(!plan.streamEnd || record.json.stream, `mock: model ${record.json.model} needs "stream": true`);
  record.status = plan.status ?? 200;
  record.answer = plan.message ?? null;
  if (plan.body !== undefined) {
    res.writeHead(plan.status, { 'content-type': plan.contentType, 'request-id': 'req_01MockError', ...plan.headers });
    res.end(plan.body);
  } else if (record.json.stream) {
    await writeStream(res, plan, splitBytes);
  } else {
    sendJson(res, 200, plan.message);
  }
}

export async function startAnthropicMock({ basePath = '/v1', apiKey = API_KEY } = {}) {
  const mock = { requests: [] };
  const server = http.createServer(async (req, res) => {
    const record = { method: req.method, url: req.url, headers: req.headers, body: '', json: null, status: null,
      answer: null };
    mock.requests.push(record);
    try {
      await answer(req, res, record, { basePath, apiKey });
    } catch (e) {
      // A fault of the mock itself is a 500 api_error naming it, so that the test sees it.
      const refusal = e instanceof Refusal ? e : new Refusal(500, 'api_error', `mock failure: ${e.stack}`);
      record.status = refusal.status;
      if (!res.headersSent) sendRefusal(res, refusal);
      else res.destroy();
    }
  });
  // Node closes an idle kept-alive connection after 5 s; a client that reuses it at that moment
  // gets "fetch failed" (seen once under heavy load). Tests never idle that long on purpose.
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  mock.port = server.address().port;
  mock.url = `http://127.0.0.1:${mock.port}${basePath}`;
  mock.splitUrl = `http://127.0.0.1:${mock.port}${SPLIT_PREFIX}${basePath}`;
  mock.close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return mock;
}
