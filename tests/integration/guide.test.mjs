// The provider of docs/IMPLEMENTING_PROVIDERS.md, as a reader following the guide builds it
// (ctest's sdk.build_guide_provider), configured with the guide's own config file, serving
// requests through the installed llm-proxy.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { startMock } from './lib/mock_upstream.mjs';
import { chatBody, post, readEvents, runProxy, startProxy, writeConfig } from './lib/proxy.mjs';

const INSTALLED = process.env.INSTALLED_LLM_PROXY_BIN;
const GUIDE = process.env.GUIDE_OUT;

let mock;
let proxy;

// The guide's keyed.toml, pointed at the mock and at the guide's build directory.
function guideConfig(baseUrl) {
  return fs.readFileSync(path.join(GUIDE, 'keyed.toml'), 'utf8')
    .replace(/^port = \d+$/m, 'port = 0')
    .replace('dirs = ["build"]', `dirs = ["${path.join(GUIDE, 'build')}"]`)
    .replace(/^base_url = .*$/m, `base_url = "${baseUrl}"`);
}

before(async () => {
  assert.ok(INSTALLED && GUIDE, 'run through ctest, which builds the guide provider');
  mock = await startMock();
  proxy = await startProxy(guideConfig(mock.url), { bin: INSTALLED, env: { AZURE_OPENAI_KEY: 'azure-key-1' } });
});

after(async () => {
  await proxy?.stop();
  await mock?.close();
});

test('the guide provider sends the api-key header and the api-version query', async () => {
  const res = await post(`${proxy.url}/v1/chat/completions`, chatBody('json'));
  assert.equal(res.status, 200);
  const seen = mock.requests.at(-1);
  assert.equal(seen.url, '/v1/chat/completions?api-version=2024-10-21');
  assert.equal(seen.headers['api-key'], 'azure-key-1');
  assert.equal(seen.headers.authorization, undefined);
});

test('the guide provider relays streams', async () => {
  const res = await post(`${proxy.url}/v1/chat/completions`, chatBody('stream:2', { stream: true }));
  assert.equal((await readEvents(res)).at(-1), '[DONE]');
});

test('the guide provider refuses a config without its key, with the message the guide shows', () => {
  const r = runProxy(['--config', writeConfig(guideConfig('http://127.0.0.1:9/v1')), '--check'],
    { AZURE_OPENAI_KEY: '' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /:11: 'llm\.azure\.token_env': provider 'keyed_openai' refused these settings: token_env must name a variable holding the api-key/);
});
