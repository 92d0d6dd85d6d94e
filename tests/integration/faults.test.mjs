// Wire-level faults of an upstream (lib/fault_upstream.mjs), one test each: what the client gets
// (status, error code, whether the answer is whole, the events of a stream) and what becomes of
// the upstream connection (closed by the proxy when the upstream leaves it open, never reused
// after a fault, none leaked: the proxy's open files do not grow over repeated runs).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { after, before, test } from 'node:test';

import { ANSWER_TEXT, GIANT_LINE_BYTES, HUGE_LENGTH, startFaultUpstream } from './lib/fault_upstream.mjs';
import { chatBody, startProxy, upstreamConfig } from './lib/proxy.mjs';

const MAX_IDLE = 4;            // kept-alive connections per llm
const RUNS = 3;                // each row runs this many times; the proxy's open files must not grow
const CLOSE_GUARD_MS = 5000;   // a guard: how long a connection may take to close
// read_timeout_ms = 60000: a FIN must end these answers, not the read timeout (each exchange is
// abandoned after 7 s). node sends the FIN of socket.end(bytes) in a shutdown() a loop turn after
// the write, so whether it reaches the proxy before the proxy wakes for the data varies from run
// to run (from 1 run in 50 to 1 in 3 here): these rows run 200 times, about 15 ms each.
const PATIENT = { route: '/patient', timeoutMs: 7000, testTimeoutMs: 60000, runs: 200 };
// An llm that keeps no idle connection: every request goes on a fresh one.
const FRESH = { route: '/fresh' };

let upstream;
let proxy;

// One event loop, so that the pool's preference for connections last used on the caller's loop
// always picks the most recently used: a test's next request goes on the connection it just used.
const config = (url, llm = '') => upstreamConfig(url, {
  server: 'worker_threads = 1',
  readTimeoutMs: 1000,
  llm: `max_idle_connections = ${MAX_IDLE}\n${llm}`,
  extra: `
[llm.patient]
provider = "openai"
base_url = "${url}"
read_timeout_ms = 60000
max_idle_connections = ${MAX_IDLE}

[llm.fresh]
provider = "openai"
base_url = "${url}"
read_timeout_ms = 1000
max_idle_connections = 0

[[route]]
path_prefix = "/patient/v1/chat/completions"
target_llm = "patient"

[[route]]
path_prefix = "/fresh/v1/chat/completions"
target_llm = "fresh"
`,
});

before(async () => {
  upstream = await startFaultUpstream();
  proxy = await startProxy(config(upstream.url));
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The proxy's open files, its client connections aside: how many of those the test's HTTP client
// keeps open is the client's business.
function openFiles(pid, port) {
  const clientSockets = new Set(fs.readFileSync(`/proc/${pid}/net/tcp`, 'utf8').split('\n').slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length > 9 && parseInt(fields[1].split(':')[1], 16) === port)
    .map((fields) => `socket:[${fields[9]}]`));
  return fs.readdirSync(`/proc/${pid}/fd`).filter((fd) => {
    try {
      return !clientSockets.has(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      return false;  // closed meanwhile
    }
  }).length;
}

// VmPeak, VmSize, VmHWM, VmRSS of a process, in bytes.
function memory(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))[1]) * 1024;
  return { VmPeak: field('VmPeak'), VmSize: field('VmSize'), VmHWM: field('VmHWM'), VmRSS: field('VmRSS') };
}

// Sends a chat request for model through the proxy and reads the answer to its end (or until it
// fails). Returns what the client saw, and the requests of that model the upstream received.
async function exchange(model, { stream = false, route = '', timeoutMs = 8000, via = proxy } = {}) {
  const mark = upstream.requests.length;
  const seen = { text: '', complete: false };
  try {
    const res = await fetch(`${via.url}${route}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chatBody(model, stream ? { stream: true } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    seen.status = res.status;
    seen.headers = res.headers;
    const decoder = new TextDecoder();
    for await (const piece of res.body) seen.text += decoder.decode(piece, { stream: true });
    seen.complete = true;
  } catch (e) {
    seen.failure = e.cause?.message ?? e.message;
  }
  seen.requests = upstream.requests.slice(mark).filter((r) => r.model === model);
  return seen;
}

const parse = (text) => { try { return JSON.parse(text); } catch { return undefined; } };

// An SSE body as a list: each content event as its text, '[DONE]', and 'error:CODE' for an error.
function eventsOf(text) {
  return text.split('\n\n').filter((block) => block.trim() !== '').map((block) => {
    const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
    const json = parse(data);
    if (json?.error) return `error:${json.error.code}`;
    return json?.choices?.[0]?.delta?.content ?? data;
  });
}

// Waits (bounded) for a connection to close; says who closed it first, or that it is still open.
// A connection still open is then closed, so that the proxy cannot use it for the next test.
async function fate(conn) {
  if (!conn) return 'never opened';
  await Promise.race([conn.closed, sleep(CLOSE_GUARD_MS)]);
  if (!conn.open) return `closed by ${conn.closedBy}`;
  conn.close();
  return 'still open';
}

// What the client saw, with the fields want names: status, complete (the answer ended cleanly),
// received (times the upstream got the request), code and content of a whole answer, events of a
// stream ('error:*' matches an error event of any code), leakedHeaders (headers the upstream sent
// that must not reach the client), connection (the fate of the connection the request went on).
async function expectOutcome(seen, want, note = '') {
  const isStream = (seen.headers?.get('content-type') ?? '').startsWith('text/event-stream');
  const body = isStream ? undefined : parse(seen.text);
  const got = {
    status: seen.status ?? `no answer (${seen.failure})`,
    complete: seen.complete,
    received: seen.requests.length,
    code: body?.error?.code,
    content: body?.choices?.[0]?.message?.content,
    events: isStream ? eventsOf(seen.text) : `not a stream: ${seen.text.slice(0, 200)}`,
    leakedHeaders: ['x-bad', 'x-injected', 'x-hop'].filter((name) => seen.headers?.has(name)),
  };
  if (want.events?.includes('error:*') && Array.isArray(got.events))
    got.events = got.events.map((e) => (e.startsWith('error:') ? 'error:*' : e));
  if ('connection' in want) got.connection = await fate(seen.requests[0]?.connection);
  const picked = Object.fromEntries(Object.keys(want).map((key) => [key, got[key]]));
  assert.deepEqual(picked, want, `${note} failure: ${seen.failure ?? 'none'}; body: ${seen.text.slice(0, 300)}`);
}

// One row per fault: the scenario (the model the fault upstream answers by), the route, and what
// the client must see; received: 1 and complete: true are implied. Each row runs RUNS times
// (PATIENT rows: 200), every other time on a kept-alive connection, where a replay would show.
const rows = [
  { model: 'reset-after-request', ...FRESH, says: 'RST after the request on a fresh connection: 502 upstream_broken, not replayed',
    want: { status: 502, code: 'upstream_broken' } },
  { model: 'fin-close-length', ...PATIENT, says: 'Connection: close and Content-Length, FIN with the last data: the whole answer',
    want: { status: 200, content: ANSWER_TEXT, connection: 'closed by upstream' } },
  { model: 'fin-until-close', ...PATIENT, says: 'a body until close, FIN with the last data: the whole answer',
    want: { status: 200, content: ANSWER_TEXT, connection: 'closed by upstream' } },
  { model: 'fin-chunked', ...PATIENT, says: 'a chunked answer whose last chunk comes with the FIN: the whole answer',
    want: { status: 200, content: ANSWER_TEXT } },
  { model: 'fin-stream-done', ...PATIENT, stream: true, says: 'a stream until close, [DONE] with the FIN: every event, no error after [DONE]',
    want: { status: 200, events: ['one ', 'two ', '[DONE]'], connection: 'closed by upstream' } },
  { model: 'fin-short-length', ...PATIENT, says: 'less than Content-Length, then FIN with the last data: 502 upstream_broken, not 504',
    want: { status: 502, code: 'upstream_broken', connection: 'closed by upstream' } },
  { model: 'cut-mid-body', says: 'a connection destroyed mid-body: 502 upstream_broken',
    want: { status: 502, code: 'upstream_broken' } },
  { model: 'cut-mid-stream', stream: true, says: 'a connection destroyed mid-stream: the events so far, an error event, no [DONE]',
    want: { status: 200, events: ['one ', 'two ', 'error:*'] } },
  { model: 'stall-before-head', says: 'silence before the head: 504 upstream_timeout, the proxy closes the connection',
    want: { status: 504, code: 'upstream_timeout', connection: 'closed by proxy' } },
  { model: 'stall-after-head', says: 'silence after the head: 504 upstream_timeout, the proxy closes the connection',
    want: { status: 504, code: 'upstream_timeout', connection: 'closed by proxy' } },
  { model: 'stall-mid-stream', stream: true, says: 'silence after one event: the event, a timeout error event, the proxy closes the connection',
    want: { status: 200, events: ['one ', 'error:upstream_timeout'], connection: 'closed by proxy' } },
  { model: 'chunk-size-not-hex', says: 'a chunk size that is not hexadecimal: 502 upstream_broken, connection closed',
    want: { status: 502, code: 'upstream_broken', connection: 'closed by proxy' } },
  { model: 'chunk-longer-than-size', says: 'a chunk longer than its size: 502 upstream_broken, connection closed',
    want: { status: 502, code: 'upstream_broken', connection: 'closed by proxy' } },
  { model: 'stream-chunk-size-not-hex', stream: true, says: 'broken chunking mid-stream: the event before it, an error event, connection closed',
    want: { status: 200, events: ['one ', 'error:upstream_broken'], connection: 'closed by proxy' } },
  { model: 'giant-head', says: 'a response head over 64 KiB: 502, connection closed',
    want: { status: 502, connection: 'closed by proxy' } },
  { model: 'bare-cr-in-header', says: 'a bare CR in a header value: 502, the value never reaches the client',
    want: { status: 502, leakedHeaders: [], connection: 'closed by proxy' } },
  { model: 'header-without-colon', says: 'a header line without a colon: 502, connection closed',
    want: { status: 502, connection: 'closed by proxy' } },
  { model: 'status-not-http1', says: 'a status line that is not HTTP/1.x: 502, connection closed',
    want: { status: 502, connection: 'closed by proxy' } },
  { model: 'two-content-lengths', says: 'two different Content-Length values: 502, connection closed',
    want: { status: 502, connection: 'closed by proxy' } },
  { model: 'chunked-with-length', says: 'chunked with a Content-Length: read as chunked, connection not reused',
    want: { status: 200, content: ANSWER_TEXT, connection: 'closed by proxy' } },
  { model: 'connection-nominated-header', says: 'a header the upstream nominates in Connection does not reach the client',
    want: { status: 200, content: ANSWER_TEXT, leakedHeaders: [] } },
];

for (const row of rows) {
  test(`${row.model}: ${row.says}`, { timeout: row.testTimeoutMs ?? 30000 }, async () => {
    const runs = row.runs ?? RUNS;
    let files;
    for (let run = 1; run <= runs; run++) {
      // Every other run goes on a connection kept alive from an answer just before.
      const keptAlive = run % 2 === 0 && row.route !== FRESH.route;
      if (keptAlive) await expectOutcome(await exchange('json', { ...row, stream: false }), { status: 200, received: 1 });
      const seen = await exchange(row.model, row);
      const note = `run ${run} (${keptAlive ? 'kept-alive' : 'new'} connection):`;
      if (keptAlive) assert.ok(seen.requests[0]?.connection.requests.length > 1, `${note} the request went on a new connection`);
      await expectOutcome(seen, { received: 1, complete: true, ...row.want }, note);
      if (run === 1) files = openFiles(proxy.pid, proxy.port);
    }
    const now = openFiles(proxy.pid, proxy.port);
    assert.ok(now <= files, `the proxy's open files grew from ${files} to ${now} over ${runs - 1} more runs`);
  });
}

for (const [model, how] of [['fin-on-reuse', 'FIN'], ['reset-on-reuse', 'RST']]) {
  test(`a kept-alive connection closed (${how}) after the upstream read the next request: 502 upstream_broken, not replayed`, async () => {
    const first = await exchange(model);
    await expectOutcome(first, { status: 200, content: ANSWER_TEXT, received: 1 });
    const second = await exchange(model);
    assert.equal(second.requests[0]?.connection, first.requests[0].connection,
      'the second request went on the kept-alive connection');
    await expectOutcome(second, { status: 502, code: 'upstream_broken', received: 1, complete: true, connection: 'closed by upstream' });
  });
}

test('a kept-alive connection the upstream closed while idle is not used: the next request is served on another', async () => {
  const first = await exchange('json');
  await expectOutcome(first, { status: 200, content: ANSWER_TEXT, received: 1 });
  const idle = first.requests[0].connection;
  idle.close();
  await idle.closed;
  const second = await exchange('json');
  await expectOutcome(second, { status: 200, content: ANSWER_TEXT, received: 1, complete: true });
  assert.notEqual(second.requests[0].connection, idle);
});

test('bytes after a complete answer: the client gets its answer, the next request its own on a new connection', async () => {
  const first = await exchange('forged-after-answer');
  await expectOutcome(first, { status: 200, content: ANSWER_TEXT, received: 1, complete: true });
  const second = await exchange('json');
  await expectOutcome(second, { status: 200, content: ANSWER_TEXT, received: 1, complete: true });
  assert.notEqual(second.requests[0].connection, first.requests[0].connection, 'the connection was reused');
  await expectOutcome(first, { connection: 'closed by proxy' });
});

test('a header the client nominates in Connection is not forwarded upstream', async () => {
  const mark = upstream.requests.length;
  const status = await new Promise((resolve, reject) => {
    const req = http.request(`${proxy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', connection: 'X-Foo', 'x-foo': 'secret' },
    }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('error', reject);
    req.end(chatBody('json'));
  });
  assert.equal(status, 200);
  const [seen] = upstream.requests.slice(mark);
  assert.equal(seen.headers['x-foo'], undefined, 'X-Foo reached the upstream');
});

// Runs fn with a proxy of its own (the main config, plus llm settings), whose memory figures no
// other test has moved.
async function withOwnProxy(llm, fn) {
  const own = await startProxy(config(upstream.url, llm));
  try {
    await expectOutcome(await exchange('json', { via: own }), { status: 200, received: 1 });
    await fn(own);
  } finally {
    await own.stop();
  }
}

test('a huge Content-Length, 100 bytes, then a close: 502, and the proxy reserves nothing near that size', () =>
  withOwnProxy('', async (own) => {
    const before = memory(own.pid);
    const seen = await exchange('huge-length', { via: own });
    await expectOutcome(seen, { status: 502, code: 'upstream_broken', received: 1, complete: true });
    // Peaks: what was reserved (VmPeak) or touched (VmHWM) meanwhile, even if freed since.
    const after = memory(own.pid);
    const reserved = after.VmPeak - before.VmPeak;
    const touched = after.VmHWM - before.VmHWM;
    assert.ok(reserved < HUGE_LENGTH / 2, `the proxy's peak virtual size grew by ${reserved} bytes`);
    assert.ok(touched < HUGE_LENGTH / 16, `the proxy's peak resident size grew by ${touched} bytes`);
  }));

test('a giant SSE line ends the stream with upstream_event_too_large; memory stays far below the line', () =>
  withOwnProxy('max_event_bytes = 65536', async (own) => {
    const before = memory(own.pid);
    const seen = await exchange('giant-event-line', { stream: true, via: own });
    await expectOutcome(seen, { status: 200, complete: true, received: 1,
      events: ['error:upstream_event_too_large'], connection: 'closed by proxy' });
    const growth = memory(own.pid).VmHWM - before.VmHWM;
    assert.ok(growth < GIANT_LINE_BYTES / 4, `the proxy's peak resident size grew by ${growth} bytes`);
  }));

test('at the end, the upstream connections still open are idle ones the proxy may keep', () => {
  const open = upstream.open();
  assert.deepEqual(open.filter((conn) => conn.busy).map((conn) => conn.requests.at(-1).model), [],
    'connections left with an answer in progress');
  assert.ok(open.length <= 2 * MAX_IDLE, `${open.length} upstream connections are open`);
});
