// The status page (issue 13): GET /status in a real browser (Debian's chromium, headless) shows
// the configured routes, llms and deployments, live figures from /metrics, and the last errors;
// the test saves a screenshot (STATUS_SCREENSHOT, default: the system's temp dir).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { startMock } from './lib/mock_upstream.mjs';
import { chatBody, closedPort, post, startProxy, upstreamConfig } from './lib/proxy.mjs';

const CHROMIUM = ['chromium', 'chromium-browser', 'google-chrome'].find(
  (bin) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0);

let mock;
let proxy;

before(async () => {
  assert.ok(CHROMIUM, 'the status page test needs chromium (scripts/install-deps.sh --test installs it)');
  mock = await startMock();
  proxy = await startProxy(upstreamConfig(mock.url, {
    extra: `
[llm.dead]
provider = "openai"
base_url = "http://127.0.0.1:${await closedPort()}/v1"

[models.pair]
deployments = [{ llm = "mock", model = "json" }, { llm = "dead", weight = 1000 }]
ejection = { consecutive_failures = 1, base_ejection_ms = 600000, max_ejection_ms = 600000 }

[[route]]
path_prefix = "/models/v1/chat/completions"
retry = { attempts = 3, backoff_base_ms = 0, backoff_max_ms = 0 }
`,
  }));
});

after(async () => {
  await proxy?.stop();
  await mock?.close();
});

// Chromium, headless, with the page given virtual time to poll a few times.
function browse(args) {
  // --disable-dev-shm-usage: containers often have a small /dev/shm, which crashes chromium.
  return execFileSync(CHROMIUM, ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--hide-scrollbars',
    '--virtual-time-budget=6000', ...args, `${proxy.url}/status`], { encoding: 'utf8', timeout: 60000, stdio: ['ignore', 'pipe', 'ignore'] });
}

const text = (html) => html.replace(/<[^>]+>/g, ' ').replace(/&amp;/g, '&').replace(/\s+/g, ' ');

test('the page shows what is configured, live figures and the last errors', async () => {
  for (let i = 0; i < 4; i++) assert.equal((await post(`${proxy.url}/v1/chat/completions`, chatBody('json'))).status, 200);
  const stream = await post(`${proxy.url}/v1/chat/completions`, chatBody('stream-usage:3', { stream: true }));
  await stream.text();
  // The dead deployment weighs 1000 to 1: the first of these all but surely tries it, fails, and
  // ejects it.
  for (let i = 0; i < 6; i++) await post(`${proxy.url}/models/v1/chat/completions`, chatBody('pair'));
  const failed = await post(`${proxy.url}/v1/chat/completions`, chatBody('error:503'));
  assert.equal(failed.status, 503);
  const failedId = failed.headers.get('x-request-id');

  const dom = browse(['--dump-dom']);
  const rows = (table) => [...dom.matchAll(new RegExp(`<table id="${table}">([\\s\\S]*?)</table>`, 'g'))][0][1];
  // What is configured.
  for (const prefix of ['/v1/chat/completions', '/v1/embeddings', '/models/v1/chat/completions'])
    assert.match(rows('routes'), new RegExp(`data-route="${prefix.replace(/\//g, '\\/')}"`));
  for (const llm of ['mock', 'mock_embed', 'dead']) assert.match(rows('llms'), new RegExp(`data-llm="${llm}"`));
  const models = text(rows('models'));
  assert.match(models, /pair weighted mock json 1 healthy/);
  assert.match(models, /dead pair 1000 ejected, \d+ s left/);
  // Live figures, from /metrics.
  const figure = (id) => text(dom.match(new RegExp(`id="${id}"[^>]*>([^<]*)<`))[1]);
  assert.match(figure('latency'), /^\d+(\.\d+)? m?s · \d+(\.\d+)? m?s · \d+(\.\d+)? m?s/);
  assert.match(figure('ttft'), /^\d+(\.\d+)? m?s · /);
  assert.match(figure('rate'), /^\d+\.\d\d$/);
  assert.match(figure('totals'), /^(\d+) requests since start/);
  assert.ok(Number(figure('totals').match(/^(\d+)/)[1]) >= 12);
  // The route's counts by status class: 4 + 1 answers and the 503.
  assert.match(text(rows('routes')), /\/v1\/chat\/completions openai mock – 5 0 1/);
  // The last errors, newest first, with the request's id.
  assert.match(rows('errors'), new RegExp(`data-request-id="${failedId}"`));
  assert.match(text(rows('errors')), /503 POST \/v1\/chat\/completions \/v1\/chat\/completions/);
  assert.match(dom, /<span id="state" class="badge ok">up<\/span>/);
});

test('a screenshot of the page is saved', () => {
  const file = process.env.STATUS_SCREENSHOT || path.join(os.tmpdir(), 'llm-proxy-status.png');
  fs.rmSync(file, { force: true });
  browse(['--window-size=1280,1000', `--screenshot=${file}`]);
  const png = fs.readFileSync(file);
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
  assert.ok(png.length > 20000, `a ${png.length}-byte screenshot is too small to show the page`);
  console.log(`status page screenshot: ${file}`);
});

test('/status serves its files, GET only; status_page = false turns it off', async () => {
  for (const [file, type] of [['/status', /^text\/html/], ['/status/status.js', /^text\/javascript/], ['/status/status.css', /^text\/css/]]) {
    const response = await fetch(`${proxy.url}${file}`);
    assert.equal(response.status, 200, file);
    assert.match(response.headers.get('content-type'), type);
  }
  assert.equal((await fetch(`${proxy.url}/status/nothing.js`)).status, 404);
  assert.equal((await fetch(`${proxy.url}/status`, { method: 'POST' })).status, 405);
  const errors = await (await fetch(`${proxy.url}/status/errors`)).json();
  assert.ok(Array.isArray(errors.errors));
  const off = await startProxy(upstreamConfig(mock.url, { server: 'status_page = false' }));
  try {
    const response = await fetch(`${off.url}/status`);
    assert.equal(response.status, 404);
    assert.equal((await response.json()).error.code, 'route_not_found');
  } finally {
    await off.stop();
  }
});
