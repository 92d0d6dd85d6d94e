// The processor pipeline through the real host: each bundled processor streaming and not, a
// processor that rejects, one that answers by itself, the order of hooks, the openai_chat
// enhancement against the mock upstream, and the original README's example configuration.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startMock } from './lib/mock_upstream.mjs';
import { FIXTURE_PLUGIN_DIR, chatBody, post, readEvents, startProxy } from './lib/proxy.mjs';

const REPO = path.resolve(import.meta.dirname, '../..');
const message = (content, role = 'user') => ({ role, content });
const body = (model, messages, extra = {}) => JSON.stringify({ model, messages, ...extra });

describe('bundled processors', () => {
  let mock;
  let proxy;
  const route = (prefix, processors) => `
[[route]]
path_prefix = "${prefix}"
target_llm = "mock"
processors = [${processors.map((p) => `"${p}"`).join(', ')}]
`;

  before(async () => {
    mock = await startMock();
    proxy = await startProxy(`
[server]
port = 0

[plugins]
dirs = ["${FIXTURE_PLUGIN_DIR}"]

[llm.mock]
provider = "openai"
base_url = "${mock.url}"
read_timeout_ms = 5000

[llm.dead]
provider = "openai"
base_url = "http://127.0.0.1:9/v1"
connect_timeout_ms = 1000

[processor.prompt_a]
type = "system_prompt"
config_value = "A"
additional_config = { mode = "prepend" }

[processor.prompt_b]
type = "system_prompt"
config_value = "B"
additional_config = { mode = "prepend" }

[processor.params]
type = "params"
additional_config = { aliases = { fast = "inspect" }, allowed_models = ["inspect", "stream:2", "json"], defaults = { temperature = 0.3 }, limits = { max_tokens = 100 } }

[processor.guard]
type = "guard"
additional_config = { patterns = ["api_key"], custom = ["(?i)forbidden"], status = 403, message = "not on this route" }

[processor.redact]
type = "redact"
additional_config = { patterns = ["email"], custom = ["w[0-9]"], answers = true }

[processor.foo_to_bar]
type = "redact"
additional_config = { patterns = [], custom = ["w0"], mask = "bar", answers = true }

[processor.bar_to_baz]
type = "redact"
additional_config = { patterns = [], custom = ["bar"], mask = "baz", answers = true }

[processor.enhance]
type = "openai_chat"
config_value = "json"
additional_config = { system_prompt = "Enhance this query" }

[processor.enhance_dead]
type = "openai_chat"
config_value = "json"
additional_config = { llm = "dead" }

[processor.enhance_dead_lenient]
type = "openai_chat"
config_value = "json"
additional_config = { llm = "dead", on_error = "pass" }

[processor.canned]
type = "canned"
config_value = "write to me at someone@example.com"

[processor.canned_cr]
type = "canned"
config_value = "one\\rid: 666\\revent: evil\\r\\ntwo"

[processor.editor]
type = "event_editor"

[processor.log]
type = "logger"
config_value = "info"
additional_config = { headers = true, max_content_chars = 12 }
${route('/prompts/v1/chat/completions', ['prompt_a', 'prompt_b'])}
${route('/params/v1/chat/completions', ['params'])}
${route('/guard/v1/chat/completions', ['guard'])}
${route('/redact/v1/chat/completions', ['redact'])}
${route('/order/v1/chat/completions', ['foo_to_bar', 'bar_to_baz'])}
${route('/enhance/v1/chat/completions', ['enhance'])}
${route('/enhance-dead/v1/chat/completions', ['enhance_dead'])}
${route('/enhance-lenient/v1/chat/completions', ['enhance_dead_lenient'])}
${route('/canned/v1/chat/completions', ['redact', 'canned', 'guard'])}
${route('/logged/v1/chat/completions', ['log'])}
${route('/canned-cr/v1/chat/completions', ['canned_cr'])}
${route('/edited/v1/chat/completions', ['editor'])}
${route('/canned-edited/v1/chat/completions', ['editor', 'canned'])}
`);
  });
  after(async () => {
    await proxy?.stop();
    await mock?.close();
  });

  const call = (prefix, payload, headers) => post(`${proxy.url}${prefix}/v1/chat/completions`, payload, headers);

  test('request hooks run in route order: the later prepend ends up first', async () => {
    const res = await call('/prompts', body('inspect', [message('hi')]));
    assert.equal(res.status, 200);
    assert.deepEqual(mock.requests.at(-1).json.messages,
      [message('B', 'system'), message('A', 'system'), message('hi')]);
  });

  test('answer hooks run in reverse order, streamed answers included', async () => {
    let res = await call('/order', body('stream:1', [message('hi')], { stream: true }));
    const events = await readEvents(res);
    // foo_to_bar runs last on the way back: "w0" became "bar" and was not turned into "baz".
    assert.equal(JSON.parse(events[0]).choices[0].delta.content, 'bar ');
    res = await call('/order', body('json', [message('w0')]));
    assert.equal(mock.requests.at(-1).json.messages[0].content, 'baz', 'requests go in route order');
    // A whole answer "w0": bar_to_baz finds nothing, then foo_to_bar makes it "bar".
    res = await call('/order', body('say:w0', [message('hi')]));
    assert.equal((await res.json()).choices[0].message.content, 'bar', 'whole answers go in reverse order');
  });

  test('params renames models, sets defaults, caps limits and refuses other models', async () => {
    let res = await call('/params', body('fast', [message('hi')], { max_tokens: 5000 }));
    assert.equal(res.status, 200);
    const seen = mock.requests.at(-1).json;
    assert.equal(seen.model, 'inspect');
    assert.equal(seen.temperature, 0.3);
    assert.equal(seen.max_tokens, 100);
    res = await call('/params', body('gpt-5', [message('hi')]));
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, 'model_not_allowed');
    res = await call('/params', body('stream:2', [message('hi')], { stream: true }));
    assert.equal((await readEvents(res)).at(-1), '[DONE]');
  });

  test('guard rejects with its status and message, streaming or not, before any upstream call', async () => {
    const before = mock.requests.length;
    for (const stream of [false, true]) {
      const res = await call('/guard', body('json', [message('this is Forbidden')], { stream }));
      assert.equal(res.status, 403);
      assert.deepEqual((await res.json()).error, { message: 'not on this route', type: 'invalid_request_error', code: 'content_blocked' });
    }
    assert.equal(mock.requests.length, before);
    const res = await call('/guard', body('json', [message('fine')]));
    assert.equal(res.status, 200);
  });

  test('redact masks requests before they leave and answers on the way back', async () => {
    let res = await call('/redact', body('inspect', [message('mail me: jo@example.com')]));
    assert.equal(res.status, 200);
    assert.equal(mock.requests.at(-1).json.messages[0].content, 'mail me: [REDACTED]');
    res = await call('/redact', body('stream:3', [message('hi')], { stream: true }));
    const contents = (await readEvents(res)).slice(0, 3).map((e) => JSON.parse(e).choices[0].delta.content);
    assert.deepEqual(contents, ['[REDACTED] ', '[REDACTED] ', '[REDACTED] ']);
  });

  test('a processor can answer by itself; earlier processors still see its answer', async () => {
    const before = mock.requests.length;
    let res = await call('/canned', body('any', [message('hi')]));
    assert.equal(res.status, 200);
    assert.equal((await res.json()).choices[0].message.content, 'write to me at [REDACTED]');
    res = await call('/canned', body('any', [message('hi')], { stream: true }));
    const events = await readEvents(res);
    assert.equal(JSON.parse(events[0]).choices[0].delta.content, 'write to me at [REDACTED]');
    assert.deepEqual(events.filter((e) => e === '[DONE]'), ['[DONE]'], 'one end marker, the last');
    assert.equal(events.at(-1), '[DONE]');
    assert.equal(mock.requests.length, before, 'no upstream call');
  });

  test('stream hooks edit the current event in place by field, and never see [DONE]', async () => {
    // From an upstream stream (whose [DONE] the provider passes on), and from a processor built
    // for ABI 1.0 that writes [DONE] itself: the editor is never shown one, the client gets one.
    for (const [prefix, model, contents] of [
      ['/edited', 'stream:2', ['[w0 ]', '[w1 ]']],
      ['/canned-edited', 'any', ['[write to me at someone@example.com]']],
    ]) {
      const res = await call(prefix, body(model, [message('hi')], { stream: true }));
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.doesNotMatch(text, /saw_done|error/, text);
      const events = text.split('\n\n').filter(Boolean).map((e) => e.slice('data: '.length));
      const deltas = events.slice(0, -1).map((e) => JSON.parse(e).choices[0].delta.content).filter(Boolean);
      assert.deepEqual(deltas, contents, prefix);
      assert.deepEqual(events.filter((e) => e === '[DONE]'), ['[DONE]'], prefix);
      assert.equal(events.at(-1), '[DONE]', prefix);
    }
  });

  test('an emitted event with CR or CRLF inside its data stays one event of data lines', async () => {
    const res = await call('/canned-cr', body('any', [message('hi')], { stream: true }));
    const text = await res.text();
    const lines = text.split(/\r\n|\r|\n/);
    assert.deepEqual(lines.filter((l) => l !== '' && !l.startsWith('data: ')), [], text);
    assert.ok(text.startsWith('data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"one\ndata: id: 666\ndata: event: evil\ndata: two"}}]}\n\n'), text);
  });

  test('openai_chat rewrites the last user message through a side call, and the upstream gets it', async () => {
    const first = mock.requests.length;
    const res = await call('/enhance', body('inspect', [message('be nice', 'system'), message('weather tomorrow?')]));
    assert.equal(res.status, 200);
    const [side, main] = mock.requests.slice(first);
    assert.deepEqual(side.json, { model: 'json', messages: [message('Enhance this query', 'system'), message('weather tomorrow?')] });
    assert.deepEqual(main.json.messages, [message('be nice', 'system'), message('mock says hi')]);
    assert.equal(main.json.model, 'inspect');
  });

  test('openai_chat failing gives 502 naming the processor, or passes when on_error = "pass"', async () => {
    let res = await call('/enhance-dead', body('inspect', [message('q')]));
    assert.equal(res.status, 502);
    assert.match((await res.json()).error.message, /processor 'enhance_dead' \(openai_chat\) could not enhance the query: the call to \[llm\.dead\] failed/);
    res = await call('/enhance-lenient', body('inspect', [message('q')]));
    assert.equal(res.status, 200);
    assert.equal(mock.requests.at(-1).json.messages[0].content, 'q');
  });

  test('logger logs the request with credentials masked and contents cut, then the outcome with usage', async () => {
    await call('/logged', body('json', [message('a long message that goes on and on, key sk-abcdefghijklmnopqrstu')]),
      {
        authorization: 'Bearer sk-secret-client-key-123',
        // Keys that look like no known key format are masked by their header's name alone.
        'x-api-key': 'f3a9c2e1d4b5a6978877',
        'api-key': 'azurekey0042plain',
        'proxy-authorization': 'Basic dXNlcjpwYXNz',
        cookie: 'session=cookie0042',
      });
    const line = (await proxy.waitForLog(/\[log\] request route=\/logged[^\n]*/))[0];
    for (const header of ['authorization', 'x-api-key', 'api-key', 'proxy-authorization', 'cookie']) {
      assert.match(line, new RegExp(`header\\.${header}=\\[REDACTED\\]`), header);
    }
    for (const secret of ['f3a9c2e1d4b5a6978877', 'azurekey0042plain', 'dXNlcjpwYXNz', 'cookie0042']) {
      assert.doesNotMatch(proxy.logs(), new RegExp(secret));
    }
    assert.match(line, /message\[0\]\.user="a long messa\.\.\. \(\d+ chars\)"/);
    assert.doesNotMatch(proxy.logs(), /sk-secret-client-key-123/);
    await proxy.waitForLog(/\[log\] finished status=200 upstream_status=200 streamed=false client_gone=false duration_ms=[\d.]+ prompt_tokens=3 completion_tokens=2/);
  });
});

describe('the original README example configuration', () => {
  let mock;
  let proxy;
  before(async () => {
    mock = await startMock();
    const text = fs.readFileSync(path.join(REPO, 'tests/fixtures/configs/original_readme.toml'), 'utf8')
      .replaceAll('https://api.openai.com/v1', mock.url)
      .replace(/^port = \d+$/m, 'port = 0');
    proxy = await startProxy(text, { env: { OPENAI_API_KEY: 'sk-readme-example' } });
  });
  after(async () => {
    await proxy?.stop();
    await mock?.close();
  });

  test('the enhance_query route rewrites the query with gpt-4 before the request goes upstream', async () => {
    const first = mock.requests.length;
    const res = await post(`${proxy.url}/v1/chat/completions`, chatBody('inspect'));
    assert.equal(res.status, 200);
    const [side, main] = mock.requests.slice(first);
    assert.equal(side.json.model, 'gpt-4');
    assert.deepEqual(side.json.messages[0], message('Enhance this query', 'system'));
    assert.equal(side.headers.authorization, 'Bearer sk-readme-example');
    assert.equal(main.json.messages.at(-1).content, 'mock says hi');
  });

  test('the enhance_query route streams too', async () => {
    const res = await post(`${proxy.url}/v1/chat/completions`, chatBody('stream:2', { stream: true }));
    assert.equal((await readEvents(res)).at(-1), '[DONE]');
  });

  test('the log_request route logs the request and its outcome', async () => {
    const res = await post(`${proxy.url}/v1/logged/chat/completions`, chatBody('json'));
    assert.equal(res.status, 200);
    await proxy.waitForLog(/\[log_request\] request route=\/v1\/logged\/chat\/completions model=json/);
    await proxy.waitForLog(/\[log_request\] finished status=200/);
  });
});
