// Client keys (issue 14): routes with auth take a key of the keys file `llm-proxy keys` manages,
// as Bearer or x-api-key; a missing, unknown, expired or revoked key gets a 401, a route or model
// the key may not use a 403, in the route's error format; the key never goes upstream nor into a
// log, which names the key's id; a reload applies the keys file's changes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

import { temporaryKeysFile } from './lib/keys.mjs';
import { startMock } from './lib/mock_upstream.mjs';
import { BIN, chatBody, eventually, post, startProxy, upstreamConfig } from './lib/proxy.mjs';

const { dir, file: keysFile, create: createKey } = temporaryKeysFile('llm-proxy-keys-');

let mock;
let proxy;
let config;
const secrets = {};

before(async () => {
  mock = await startMock();
  secrets.full = createKey('full', '--metadata', 'team=search');
  secrets.chatOnly = createKey('chat-only', '--route', '/v1/chat/completions', '--route', '/v1/messages',
    '--model', 'json*');
  secrets.expired = createKey('expired', '--expires', '2020-01-01');
  secrets.revoked = createKey('revoked');
  config = upstreamConfig(mock.url, {
    route: 'processors = ["log_request"]',
    extra: `
[auth]
keys_file = "${keysFile}"

[processor.log_request]
type = "logger"
config_value = "info"

[[route]]
path_prefix = "/open/v1/chat/completions"
target_llm = "mock"
auth = false

[[route]]
path_prefix = "/v1/messages"
api = "anthropic"
target_llm = "mock"
`,
  });
  execFileSync(BIN, ['keys', 'revoke', 'revoked', '--keys-file', keysFile]);
  proxy = await startProxy(config);
});

after(async () => {
  await proxy?.stop();
  await mock?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const chat = (headers, { prefix = '', model = 'json' } = {}) =>
  post(`${proxy.url}${prefix}/v1/chat/completions`, chatBody(model), headers);
const bearer = (secret) => ({ authorization: `Bearer ${secret}` });

test('a key as Bearer or x-api-key is taken; neither it nor any client credential goes upstream', async () => {
  for (const headers of [bearer(secrets.full), { 'x-api-key': secrets.full },
    { ...bearer(secrets.full), 'x-api-key': secrets.full, 'api-key': 'another' }]) {
    const response = await chat(headers);
    assert.equal(response.status, 200, await response.clone().text());
    const upstream = mock.requests.at(-1).headers;
    assert.equal(upstream.authorization, undefined);
    assert.equal(upstream['x-api-key'], undefined);
    assert.equal(upstream['api-key'], undefined);
  }
  const id = (await chat(bearer(secrets.full))).headers.get('x-request-id');
  // The logs name the key by its id (the access line, and the logger processor through the ABI);
  // no secret is ever written.
  await proxy.waitForLog(new RegExp(`request_id=${id} access .* key=full`));
  await proxy.waitForLog(new RegExp(`request_id=${id} .*\\[log_request\\] request .* key=full`));
  for (const secret of Object.values(secrets)) assert.equal(proxy.logs().includes(secret), false);
  // Metrics count requests and tokens by key id.
  await eventually(async () => {
    const text = await (await fetch(`${proxy.url}/metrics`)).text();
    assert.match(text, /^llm_proxy_key_requests_total\{key="full",status_class="2xx"\} [4-9]$/m);
    assert.match(text, /^llm_proxy_key_tokens_total\{key="full",gen_ai_token_type="output"\} (8|[1-9]\d+)$/m);
  });
});

test('a missing, unknown, expired or revoked key gets a 401 saying which, and nothing goes upstream', async () => {
  const before = mock.requests.length;
  const cases = [
    [{}, 'missing_api_key', /needs an API key/],
    [{ authorization: `Basic ${secrets.full}` }, 'missing_api_key', /not 'Bearer KEY'/],
    [bearer('sk-lp-not-a-key'), 'invalid_api_key', /not valid/],
    [bearer(`${secrets.full}x`), 'invalid_api_key', /not valid/],
    [{ ...bearer(secrets.full), 'x-api-key': secrets.chatOnly }, 'invalid_api_key', /more than one key/],
    [bearer(secrets.expired), 'expired_api_key', /expired at 2020-01-01T00:00:00Z/],
    [bearer(secrets.revoked), 'invalid_api_key', /revoked/],
  ];
  for (const [headers, code, message] of cases) {
    const response = await chat(headers);
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="llm-proxy"');
    const { error } = await response.json();
    assert.equal(error.code, code);
    assert.match(error.message, message);
  }
  assert.equal(mock.requests.length, before);
  await proxy.waitForLog(/auth: refused \(expired_api_key\)/);
});

test('a route or model the key may not use gets a 403; routes without auth need no key', async () => {
  const embeddings = await post(`${proxy.url}/v1/embeddings`, { model: 'embed', input: 'x' }, bearer(secrets.chatOnly));
  assert.equal(embeddings.status, 403);
  assert.equal((await embeddings.json()).error.code, 'route_not_allowed');
  const model = await chat(bearer(secrets.chatOnly), { model: 'slow:10' });
  assert.equal(model.status, 403);
  const { error } = await model.json();
  assert.equal(error.code, 'model_not_allowed');
  assert.match(error.message, /'chat-only' may not use the model 'slow:10'/);
  assert.equal((await chat(bearer(secrets.chatOnly))).status, 200);
  // Without auth, a client's own Authorization goes on to an llm without a key of its own.
  const open = await chat({ authorization: 'Bearer upstream-key' }, { prefix: '/open' });
  assert.equal(open.status, 200);
  assert.equal(mock.requests.at(-1).headers.authorization, 'Bearer upstream-key');
});

test('the openai client gets errors it knows: AuthenticationError, PermissionDeniedError', async () => {
  const client = (apiKey) => new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey, maxRetries: 0 });
  const answer = await client(secrets.full).chat.completions.create({ model: 'json', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(answer.object, 'chat.completion');
  await assert.rejects(client('sk-lp-wrong').chat.completions.create({ model: 'json', messages: [] }),
    (e) => e instanceof OpenAI.AuthenticationError && e.status === 401 && e.code === 'invalid_api_key');
  await assert.rejects(client(secrets.chatOnly).chat.completions.create({ model: 'other', messages: [] }),
    (e) => e instanceof OpenAI.PermissionDeniedError && e.code === 'model_not_allowed');
});

test('the anthropic client sends its key as x-api-key and gets Anthropic-shaped 401 and 403', async () => {
  const client = (apiKey) => new Anthropic({ baseURL: proxy.url, apiKey, maxRetries: 0 });
  const message = await client(secrets.chatOnly).messages.create({
    model: 'json', max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }] });
  assert.equal(message.type, 'message');
  assert.equal(mock.requests.at(-1).headers['x-api-key'], undefined);
  await assert.rejects(client('sk-lp-wrong').messages.create({ model: 'json', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof Anthropic.AuthenticationError && e.error?.error?.type === 'authentication_error');
  await assert.rejects(client(secrets.chatOnly).messages.create({ model: 'claude', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof Anthropic.PermissionDeniedError && e.error?.error?.type === 'permission_error');
});

test('a reload applies the keys file: a revoked key is refused, a new one taken', async () => {
  assert.equal((await chat(bearer(secrets.full))).status, 200);
  execFileSync(BIN, ['keys', 'revoke', 'full', '--keys-file', keysFile]);
  const fresh = createKey('fresh');
  assert.equal((await chat(bearer(fresh))).status, 401, 'not before the reload');
  assert.equal(await proxy.reload(config), true);
  assert.equal((await chat(bearer(secrets.full))).status, 401);
  assert.equal((await chat(bearer(fresh))).status, 200);
  // A keys file with errors is refused with its line, and the keys before it go on.
  const good = fs.readFileSync(keysFile, 'utf8');
  fs.writeFileSync(keysFile, `${good}\n[keys.broken]\nhash = "plain-secret"\n`);
  assert.equal(await proxy.reload(config), false);
  assert.match(proxy.logs(), /keys\.toml:\d+: 'keys\.broken\.hash': must be "sha256:"/);
  assert.equal((await chat(bearer(fresh))).status, 200);
  fs.writeFileSync(keysFile, good);
});

test('--check refuses a config whose keys file is missing, naming the command that makes one', () => {
  const file = path.join(dir, 'missing.toml');
  fs.writeFileSync(file, config.replace(keysFile, path.join(dir, 'nowhere.toml')));
  const out = spawnCheck(file);
  assert.equal(out.status, 1);
  assert.match(out.stderr, /nowhere\.toml: cannot read the keys file \(`llm-proxy keys create --keys-file/);
});

function spawnCheck(file) {
  try {
    return { status: 0, stderr: execFileSync(BIN, ['--config', file, '--check'], { encoding: 'utf8', stdio: 'pipe' }) };
  } catch (e) {
    return { status: e.status, stderr: String(e.stderr) };
  }
}
