// The example plugins under examples/, built against the installed SDK alone (ctest's
// sdk.build_examples), loaded by the installed llm-proxy: a C processor, a C provider and a
// Rust processor.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startMock } from './lib/mock_upstream.mjs';
import { chatBody, post, readEvents, runProxy, startProxy, writeConfig } from './lib/proxy.mjs';

const INSTALLED = process.env.INSTALLED_LLM_PROXY_BIN;
const EXAMPLES = process.env.EXAMPLE_PLUGIN_DIR;

let mock;
let proxy;

const config = (baseUrl) => `
[server]
port = 0

[plugins]
dirs = ["${EXAMPLES}"]

[llm.local]
provider = "simple_openai"
base_url = "${baseUrl}"
token_env = "EXAMPLE_KEY"

[processor.tag]
type = "tag_user"
config_value = "team-42"

[processor.loud]
type = "shout"
config_value = "!"

[[route]]
path_prefix = "/v1/chat/completions"
target_llm = "local"
processors = ["tag"]

[[route]]
path_prefix = "/loud/v1/chat/completions"
target_llm = "local"
processors = ["loud", "tag"]
`;

before(async () => {
  assert.ok(INSTALLED && EXAMPLES, 'run through ctest, which installs the SDK and builds the examples');
  mock = await startMock();
  proxy = await startProxy(config(mock.url), { bin: INSTALLED, env: { EXAMPLE_KEY: 'sk-example' } });
});

after(async () => {
  await proxy?.stop();
  await mock?.close();
});

test('the installed llm-proxy loads its bundled plugins and the example plugins', async () => {
  const health = await (await fetch(`${proxy.url}/healthz`)).json();
  const ids = health.plugins.map((p) => p.id).sort();
  assert.deepEqual(ids, ['org.example.shout', 'org.example.simple-openai', 'org.example.tag-user',
    'org.llm-proxy.anthropic', 'org.llm-proxy.echo', 'org.llm-proxy.openai',
    'org.llm-proxy.processors']);
});

test('the C provider and the C processor serve a whole answer', async () => {
  const res = await post(`${proxy.url}/v1/chat/completions`, chatBody('inspect'));
  assert.equal(res.status, 200);
  const seen = mock.requests.at(-1);
  assert.equal(seen.url, '/v1/chat/completions');
  assert.equal(seen.headers.authorization, 'Bearer sk-example');
  assert.equal(seen.json.user, 'team-42', 'the C processor set the user field');
  await post(`${proxy.url}/v1/chat/completions`, chatBody('inspect', { user: 'mine' }));
  assert.equal(mock.requests.at(-1).json.user, 'mine', 'an existing user field is kept');
});

test('the C provider relays a stream', async () => {
  const res = await post(`${proxy.url}/v1/chat/completions`, chatBody('stream:3', { stream: true }));
  const events = await readEvents(res);
  assert.equal(events.length, 5);
  assert.equal(events.at(-1), '[DONE]');
});

test('the Rust processor changes stream events', async () => {
  const res = await post(`${proxy.url}/loud/v1/chat/completions`, chatBody('stream:2', { stream: true }));
  const events = await readEvents(res);
  assert.deepEqual(events.slice(0, 2).map((e) => JSON.parse(e).choices[0].delta.content), ['W0 !', 'W1 !']);
  assert.equal(events.at(-1), '[DONE]');
  assert.equal(mock.requests.at(-1).json.user, 'team-42');
});

test('the C plugins check their settings', () => {
  const file = writeConfig(`
[plugins]
dirs = ["${EXAMPLES}"]

[llm.local]
provider = "simple_openai"
base_url = "http://127.0.0.1:9/v1"
options = { region = "eu" }

[processor.tag]
type = "tag_user"

[[route]]
path_prefix = "/v1"
target_llm = "local"
processors = ["tag"]
`);
  const r = runProxy(['--config', file, '--check']);
  assert.equal(r.status, 1);
  // At the line of the key the plugin's message names.
  assert.match(r.stderr, /:8: 'llm\.local\.options': provider 'simple_openai' refused these settings: options may only hold path = "\/\.\.\."/);
  assert.match(r.stderr, /'processor\.tag': processor 'tag_user' refused these settings: config_value must be the user tag to set/);
});
