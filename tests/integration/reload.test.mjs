// Hot reload (issue 13): SIGHUP reads the configuration again, checks it as --check does, and
// serves it from then on; requests in progress finish on the runtime they started on, streams
// included. A configuration with errors is refused with every reason logged, and the running one
// goes on; settings the server was built with are said to need a restart.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startMock } from './lib/mock_upstream.mjs';
import { chatBody, eventually, FIXTURE_PLUGIN_DIR, post, readEvents, startProxy } from './lib/proxy.mjs';

let mock;

before(async () => { mock = await startMock(); });
after(async () => { await mock?.close(); });

// A configuration: the mock as llm "mock", and one route per entry of routes
// ({ prefix, processors }), with extra text at the end.
const config = (routes, { server = '', extra = '' } = {}) => `
[server]
host = "127.0.0.1"
port = 0
${server}

[llm.mock]
provider = "openai"
base_url = "${mock.url}"

[processor.prompt_a]
type = "system_prompt"
config_value = "You are A."

[processor.prompt_b]
type = "system_prompt"
config_value = "You are B."
${routes.map(({ prefix, processors = [] }) => `
[[route]]
path_prefix = "${prefix}/v1/chat/completions"
target_llm = "mock"
processors = ${JSON.stringify(processors)}
`).join('')}
${extra}
`;

const chat = (proxy, prefix, model = 'json', extra = {}) =>
  post(`${proxy.url}${prefix}/v1/chat/completions`, chatBody(model, extra));

// The system prompt the mock saw in the last request.
const lastSystemPrompt = () => mock.requests.at(-1).json.messages.find((m) => m.role === 'system')?.content;

test('a reload adds a route, swaps a processor, and removes a route', async () => {
  const proxy = await startProxy(config([{ prefix: '/a', processors: ['prompt_a'] }]));
  try {
    assert.equal((await chat(proxy, '/a')).status, 200);
    assert.equal(lastSystemPrompt(), 'You are A.');
    assert.equal((await chat(proxy, '/b')).status, 404);

    assert.equal(await proxy.reload(config([{ prefix: '/a', processors: ['prompt_b'] }, { prefix: '/b' }])), true);
    assert.equal((await chat(proxy, '/a')).status, 200);
    assert.equal(lastSystemPrompt(), 'You are B.', 'the swapped processor');
    assert.equal((await chat(proxy, '/b')).status, 200, 'the added route');

    assert.equal(await proxy.reload(config([{ prefix: '/b' }])), true);
    assert.equal((await chat(proxy, '/a')).status, 404, 'the removed route');
    const health = await (await fetch(`${proxy.url}/healthz`)).json();
    assert.deepEqual(health.routes.map((r) => r.path_prefix), ['/b/v1/chat/completions']);
  } finally {
    await proxy.stop();
  }
});

test('a stream on a route a reload removes goes on to its end, unchanged', async () => {
  const proxy = await startProxy(config([{ prefix: '/a' }]));
  try {
    const stream = await chat(proxy, '/a', 'drip:20:25', { stream: true });
    assert.equal(stream.status, 200);
    assert.equal(await proxy.reload(config([{ prefix: '/b' }])), true);
    const events = await readEvents(stream);
    assert.equal(events.at(-1), '[DONE]');
    const text = events.slice(0, -1).map((e) => JSON.parse(e).choices[0]?.delta?.content ?? '').join('');
    assert.equal(text, Array.from({ length: 20 }, (_, i) => `d${i} `).join(''));
    assert.equal((await chat(proxy, '/a')).status, 404);
  } finally {
    await proxy.stop();
  }
});

test('hundreds of streams across several reloads: none cut or changed', async () => {
  const proxy = await startProxy(config([{ prefix: '/a' }]));
  try {
    const N = 200;
    const streams = Array.from({ length: N }, () => chat(proxy, '/a', 'drip:15:40', { stream: true })
      .then(async (response) => ({ status: response.status, events: await readEvents(response) })));
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const routes = [{ prefix: '/a', processors: i % 2 ? ['prompt_a'] : ['prompt_b'] }, { prefix: `/r${i}` }];
      assert.equal(await proxy.reload(config(routes)), true);
    }
    const expected = Array.from({ length: 15 }, (_, i) => `d${i} `).join('');
    for (const { status, events } of await Promise.all(streams)) {
      assert.equal(status, 200);
      assert.equal(events.at(-1), '[DONE]');
      assert.equal(events.slice(0, -1).map((e) => JSON.parse(e).choices[0]?.delta?.content ?? '').join(''), expected);
    }
    // Counting went on across the reloads: every stream is in the route's count (each once its
    // answer has gone).
    await eventually(async () => {
      const metrics = await (await fetch(`${proxy.url}/metrics`)).text();
      const ok = metrics.match(/^llm_proxy_requests_total\{route="\/a\/v1\/chat\/completions",api="openai",status_class="2xx"\} (\d+)$/m);
      assert.ok(ok && Number(ok[1]) >= N, metrics);
    });
  } finally {
    await proxy.stop();
  }
});

test('a configuration with errors is refused, every reason logged, and the running one goes on', async () => {
  const proxy = await startProxy(config([{ prefix: '/a' }]));
  try {
    // Errors of the file, each with its line...
    const typos = config([{ prefix: '/a' }], { extra: '[llm.other]\nprovider = "openai"\nbogus_key = 1\n[route_typo]\n' });
    assert.equal(await proxy.reload(typos), false);
    await proxy.waitForLog(/reload refused: \S+config\.toml has 2 error\(s\)/);
    await proxy.waitForLog(/reload refused: \S+config\.toml:\d+: 'llm\.other\.bogus_key': unknown key/);
    await proxy.waitForLog(/reload refused: \S+config\.toml:\d+: 'route_typo': unknown section/);
    assert.equal((await chat(proxy, '/a')).status, 200, 'the running configuration still serves');
    // ...and what only building it finds, as --check finds it.
    const unknown = config([{ prefix: '/a' }], { extra: '[llm.other]\nprovider = "no_such_provider"\n' });
    assert.equal(await proxy.reload(unknown), false);
    await proxy.waitForLog(/reload refused: \S+config\.toml:\d+: 'llm\.other\.provider': no loaded plugin provides provider 'no_such_provider'/);
    assert.equal((await chat(proxy, '/a')).status, 200, 'the running configuration still serves');
    assert.equal(await proxy.reload('this is = = not toml'), false);
    assert.equal((await chat(proxy, '/a')).status, 200);
    // And a good one after the bad ones is taken.
    assert.equal(await proxy.reload(config([{ prefix: '/c' }])), true);
    assert.equal((await chat(proxy, '/c')).status, 200);
  } finally {
    await proxy.stop();
  }
});

test('settings the server was built with are said to need a restart; the rest is taken', async () => {
  const proxy = await startProxy(config([{ prefix: '/a' }]));
  try {
    const moved = config([{ prefix: '/a' }, { prefix: '/b' }], { server: 'max_connections = 5\nkeep_alive_timeout_ms = 1234' });
    // port = 0 in both: the listening address is unchanged here; max_connections is not.
    assert.equal(await proxy.reload(moved), true);
    await proxy.waitForLog(/reload: \[server\] max_connections \(10000 -> 5\) takes a restart/);
    await proxy.waitForLog(/reload: \[server\] keep_alive_timeout_ms \(15000 -> 1234\) takes a restart/);
    assert.equal((await chat(proxy, '/b')).status, 200);
  } finally {
    await proxy.stop();
  }
});

test('while a plugin built for an ABI before 1.4 is loaded, reloads are refused, naming it', async () => {
  const withFixtures = config([{ prefix: '/a' }], { extra: `[plugins]\ndirs = ["${FIXTURE_PLUGIN_DIR}"]\n` });
  const proxy = await startProxy(withFixtures);
  try {
    assert.equal(await proxy.reload(config([{ prefix: '/b' }], { extra: `[plugins]\ndirs = ["${FIXTURE_PLUGIN_DIR}"]\n` })), false);
    await proxy.waitForLog(/reload refused: plugin test\.[a-z-]+ \(\S+\.so\) was built for ABI 1\.[0-3], which promised that instances are never created or freed while requests are served; rebuild it against ABI 1\.4 or later/);
    assert.equal((await chat(proxy, '/a')).status, 200);
    assert.equal((await chat(proxy, '/b')).status, 404);
  } finally {
    await proxy.stop();
  }
});
