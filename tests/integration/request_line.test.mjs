// A provider's method and path never break the upstream request line: a provider that puts the
// client's model name into the path unencoded (tests/fixtures/plugins/model_in_path.c) must not
// let a client write headers or a request of its own to the upstream.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startMock } from './lib/mock_upstream.mjs';
import { FIXTURE_PLUGIN_DIR, post, startProxy } from './lib/proxy.mjs';

let mock;
let proxy;
let url;

before(async () => {
  mock = await startMock();
  proxy = await startProxy(`
[server]
port = 0

[plugins]
dirs = ["${FIXTURE_PLUGIN_DIR}"]

[llm.careless]
provider = "model_in_path"
base_url = "${mock.url}"
read_timeout_ms = 5000

[[route]]
path_prefix = "/v1/chat/completions"
target_llm = "careless"
`);
  url = `${proxy.url}/v1/chat/completions`;
});

after(async () => {
  await proxy?.stop();
  await mock?.close();
});

const ask = (model, headers = {}) =>
  post(url, JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }), headers);

test('a path and method a provider may legitimately build go upstream as they are', async () => {
  const res = await ask('inspect', { 'x-upstream-method': 'PUT' });
  assert.equal(res.status, 200);
  const seen = mock.requests.at(-1);
  assert.equal(seen.url, '/v1/models/inspect:generateContent');
  assert.equal(seen.method, 'PUT');
  // Everything RFC 3986 allows in a path and a query, escapes included.
  const legit = "inspect-1.5_x~!$&'()*+,;=@%2F?alt=sse&key=a/b?c";
  assert.equal((await ask(legit)).status, 200);
  assert.equal(mock.requests.at(-1).url, `/v1/models/${legit}:generateContent`);
});

test('values that cannot go on a request line fail the request, naming the plugin; nothing goes upstream', async () => {
  const cases = [
    // [model, what the error message shows of the path, why]
    ['json HTTP/1.1\r\nHost: evil\r\n\r\nGET /admin', '/models/json HTTP/1.1\\x0d\\x0aHost: evil', 'the byte 0x20 at offset 12'],
    ['json\nX-Injected: 1', '/models/json\\x0aX-Injected: 1:generateContent', 'the byte 0x0a at offset 12'],
    ['json\r', '/models/json\\x0d:generateContent', 'the byte 0x0d at offset 12'],
    ['json\u0000', '/models/json\\x00:generateContent', 'the byte 0x00 at offset 12'],
    ['json\u007f', '/models/json\\x7f:generateContent', 'the byte 0x7f at offset 12'],
    ['jsön', '/models/js\\xc3\\xb6n:generateContent', 'the byte 0xc3 at offset 10'],
    ['json#frag', '/models/json#frag:generateContent', 'the byte 0x23 at offset 12'],
    ['json%zz', '/models/json%zz:generateContent', "a '%' at offset 12 that does not start an escape"],
    ['json"<x>', '/models/json\\"<x>:generateContent', 'the byte 0x22 at offset 12'],
    ['../../admin', '/models/../../admin:generateContent', 'a ".." segment'],
    ['x/%2e%2E/admin', '/models/x/%2e%2E/admin:generateContent', 'a "%2e%2E" segment'],
  ];
  const before = mock.requests.length;
  for (const [model, shown, why] of cases) {
    const res = await ask(model);
    assert.equal(res.status, 500, JSON.stringify(model));
    const body = await res.json();
    assert.equal(body.error.type, 'server_error');
    assert.ok(body.error.message.startsWith(
      `provider 'model_in_path' encode_request set the upstream path "${shown}`), body.error.message);
    assert.match(body.error.message, /which cannot go on a request line: it /);
    assert.ok(body.error.message.includes(why), `${body.error.message} should say ${why}`);
  }
  const res = await ask('json', { 'x-upstream-method': 'GET /admin' });
  assert.equal(res.status, 500);
  assert.equal((await res.json()).error.message,
    'provider \'model_in_path\' encode_request set the upstream method "GET /admin", which cannot go on a request line: it contains the byte 0x20 at offset 3, which an HTTP method (a token) cannot');
  assert.equal(mock.requests.length, before, 'nothing reached the upstream');
  await proxy.waitForLog(/error request_id=[0-9a-f]{32} provider 'model_in_path' encode_request set the upstream path "\/models\/json\\x0aX-Injected: 1:generateContent", which cannot go on a request line: .*; the request fails/);
});
