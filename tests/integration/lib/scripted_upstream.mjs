// A mock OpenAI-compatible upstream on 127.0.0.1 whose answers are scripted per attempt, for tests of
// retries, fallback and ejection: fail in a chosen way on the first N attempts of a request, then
// succeed. A request picks its steps with the headers `x-script: 500,429;retry-after=1,ok` and
// `x-script-id: ID` (its k-th attempt with that id gets step k, the last step repeats); without
// `x-script` it gets the next step of `upstream.script`, or else `upstream.otherwise` ('ok'). Every attempt is recorded with its
// arrival time (performance.now()), so tests can check the order and spacing of attempts.
import http from 'node:http';
import { performance } from 'node:perf_hooks';

import { chunk, completion } from './mock_upstream.mjs';

const sse = (data) => `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const PAUSE_MS = 30;

// The first event of a real stream: the role, no content yet.
const roleChunk = () => ({
  ...chunk(''), choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
});

// An OpenAI-style error body for a status.
function errorBody(status, name) {
  const clientError = status >= 400 && status < 500 && status !== 429;
  return {
    error: {
      message: `scripted ${status} from ${name}`,
      type: clientError ? 'invalid_request_error' : 'server_error',
      code: status === 429 ? 'rate_limit_exceeded' : null,
    },
  };
}

const CONTEXT_LENGTH = {
  error: {
    message: 'This model\'s maximum context length is 128 tokens. '
      + 'However, your messages resulted in 500 tokens.',
    type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded',
  },
};

// 'NAME;key=value;...' -> { name, params }.
function parseStep(step) {
  const [name, ...rest] = step.split(';').map((s) => s.trim());
  const params = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    params[eq < 0 ? p : p.slice(0, eq)] = eq < 0 ? '' : p.slice(eq + 1);
  }
  return { name, params };
}

// The parameters each step accepts: any other one is treated as a typo (an unknown step).
const onlyParams = (params, allowed) => Object.keys(params).every((k) => allowed.includes(k));

export async function startScriptedUpstream({ name = 'scripted' } = {}) {
  let release;
  let released;
  const arm = () => { released = new Promise((resolve) => { release = resolve; }); };
  arm();
  const sockets = new Set();

  const upstream = {
    attempts: [],
    script: [],
    otherwise: 'ok',
    attemptsOf: (id) => upstream.attempts.filter((a) => a.id === id),
    // Ends every stall in progress; stalls that start later wait for the next release().
    release() { release(); arm(); },
  };

  const json = (res, status, body, headers = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const startSse = (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
  };
  // The head of a whole answer that will never be complete.
  const startPartialJson = (res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
    res.flushHeaders();
  };
  const send = (res, bytes) => { if (!res.destroyed) res.write(bytes); };
  // Until release() or the connection closes; then the connection is destroyed, so nothing hangs.
  const stall = async (res) => {
    await Promise.race([released, new Promise((resolve) => res.once('close', resolve))]);
    res.socket?.destroy();
  };
  const cut = async (res) => {
    await sleep(PAUSE_MS);
    res.socket?.destroy();
  };

  // The start of an answer: for a stream the head and the role event (and, when withContent, the
  // first content event); otherwise a head promising 1000 bytes (and, when withContent, 10 of them).
  function partial(res, stream, withContent) {
    if (stream) {
      startSse(res);
      send(res, sse(roleChunk()));
      if (withContent) send(res, sse(chunk(`${name} `)));
    } else {
      startPartialJson(res);
      if (withContent) send(res, JSON.stringify(completion(`${name} says hi`)).slice(0, 10));
    }
  }

  function ok(res, attempt) {
    if (res.destroyed) return;
    if (!attempt.stream) return json(res, 200, completion(`${name} says hi`, attempt.model));
    startSse(res);
    for (const event of [roleChunk(), chunk(`${name} `), chunk('says '), chunk('hi'), chunk(null, 'stop')]) {
      send(res, sse(event));
    }
    if (!res.destroyed) res.end(sse('[DONE]'));
  }

  async function act(req, res, attempt) {
    const { name: step, params } = parseStep(attempt.step);
    const none = onlyParams(params, []);
    const { stream } = attempt;
    if (/^[2-5]\d\d$/.test(step) && onlyParams(params, ['retry-after', 'retry-after-ms'])) {
      const headers = {};
      if ('retry-after' in params) headers['retry-after'] = params['retry-after'];
      if ('retry-after-ms' in params) headers['retry-after-ms'] = params['retry-after-ms'];
      return json(res, Number(step), errorBody(Number(step), name), headers);
    }
    if (step === 'ok' && none) return ok(res, attempt);
    // A 500 whose body never finishes: the gateway is still reading it when the client may leave.
    if (step === '500-then-stall' && none) {
      res.writeHead(500, { 'content-type': 'application/json', 'content-length': '1000' });
      send(res, '{"error":');
      return stall(res);
    }
    if (step === 'slow-ok' && onlyParams(params, ['ms']) && /^\d+$/.test(params.ms ?? '')) {
      await sleep(Number(params.ms));
      return ok(res, attempt);
    }
    if (step === 'context-length' && none) return json(res, 400, CONTEXT_LENGTH);
    if (step === 'reset' && none) return req.socket.destroy();
    if (step === 'stall-head' && none) return stall(res);
    if (step === 'stall-first-event' && none) {
      if (stream) startSse(res); else startPartialJson(res);
      return stall(res);
    }
    if (step === 'role-then-stall' && none) { partial(res, stream, false); return stall(res); }
    if (step === 'role-then-cut' && none) { partial(res, stream, false); return cut(res); }
    if (step === 'stall-mid' && none) { partial(res, stream, true); return stall(res); }
    if (step === 'cut-mid' && none) { partial(res, stream, true); return cut(res); }
    // An SSE comment every 50 ms (counted in attempt.pings), 40 of them, then silence: comments
    // are no events, so they must not hold off a timeout for the first event.
    if (step === 'pings-then-stall' && none && stream) {
      startSse(res);
      attempt.pings = 0;
      while (attempt.pings < 40 && !res.destroyed) {
        send(res, ': ping\n\n');
        attempt.pings++;
        await sleep(50);
      }
      return stall(res);
    }
    // One chunk of 20 KB of content, then the end: too large for a small max_event_bytes.
    if (step === 'huge-event' && none && stream) {
      startSse(res);
      send(res, sse(chunk('x'.repeat(20000))));
      return res.end(sse('[DONE]'));
    }
    // Ten chunks of 20 KB with nothing in them, then silence: what a held head must not keep.
    if (step === 'empty-then-stall' && none && stream) {
      startSse(res);
      for (let i = 0; i < 10; i++) send(res, sse({ ...roleChunk(), id: 'x'.repeat(20000) }));
      return stall(res);
    }
    // A typo in a test's script: visible in its failure.
    const message = `unknown script step '${attempt.step}'`;
    return json(res, 599, { error: { message, type: 'scripted', code: null } });
  }

  const server = http.createServer(async (req, res) => {
    const at = performance.now();
    const id = req.headers['x-script-id'] ?? null;
    // The step is chosen on arrival, so that concurrent attempts count in arrival order.
    let step;
    if (req.headers['x-script'] !== undefined) {
      const steps = String(req.headers['x-script']).split(',').map((s) => s.trim());
      const k = id === null ? 0 : upstream.attemptsOf(id).length;
      step = steps[Math.min(k, steps.length - 1)];
    } else {
      step = upstream.script.length ? String(upstream.script.shift()) : upstream.otherwise;
    }
    const attempt = {
      at, id, step, path: req.url, headers: req.headers, json: null, model: null, stream: false,
    };
    upstream.attempts.push(attempt);

    let body = '';
    try {
      for await (const piece of req) body += piece;
    } catch {
      return;  // the client went away mid-body
    }
    try { attempt.json = JSON.parse(body); } catch { /* not JSON: json stays null */ }
    attempt.model = attempt.json?.model ?? null;
    attempt.stream = attempt.json?.stream === true;
    try {
      await act(req, res, attempt);
    } catch (e) {
      if (!res.headersSent && !res.destroyed) json(res, 500, { error: { message: String(e) } });
      else res.socket?.destroy();
    }
  });
  server.keepAliveTimeout = 30000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream.port = server.address().port;
  upstream.url = `http://127.0.0.1:${upstream.port}`;
  upstream.close = async () => {
    upstream.release();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
  return upstream;
}
