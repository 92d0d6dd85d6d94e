// What the host says about plugins: their log lines name the plugin and the instance (also while
// another request's hooks run during a side call), a setting instance_new refuses is reported at
// its key's line, and a type two plugins export cannot be used.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';

import { startMock } from './lib/mock_upstream.mjs';
import { FIXTURE_PLUGIN_DIR, chatBody, post, runProxy, startProxy, writeConfig } from './lib/proxy.mjs';

test('plugin log lines name the plugin and the instance, across side calls of interleaved requests', async () => {
  const mock = await startMock();
  // One event loop, so that both requests' hooks run on the same thread.
  const proxy = await startProxy(`
[server]
port = 0
worker_threads = 1

[plugins]
dirs = ["${FIXTURE_PLUGIN_DIR}"]

[llm.mock]
provider = "openai"
base_url = "${mock.url}"

[processor.first]
type = "log_around_call"
config_value = "mock"

[processor.second]
type = "log_around_call"
config_value = "mock"

[[route]]
path_prefix = "/first/v1/chat/completions"
target_llm = "mock"
processors = ["first"]

[[route]]
path_prefix = "/second/v1/chat/completions"
target_llm = "mock"
processors = ["second"]
`);
  try {
    const logs = () => proxy.logs().split('\n');
    assert.ok(logs().some((l) => l.endsWith('info plugin test.logs-around-call: initialised')), proxy.logs());
    for (const name of ['first', 'second'])
      assert.ok(logs().some((l) => l.endsWith(`info plugin test.logs-around-call [processor.${name}]: instance created`)), proxy.logs());
    // The side calls (model slow:300) overlap: the second request's hooks run while the first
    // one's hook waits in call_llm, and the first one's hook goes on after.
    const first = post(`${proxy.url}/first/v1/chat/completions`, chatBody('slow:300'));
    await proxy.waitForLog(/\[processor\.first\]: before the side call/);
    const second = post(`${proxy.url}/second/v1/chat/completions`, chatBody('slow:300'));
    const [a, b] = [await first, await second];
    assert.deepEqual([a.status, b.status], [200, 200]);
    // Each line names its own request, though both requests' fibers share one thread.
    const ids = { first: a.headers.get('x-request-id'), second: b.headers.get('x-request-id') };
    const lines = logs().filter((l) => l.includes('the side call'));
    assert.deepEqual(lines.map((l) => l.replace(/^.* info /, '')), [
      `request_id=${ids.first} plugin test.logs-around-call [processor.first]: before the side call`,
      `request_id=${ids.second} plugin test.logs-around-call [processor.second]: before the side call`,
      `request_id=${ids.first} plugin test.logs-around-call [processor.first]: after the side call`,
      `request_id=${ids.second} plugin test.logs-around-call [processor.second]: after the side call`,
    ]);
  } finally {
    await proxy.stop();
    await mock.close();
  }
});

test('a setting a processor refuses is reported at the line of its key', () => {
  const file = writeConfig(`[llm.echo]
provider = "echo"

[processor.strict]
type = "guard"
additional_config = { patterns = ["email"],
    status = 99 }

[[route]]
path_prefix = "/v1/chat/completions"
target_llm = "echo"
processors = ["strict"]
`);
  const r = runProxy(['--config', file, '--check']);
  assert.equal(r.status, 1);
  assert.ok(r.stderr.includes(`${file}:7: 'processor.strict.additional_config.status': processor 'guard' refused these settings: additional_config.status must be from 400 to 499`), r.stderr);
});

test('a type that two plugins export cannot be used, and --check names both files', () => {
  const twins = path.join(FIXTURE_PLUGIN_DIR, 'twins');
  const uses = (provider) => writeConfig(`
[llm.t]
provider = "${provider}"

[processor.own]
type = "own_a"

[[route]]
path_prefix = "/v1"
target_llm = "t"
processors = ["own"]
`);
  const r = runProxy(['--config', uses('twin'), '--check', '--plugin-dir', twins]);
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stderr, /:3: 'llm\.t\.provider': provider 'twin' is exported by more than one plugin: \S+\/twins\/twin_a\.so and \S+\/twins\/twin_b\.so; llm-proxy cannot tell which one is meant/);
  // The rest of both plugins stays usable.
  const ok = runProxy(['--config', uses('echo'), '--check', '--plugin-dir', twins]);
  assert.equal(ok.status, 0, ok.stderr);
});
