// A mock OpenAI chat completions upstream on 127.0.0.1 whose answers carry tool calls, whole and
// streamed, in the shape OpenAI sends them: to judge a translation of OpenAI answers into another
// API's (the anthropic client API of routes with api = "anthropic"). lib/mock_upstream.mjs serves
// text, errors, holds and cuts; this one serves what it lacks.
//
// What a request gets is chosen by its "model":
//   tools         content TEXT_BEFORE_TOOLS and two tool calls, finish_reason "tool_calls": the
//                 first to the request's first tool (default get_weather) with arguments
//                 WEATHER_ARGUMENTS, id WEATHER_CALL_ID; the second to its second tool (default
//                 get_time) with no argument bytes at all, and an id of another vendor's form
//                 (TIME_CALL_ID, characters Anthropic does not allow in tool_use ids).
//   stream-error  (streamed only) a role chunk, a content chunk, then a chunk holding an error
//                 object ({"error":{...}} as OpenAI-compatible servers send mid-stream), then the
//                 end of the response
//   anything else content ANSWER_TEXT, finish_reason "stop"
// Every answer has USAGE. Streamed ("stream": true): a role chunk, the content in word pieces, per
// tool call a chunk with index, id, type and name (arguments "") then the arguments in pieces of
// ARGUMENT_PIECE characters, a finish chunk with delta {}, a usage chunk with "choices": [] when
// stream_options.include_usage is set, then data: [DONE].
//
// mock.requests records every request: { method, url, headers, body, json }.
import http from 'node:http';

export const TEXT_BEFORE_TOOLS = 'Let me check.';
export const ANSWER_TEXT = 'It is 12 C in Boston, at 10:00.';
export const WEATHER_CALL_ID = 'call_weather_1';
export const TIME_CALL_ID = 'functions.get_time:1';
export const WEATHER_ARGUMENTS = { location: 'Boston, MA', unit: 'c' };
export const STREAM_ERROR_MESSAGE = 'the model crashed mid-answer';
export const USAGE = { prompt_tokens: 40, completion_tokens: 18, total_tokens: 58,
  prompt_tokens_details: { cached_tokens: 8 } };
export const ARGUMENT_PIECE = 5;

const ID = 'chatcmpl-tools';
const CREATED = 1700000000;

// The tool calls of a `tools` answer, for the request's tools (their names as the mock got them).
function toolCalls(request) {
  const names = (request.tools ?? []).map((tool) => tool.function?.name);
  return [
    { id: WEATHER_CALL_ID, type: 'function',
      function: { name: names[0] ?? 'get_weather', arguments: JSON.stringify(WEATHER_ARGUMENTS) } },
    { id: TIME_CALL_ID, type: 'function', function: { name: names[1] ?? 'get_time', arguments: '' } },
  ];
}

function completion(request) {
  const tools = request.model === 'tools';
  const message = { role: 'assistant', content: tools ? TEXT_BEFORE_TOOLS : ANSWER_TEXT };
  if (tools) message.tool_calls = toolCalls(request);
  return {
    id: ID, object: 'chat.completion', created: CREATED, model: request.model,
    choices: [{ index: 0, message, finish_reason: tools ? 'tool_calls' : 'stop' }],
    usage: USAGE,
  };
}

const chunk = (request, delta, finishReason = null) => ({
  id: ID, object: 'chat.completion.chunk', created: CREATED, model: request.model,
  choices: [{ index: 0, delta, finish_reason: finishReason }],
});

const words = (text) => text.match(/\S+\s*/g) ?? [];

// The data of each event of a streamed answer, [DONE] included.
function streamData(request) {
  const events = [chunk(request, { role: 'assistant', content: '' })];
  if (request.model === 'stream-error') {
    events.push(chunk(request, { content: 'Partial ' }),
      { error: { message: STREAM_ERROR_MESSAGE, type: 'server_error', code: null } });
    return events;
  }
  const answer = completion(request).choices[0];
  for (const piece of words(answer.message.content)) events.push(chunk(request, { content: piece }));
  (answer.message.tool_calls ?? []).forEach((call, index) => {
    const { id, type, function: { name, arguments: args } } = call;
    events.push(chunk(request, { tool_calls: [{ index, id, type, function: { name, arguments: '' } }] }));
    for (let i = 0; i < args.length; i += ARGUMENT_PIECE) {
      const piece = args.slice(i, i + ARGUMENT_PIECE);
      events.push(chunk(request, { tool_calls: [{ index, function: { arguments: piece } }] }));
    }
  });
  events.push(chunk(request, {}, answer.finish_reason));
  if (request.stream_options?.include_usage) {
    events.push({ id: ID, object: 'chat.completion.chunk', created: CREATED, model: request.model, choices: [],
      usage: USAGE });
  }
  events.push('[DONE]');
  return events;
}

export async function startOpenAiToolMock() {
  const mock = { requests: [] };
  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const piece of req) body += piece;
    let json = null;
    try { json = JSON.parse(body); } catch { /* recorded as text; answered 400 below */ }
    mock.requests.push({ method: req.method, url: req.url, headers: req.headers, body, json });
    if (json === null || typeof json.model !== 'string') {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'mock: not a chat request', type: 'invalid_request_error' } }));
    } else if (json.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const data of streamData(json)) {
        res.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
      }
      res.end();
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(completion(json)));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  mock.url = `http://127.0.0.1:${server.address().port}/v1`;
  mock.close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return mock;
}
