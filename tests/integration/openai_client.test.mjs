// The official openai npm client, pointed at llm-proxy, completes chats whole and streamed:
// through to a mock OpenAI upstream, and against the local echo provider.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import OpenAI from 'openai';

import { startMock } from './lib/mock_upstream.mjs';
import { startProxy, upstreamConfig } from './lib/proxy.mjs';

let mock;
let proxy;

before(async () => {
  mock = await startMock();
  proxy = await startProxy(upstreamConfig(mock.url, {
    llm: 'token_env = "MOCK_KEY"',
    extra: `
[llm.echo]
provider = "echo"

[[route]]
path_prefix = "/echo/v1/chat/completions"
target_llm = "echo"
`,
  }), { env: { MOCK_KEY: 'sk-mock' } });
});

after(async () => {
  await proxy?.stop();
  await mock?.close();
});

const client = (prefix = '/v1') => new OpenAI({ baseURL: `${proxy.url}${prefix}`, apiKey: 'client-key', maxRetries: 0 });

test('openai: a non-streaming chat completion through the proxy', async () => {
  const completion = await client().chat.completions.create({
    model: 'json', messages: [{ role: 'user', content: 'hi' }],
  });
  assert.equal(completion.choices[0].message.content, 'mock says hi');
  assert.equal(mock.requests.at(-1).headers.authorization, 'Bearer sk-mock');
});

test('openai: a streaming chat completion through the proxy', async () => {
  const stream = await client().chat.completions.create({
    model: 'stream:4', stream: true, messages: [{ role: 'user', content: 'hi' }],
  });
  let text = '';
  let finish = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(text, 'w0 w1 w2 w3 ');
  assert.equal(finish, 'stop');
});

test('openai: embeddings through the proxy', async () => {
  const result = await client().embeddings.create({ model: 'embed', input: 'text' });
  assert.deepEqual(result.data[0].embedding, [0.5, 0.25]);
});

test('openai: an upstream 429 surfaces as the client library\'s RateLimitError', async () => {
  await assert.rejects(
    client().chat.completions.create({ model: 'error:429', messages: [{ role: 'user', content: 'hi' }] }),
    (e) => e instanceof OpenAI.RateLimitError && e.status === 429 && /mock upstream error 429/.test(e.message));
});

test('openai: a stream cut by the upstream surfaces as an error in the client', async () => {
  const stream = await client().chat.completions.create({
    model: 'cut-stream', stream: true, messages: [{ role: 'user', content: 'hi' }],
  });
  await assert.rejects(async () => {
    for await (const chunk of stream) void chunk;
  }, /ended without data: \[DONE\]/);
});

test('openai: the echo provider, whole and streamed', async () => {
  const whole = await client('/echo/v1').chat.completions.create({
    model: 'echo', messages: [{ role: 'user', content: 'ping pong' }],
  });
  assert.equal(whole.choices[0].message.content, 'ping pong');
  const stream = await client('/echo/v1').chat.completions.create({
    model: 'echo', stream: true, messages: [{ role: 'user', content: 'ping pong' }],
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  assert.equal(text, 'ping pong');
});
