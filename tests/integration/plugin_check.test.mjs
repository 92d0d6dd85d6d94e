// `llm-proxy plugin check`: the conformance checker, on good plugins and on broken ones.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';

import { ABI_VERSION, BIN, FIXTURE_PLUGIN_DIR, runProxy } from './lib/proxy.mjs';

const PLUGINS = path.join(path.dirname(BIN), 'plugins');
const check = (...args) => runProxy(['plugin', 'check', ...args]);
const lines = (text, prefix) => text.split('\n').filter((l) => l.startsWith(prefix));

test('the bundled openai provider passes every check', () => {
  const r = check(path.join(PLUGINS, 'openai.so'));
  assert.equal(r.status, 0, r.stdout);
  assert.ok(r.stdout.startsWith(`plugin   org.llm-proxy.openai 1.0.0 (ABI ${ABI_VERSION}),`), r.stdout);
  assert.match(r.stdout, /^exports {2}provider openai$/m);
  assert.equal(lines(r.stdout, 'FAIL').length, 0);
  assert.ok(lines(r.stdout, 'PASS').length >= 7);
  assert.match(r.stdout, /PASS {2}provider openai: an upstream stream fed in two pieces split at every byte decodes to the same events/);
  assert.match(r.stdout, /verdict: \d+ checks passed, 0 failed/);
});

test('a translating provider passes every check when given an answer and a stream in its upstream format', () => {
  const samples = path.resolve(import.meta.dirname, '../../plugins/anthropic/check');
  const plugin = path.join(PLUGINS, 'anthropic.so');
  const r = check(plugin, '--upstream-answer', path.join(samples, 'answer.json'),
    '--upstream-stream', path.join(samples, 'stream.sse'), '--verbose');
  assert.equal(r.status, 0, r.stdout);
  assert.equal(lines(r.stdout, 'FAIL').length, 0);
  assert.match(r.stdout, /PASS {2}provider anthropic: an upstream stream fed in two pieces split at every byte decodes to the same events/);
  // What the checker played: the given answer and stream, translated, not OpenAI's samples.
  assert.match(r.stdout, /decode_response -> 200 application\/json "\{\\"id\\":\\"msg_01GCBaV8gyWAYgMVggRqZbuQ\\",\\"object\\":\\"chat\.completion\\"/);
  assert.match(r.stdout, /decode_stream_event "\{\\"type\\":\\"content_block_delta\\".*\\"text\\":\\"there\.\\"\}\}" -> 1 event\(s\): "\{\\"id\\":\\"msg_01GE2RKp1VYsPzdFs3sS9z5S\\",\\"object\\":\\"chat\.completion\.chunk\\"/);
  // With OpenAI-format samples the same provider fails, and says why.
  const plain = check(plugin);
  assert.equal(plain.status, 1, plain.stdout);
  assert.ok(lines(plain.stdout, 'FAIL').length > 0);
  const missing = check(plugin, '--upstream-stream', path.join(samples, 'no-such-file'));
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--upstream-stream .*no-such-file: cannot read it/);
});

test('a stream split anywhere must decode to the same events, apart from a chunk\'s "created" time', () => {
  // The stamping provider's "created" differs on every request, as a clock may tick between two.
  const r = check(path.join(FIXTURE_PLUGIN_DIR, 'stamping_provider.so'), '--type', 'stamping', '--verbose');
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /decode_stream_event .* -> 1 event\(s\): .*\\"created\\":\d+/);
  assert.match(r.stdout, /PASS {2}provider stamping: an upstream stream fed in two pieces split at every byte decodes to the same events/);
});

test('the checker says which settings it supplies', () => {
  const r = check(path.join(PLUGINS, 'openai.so'), '--config', JSON.stringify({ base_url: 'http://127.0.0.1:9/v2' }));
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /^settings provider {2}base_url = "http:\/\/127\.0\.0\.1:9\/v2" \(given\)$/m);
  assert.match(r.stdout, /^settings provider {2}api_key = "sk-check" \(default: what the variable named by token_env would hold\)$/m);
  assert.match(r.stdout, /^settings provider {2}type = "chat", then "embedding" \(default: both; /m);
  assert.match(r.stdout, /^settings provider {2}options = \{\} \(default: absent\)$/m);
  assert.doesNotMatch(r.stdout, /^settings processor/m);
});

test('embedding requests are checked too', () => {
  const r = check(path.join(PLUGINS, 'openai.so'));
  assert.match(r.stdout, /^PASS {2}provider openai \(embedding\): instance_new accepts the settings \(type = "embedding"\)$/m);
  assert.match(r.stdout, /^PASS {2}provider openai \(embedding\): an embedding request is encoded and its answer decoded$/m);
  assert.match(r.stdout, /^PASS {2}provider openai \(embedding\): concurrent requests on several threads$/m);
  // A provider that serves chat only is not failed for it, unless embedding was asked for.
  const echo = check(path.join(PLUGINS, 'echo.so'));
  assert.equal(echo.status, 0, echo.stdout);
  assert.match(echo.stdout, /^SKIP {2}provider echo \(embedding\): embedding requests: instance_new refuses type = "embedding": the echo provider only serves type = "chat"$/m);
  assert.match(echo.stdout, /verdict: \d+ checks passed, 0 failed, 1 skipped/);
  const asked = check(path.join(PLUGINS, 'echo.so'), '--config', '{"type":"embedding"}');
  assert.equal(asked.status, 1);
  assert.match(asked.stdout, /^FAIL {2}provider echo \(embedding\): instance_new accepts the settings \(type = "embedding"\): refused: the echo provider only serves/m);
});

test('numbers and booleans in --config are taken as TOML takes them', () => {
  const r = check(path.join(PLUGINS, 'processors.so'), '--type', 'system_prompt', '--config', '{"config_value":100}');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^settings processor config_value = "100" \(given\)$/m);
  const t = check(path.join(PLUGINS, 'processors.so'), '--type', 'system_prompt', '--config', '{"config_value":true}');
  assert.match(t.stdout, /^settings processor config_value = "true" \(given\)$/m);
});

test('malformed --config gets a clear error and exit status 2, never an abort', () => {
  const cases = [
    ['{"config_valu":"x"}', "--config: unknown key 'config_valu' (known for the processors checked: config_value, additional_config)"],
    ['{"base_url":"http://x"}', "--config: unknown key 'base_url' (known for the processors checked: config_value, additional_config)"],
    ['{"config_value":{"a":1}}', '--config: config_value must be a string, number or boolean, not {"a":1}'],
    ['{"config_value":[1]}', '--config: config_value must be a string, number or boolean, not [1]'],
    ['{"config_value":null}', '--config: config_value must be a string, number or boolean, not null'],
    ['{"additional_config":[1]}', '--config: additional_config must be an object (a TOML table), not [1]'],
    ['{"additional_config":"x"}', '--config: additional_config must be an object (a TOML table), not "x"'],
    ['{', '--config: not JSON: {'],
    ['[]', '--config: must be a JSON object, e.g. {"config_value":"info"}'],
  ];
  for (const [config, message] of cases) {
    const r = check(path.join(PLUGINS, 'processors.so'), '--type', 'system_prompt', '--config', config);
    assert.equal(r.status, 2, `${config}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stderr, `llm-proxy plugin check: ${message}\n`, config);
    assert.equal(r.stdout, '', config);
  }
  const providerCases = [
    ['{"api_key":7}', '--config: api_key must be a string, not 7'],
    ['{"base_url":"ftp://x"}', '--config: base_url must start with http:// or https://'],
    ['{"type":"images"}', '--config: type must be "chat" or "embedding", not "images"'],
    ['{"options":"x"}', '--config: options must be an object (a TOML table), not "x"'],
    ['{"config_value":"x"}', "--config: unknown key 'config_value' (known for the providers checked: base_url, api_key, type, options)"],
  ];
  for (const [config, message] of providerCases) {
    const r = check(path.join(PLUGINS, 'openai.so'), '--config', config);
    assert.equal(r.status, 2, `${config}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stderr, `llm-proxy plugin check: ${message}\n`, config);
  }
  const incomplete = check(path.join(PLUGINS, 'openai.so'), '--config');
  assert.equal(incomplete.status, 2);
  assert.match(incomplete.stderr, /unknown or incomplete argument '--config'/);
});

test('--verbose shows the plugin\'s log lines and what each hook produced', () => {
  const r = check(path.join(PLUGINS, 'processors.so'), '--type', 'logger', '--config', '{"config_value":"info"}', '--verbose');
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /^RUN {3}processor logger: a request through every hook: chat whole and streamed, and embedding$/m);
  assert.match(r.stdout, /^ {6}log info plugin org\.llm-proxy\.processors \[processor\.check\]: \[check\] request route=\/v1\/chat\/completions model=check-model stream=false/m);
  assert.match(r.stdout, /^ {6}on_request -> LP_CONTINUE$/m);
  assert.match(r.stdout, /^ {8}body: unchanged$/m);
  assert.match(r.stdout, /^ {6}on_finish -> done$/m);
  // Not for the thousand requests of the concurrency check.
  assert.ok(r.stdout.split('\n').filter((l) => l.includes('[check] request')).length < 10, r.stdout);
  const p = check(path.join(PLUGINS, 'openai.so'), '--config', '{"type":"chat"}', '--verbose');
  assert.equal(p.status, 0, p.stdout);
  assert.match(p.stdout, /^ {6}encode_request -> LP_CONTINUE$/m);
  assert.match(p.stdout, /^ {8}upstream: POST "\/chat\/completions" after the base URL's path$/m);
  assert.match(p.stdout, /^ {8}upstream header Authorization: "Bearer sk-check"$/m);
  assert.match(p.stdout, /^ {6}(decode_response|\(no decode_response: passed\)) -> 200 application\/json "\{\\"id\\":\\"c1\\"/m);
  assert.match(p.stdout, /^ {6}decode_stream_event "\[DONE\]" -> /m);
  const quiet = check(path.join(PLUGINS, 'openai.so'), '--config', '{"type":"chat"}');
  assert.doesNotMatch(quiet.stdout, /^(RUN {3}| {6}encode_request| {6}log )/m);
});

test('one processor of a plugin is checked with its settings', () => {
  const r = check(path.join(PLUGINS, 'processors.so'), '--type', 'guard',
    '--config', JSON.stringify({ additional_config: { patterns: ['email'] } }));
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /PASS {2}processor guard: concurrent requests on several threads/);
  assert.doesNotMatch(r.stdout, /^(PASS|FAIL) {2}processor redact/m);
});

test('settings a processor refuses are reported with its reason', () => {
  const r = check(path.join(PLUGINS, 'processors.so'), '--type', 'system_prompt');
  assert.equal(r.status, 1);
  assert.match(r.stdout, /FAIL {2}processor system_prompt: instance_new accepts the settings: refused: config_value must be the system message's text \(give settings with --config\)/);
});

test('a provider that fails requests without saying why fails the checks', () => {
  const r = check(path.join(FIXTURE_PLUGIN_DIR, 'encode_fails_silently.so'));
  assert.equal(r.status, 1);
  assert.match(r.stdout, /FAIL {2}provider silent: a chat request, whole and streamed, is encoded and its answer decoded: provider 'silent' encode_request failed without saying why/);
  assert.match(r.stdout, /FAIL {2}provider silent: concurrent requests on several threads: 1000 of 1000 requests failed/);
});

test('a plugin that cannot load is reported with the loader\'s message', () => {
  const r = check(path.join(FIXTURE_PLUGIN_DIR, 'abi_major_mismatch.so'));
  assert.equal(r.status, 1);
  assert.match(r.stdout, /FAIL {2}load: .*abi_major_mismatch\.so: built for plugin ABI 2\.0, but this llm-proxy supports ABI 1\.x/);
});

test('an unknown --type is an error', () => {
  const r = check(path.join(PLUGINS, 'echo.so'), '--type', 'nope');
  assert.equal(r.status, 1);
  assert.match(r.stdout, /FAIL {2}--type nope: the plugin exports no such provider or processor/);
});
