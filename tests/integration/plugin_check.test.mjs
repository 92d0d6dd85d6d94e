// `llm-proxy plugin check`: the conformance checker, on good plugins and on broken ones.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';

import { BIN, FIXTURE_PLUGIN_DIR, runProxy } from './lib/proxy.mjs';

const PLUGINS = path.join(path.dirname(BIN), 'plugins');
const check = (...args) => runProxy(['plugin', 'check', ...args]);
const lines = (text, prefix) => text.split('\n').filter((l) => l.startsWith(prefix));

test('the bundled openai provider passes every check', () => {
  const r = check(path.join(PLUGINS, 'openai.so'));
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /^plugin {3}org\.llm-proxy\.openai 1\.0\.0 \(ABI 1\.0\)/m);
  assert.match(r.stdout, /^exports {2}provider openai$/m);
  assert.equal(lines(r.stdout, 'FAIL').length, 0);
  assert.ok(lines(r.stdout, 'PASS').length >= 7);
  assert.match(r.stdout, /PASS {2}provider openai: an upstream stream fed in two pieces split at every byte decodes to the same events/);
  assert.match(r.stdout, /verdict: \d+ checks passed, 0 failed/);
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
  assert.match(r.stdout, /FAIL {2}processor system_prompt: instance_new accepts the settings \{\}: refused: config_value must be the system message's text \(give settings with --config\)/);
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
