// The server around the proxying: CORS, /healthz, overload, the command line, the default config
// and plugin loading as a user meets them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startMock } from './lib/mock_upstream.mjs';
import {
  ABI_VERSION, BIN, FIXTURE_PLUGIN_DIR, chatBody, post, readEvents, runProxy, startProxy, upstreamConfig, writeConfig,
} from './lib/proxy.mjs';

const REPO = path.resolve(import.meta.dirname, '../..');

describe('CORS', () => {
  let mock;
  let anyOrigin;
  let listed;
  before(async () => {
    mock = await startMock();
    anyOrigin = await startProxy(upstreamConfig(mock.url, { server: 'cors_allowed_origins = ["*"]' }));
    listed = await startProxy(upstreamConfig(mock.url,
      { server: 'cors_allowed_origins = ["https://app.example.com"]' }));
  });
  after(async () => {
    await anyOrigin?.stop();
    await listed?.stop();
    await mock?.close();
  });

  const preflight = (proxy, origin) => fetch(`${proxy.url}/v1/chat/completions`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });

  test('a preflight from an allowed origin is answered with the allowed methods and headers', async () => {
    const res = await preflight(listed, 'https://app.example.com');
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.equal(res.headers.get('vary'), 'Origin');
    assert.match(res.headers.get('access-control-allow-methods'), /POST/);
    assert.equal(res.headers.get('access-control-allow-headers'), 'authorization, content-type');
  });

  test('a preflight from another origin is refused with an error naming it', async () => {
    const res = await preflight(listed, 'https://evil.example.com');
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    assert.match((await res.json()).error.message, /'https:\/\/evil\.example\.com' is not in \[server\] cors_allowed_origins/);
  });

  test('"*" allows any origin', async () => {
    const res = await preflight(anyOrigin, 'https://anything.example.org');
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
  });

  test('actual requests carry the CORS headers, errors included', async () => {
    let res = await post(`${listed.url}/v1/chat/completions`, chatBody('json'), { origin: 'https://app.example.com' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.equal(res.headers.get('vary'), 'Origin');
    res = await post(`${listed.url}/nowhere`, chatBody('json'), { origin: 'https://app.example.com' });
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example.com');
    res = await post(`${listed.url}/v1/chat/completions`, chatBody('json'), { origin: 'https://evil.example.com' });
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });
});

describe('the default config', () => {
  let proxy;
  before(async () => {
    // The shipped default config, on a free port and without any API key in the environment.
    const fs = await import('node:fs');
    const text = fs.readFileSync(path.join(REPO, 'config/default.toml'), 'utf8').replace(/^port = \d+$/m, 'port = 0');
    proxy = await startProxy(text, { env: { OPENAI_API_KEY: '' } });
  });
  after(async () => { await proxy?.stop(); });

  test('answers a chat completion with no key and no network, through the echo provider', async () => {
    const res = await post(`${proxy.url}/v1/chat/completions`,
      JSON.stringify({ model: 'echo', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'Hello, proxy!' }] }));
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.model, 'echo');
    assert.equal(body.choices[0].message.content, 'Hello, proxy!');
    assert.equal(body.usage.completion_tokens, 2);
  });

  test('streams the echo word by word, ending with [DONE]', async () => {
    const res = await post(`${proxy.url}/v1/chat/completions`,
      JSON.stringify({ model: 'echo', stream: true, messages: [{ role: 'user', content: 'one two three' }] }));
    assert.match(res.headers.get('content-type'), /^text\/event-stream/);
    const events = await readEvents(res);
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    assert.deepEqual(chunks.map((c) => c.choices[0].delta.content ?? null), ['', 'one ', 'two ', 'three', null]);
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
  });

  test('echo reads content parts and tolerates odd messages', async () => {
    const res = await post(`${proxy.url}/v1/chat/completions`, JSON.stringify({ model: 'echo', messages: [
      { role: 5, content: 'ignored' },
      { role: 'user', content: [{ type: 'text', text: 'hi ' }, { type: 'image_url' }, { type: 'text', text: 'there' }] },
    ] }));
    assert.equal(res.status, 200);
    assert.equal((await res.json()).choices[0].message.content, 'hi there');
  });

  test('the OpenAI routes explain the missing key', async () => {
    const res = await post(`${proxy.url}/openai/v1/chat/completions`, chatBody('gpt-4o-mini'));
    assert.equal(res.status, 500);
    assert.match((await res.json()).error.message, /OPENAI_API_KEY/);
  });

  test('/healthz lists the loaded plugins and the routes', async () => {
    const res = await fetch(`${proxy.url}/healthz`);
    assert.equal(res.status, 200);
    const health = await res.json();
    assert.equal(health.status, 'ok');
    const providers = health.plugins.flatMap((p) => p.providers).sort();
    assert.deepEqual(providers, ['anthropic', 'echo', 'openai']);
    assert.ok(health.plugins.some((p) => p.processors.includes('logger')));
    assert.ok(health.plugins.every((p) => p.abi === ABI_VERSION));
    assert.deepEqual(health.routes.map((r) => r.path_prefix).sort(),
      ['/openai/v1/chat/completions', '/openai/v1/embeddings', '/v1/chat/completions']);
    assert.equal(health.llms.openai_chat.ready, false);
    assert.equal(health.llms.echo.ready, true);
  });

  test('the logger processor of the route logs the request and its outcome', async () => {
    await post(`${proxy.url}/v1/chat/completions`, JSON.stringify({ model: 'logged-model', messages: [{ role: 'user', content: 'hi' }] }));
    await proxy.waitForLog(/\[log_request\] request route=\/v1\/chat\/completions model=logged-model stream=false/);
    await proxy.waitForLog(/\[log_request\] finished status=200/);
  });
});

describe('overload', () => {
  let mock;
  let proxy;
  before(async () => {
    mock = await startMock();
    proxy = await startProxy(upstreamConfig(mock.url, { server: 'max_connections = 1\nworker_threads = 1' }));
  });
  after(async () => {
    mock?.release();
    await proxy?.stop();
    await mock?.close();
  });

  test('a connection beyond max_connections gets a 503 JSON error, not a silent close', async () => {
    // Occupy the only connection allowed with a request the mock holds.
    const busy = http.request(`${proxy.url}/v1/chat/completions`, { method: 'POST', agent: false });
    busy.on('error', () => {});
    busy.end(chatBody('hold'));
    await mock.waitForRequest((r) => r.json.model === 'hold');
    const res = await new Promise((resolve, reject) => {
      const req = http.request(`${proxy.url}/v1/chat/completions`, { method: 'POST', agent: false }, resolve);
      req.on('error', reject);
      req.end(chatBody('json'));
    });
    let text = '';
    for await (const piece of res) text += piece;
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['retry-after'], '1');
    const { error } = JSON.parse(text);
    assert.equal(error.code, 'overloaded');
    assert.match(error.message, /max_connections = 1/);
    mock.release();
    busy.destroy();
  });
});

describe('open files', () => {
  test('the soft limit on open files is raised to the hard one, so connections are not capped at 1,024', async (t) => {
    const hard = fs.readFileSync('/proc/self/limits', 'utf8').match(/Max open files\s+\S+\s+(\S+)/)[1];
    if (hard !== 'unlimited' && Number(hard) <= 256) return t.skip(`the hard limit here is ${hard}`);
    const wrapper = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'llm-proxy-ulimit-')), 'run.sh');
    fs.writeFileSync(wrapper, `#!/bin/sh\nulimit -Sn 256\nexec "${BIN}" "$@"\n`, { mode: 0o755 });
    const mock = await startMock();
    const proxy = await startProxy(upstreamConfig(mock.url), { bin: wrapper });
    try {
      const [, soft, raised] = fs.readFileSync(`/proc/${proxy.pid}/limits`, 'utf8')
        .match(/Max open files\s+(\S+)\s+(\S+)/);
      assert.equal(soft, raised);
      assert.equal(raised, hard);
    } finally {
      await proxy.stop();
      await mock.close();
    }
  });
});

describe('the command line', () => {
  test('--help and --version', () => {
    const help = runProxy(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--config FILE/);
    assert.match(help.stdout, /--check/);
    const version = runProxy(['--version']);
    assert.equal(version.status, 0);
    assert.equal(version.stdout.match(/^llm-proxy \d+\.\d+\.\d+ \(plugin ABI (\d+\.\d+)\)/)?.[1], ABI_VERSION);
  });

  test('a missing --config or an unknown argument is a usage error', () => {
    assert.equal(runProxy([]).status, 2);
    const r = runProxy(['--config', 'x.toml', '--frobnicate']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown or incomplete argument '--frobnicate'/);
  });

  test('--check accepts the default config', () => {
    const ok = runProxy(['--config', path.join(REPO, 'config/default.toml'), '--check']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /is valid: 3 llm\(s\), 1 processor\(s\), 3 route\(s\)/);
  });

  test('--check reports every config error with file, line and key, and fails', () => {
    const file = writeConfig(`
[server]
port = "x"

[llm.a]
provider = "openai"
tokn_env = "KEY"

[[route]]
path_prefix = "/v1"
target_llm = "b"
`);
    const r = runProxy(['--config', file, '--check']);
    assert.equal(r.status, 1);
    assert.ok(r.stderr.includes(`${file}:3: 'server.port': must be an integer from 0 to 65535`), r.stderr);
    assert.ok(r.stderr.includes(`${file}:7: 'llm.a.tokn_env': unknown key`), r.stderr);
    assert.ok(r.stderr.includes(`${file}:9: 'route[0].target_llm': no [llm.b] is defined`), r.stderr);
  });

  test('a refused plugin is reported but does not stop a config that does not need it', () => {
    const file = writeConfig(upstreamConfig('http://127.0.0.1:9/v1'));
    const r = runProxy(['--config', file, '--check', '--plugin-dir', FIXTURE_PLUGIN_DIR]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /plugin refused: .*abi_major_mismatch\.so: built for plugin ABI 2\.0/);
  });

  test('a config needing a refused plugin fails with the refusal reason', () => {
    const file = writeConfig(`
[llm.a]
provider = "unlicensed"

[[route]]
path_prefix = "/v1"
target_llm = "a"
`);
    const r = runProxy(['--config', file, '--check', '--plugin-dir', FIXTURE_PLUGIN_DIR]);
    assert.equal(r.status, 1);
    assert.ok(r.stderr.includes(`${file}:3: 'llm.a.provider': no loaded plugin provides provider 'unlicensed'`), r.stderr);
    assert.match(r.stderr, /init_fails\.so: plugin 'test\.init-fails' failed to initialise: the licence file \/etc\/fixture\.lic is missing/);
  });

  test('a plugin dropped into a [plugins] dirs directory serves requests', async () => {
    const proxy = await startProxy(`
[server]
port = 0

[plugins]
dirs = ["${FIXTURE_PLUGIN_DIR}"]

[llm.older]
provider = "older"

[[route]]
path_prefix = "/v1/chat/completions"
target_llm = "older"
`);
    try {
      const res = await post(`${proxy.url}/v1/chat/completions`, chatBody('any'));
      assert.equal(res.status, 200);
      assert.equal(await res.text(), '{}');
    } finally {
      await proxy.stop();
    }
  });

  test('a stream still running when shutdown_grace_ms ends gets an error event, not a silent cut', async () => {
    const mock = await startMock();
    const proxy = await startProxy(upstreamConfig(mock.url, { server: 'shutdown_grace_ms = 200' }));
    try {
      const res = await post(`${proxy.url}/v1/chat/completions`, chatBody('hold-stream', { stream: true }));
      assert.equal(res.status, 200);
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let text = '';
      while (!text.includes('second')) text += decoder.decode((await reader.read()).value, { stream: true });
      const stopped = proxy.stop();  // SIGTERM; the stream waits on the upstream past the grace
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      const events = text.split('\n\n').filter((b) => b.startsWith('data: ')).map((b) => b.slice(6));
      const last = JSON.parse(events.at(-1));
      assert.equal(last.error.code, 'shutting_down', text);
      assert.ok(!events.includes('[DONE]'));
      assert.equal(await stopped, 0);
    } finally {
      await proxy.stop();
      await mock.close();
    }
  });

  test('/readyz says ready until SIGTERM, then 503 through drain_delay_ms while requests are still served', async () => {
    const mock = await startMock();
    const proxy = await startProxy(upstreamConfig(mock.url, { server: 'drain_delay_ms = 1500' }));
    try {
      let res = await fetch(`${proxy.url}/readyz`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { status: 'ready' });
      assert.equal((await fetch(`${proxy.url}/readyz`, { method: 'POST' })).status, 405);
      const stopped = proxy.stop();  // SIGTERM
      await proxy.waitForLog(/draining: \/readyz says 503 for drain_delay_ms = 1500 before new connections are refused/);
      res = await fetch(`${proxy.url}/readyz`);
      assert.equal(res.status, 503);
      assert.deepEqual(await res.json(), { status: 'draining' });
      // Liveness does not change, and requests that still come are served.
      assert.equal((await fetch(`${proxy.url}/healthz`)).status, 200);
      const answer = await post(`${proxy.url}/v1/chat/completions`, chatBody('any'));
      assert.equal(answer.status, 200);
      await answer.text();
      assert.equal(await stopped, 0);
    } finally {
      await proxy.stop();
      await mock.close();
    }
  });

  test('a second SIGTERM ends the drain at once', async () => {
    const proxy = await startProxy(upstreamConfig('http://127.0.0.1:9/v1', { server: 'drain_delay_ms = 600000' }));
    try {
      process.kill(proxy.pid, 'SIGTERM');
      await proxy.waitForLog(/draining: \/readyz says 503 for drain_delay_ms = 600000/);
      const timeout = new Promise((resolve) => { setTimeout(() => resolve('still draining'), 15000).unref(); });
      assert.equal(await Promise.race([proxy.stop(), timeout]), 0);
    } finally {
      try { process.kill(proxy.pid, 'SIGKILL'); } catch { /* it has exited, as it should */ }
    }
  });

  test('SIGTERM stops the server cleanly', async () => {
    const proxy = await startProxy(upstreamConfig('http://127.0.0.1:9/v1'));
    assert.equal(await proxy.stop(), 0);
    assert.match(proxy.logs(), /stopped/);
  });
});

test('a second llm-proxy on a port in use refuses to start, saying so, rather than sharing it', async () => {
  const config = (port) => `
[server]
host = "127.0.0.1"
port = ${port}

[llm.local]
provider = "echo"

[[route]]
path_prefix = "/v1/chat/completions"
target_llm = "local"
`;
  const first = await startProxy(config(0));
  try {
    const second = runProxy(['--config', writeConfig(config(first.port))]);
    assert.equal(second.status, 1, second.stderr);
    assert.match(second.stderr, new RegExp(`cannot serve on 127\\.0\\.0\\.1:${first.port}: .*Address already in use`));
  } finally {
    await first.stop();
  }
});
