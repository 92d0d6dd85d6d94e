// A mock OpenAI-compatible upstream on 127.0.0.1. What it does for a request is chosen by the
// request body's "model" (e.g. "stream:5", "error:429", "slow:2000"), so one mock serves every
// test. It records each request it received and when the proxy closed each connection.
import http from 'node:http';
import https from 'node:https';

export function completion(content, model = 'mock-model') {
  return {
    id: 'chatcmpl-mock', object: 'chat.completion', created: 1700000000, model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
  };
}

export function chunk(content, finish = null) {
  return {
    id: 'chatcmpl-mock', object: 'chat.completion.chunk', created: 1700000000, model: 'mock-model',
    choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finish }],
  };
}

const sse = (data) => `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function startSse(res) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': 'mock-stream' });
  res.flushHeaders();
}

const behaviours = {
  // A plain completion.
  json: (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'mock-req-1' });
    res.end(JSON.stringify(completion('mock says hi', req.json.model)));
  },
  // A whole answer with the upstream's own rate-limit headers, as OpenAI sends them.
  'upstream-limits': (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'x-ratelimit-limit-requests': '10000',
      'x-ratelimit-remaining-requests': '9999', 'x-ratelimit-reset-requests': '6ms' });
    res.end(JSON.stringify(completion('mock says hi', req.json.model)));
  },
  // Answers with what the mock received, to check what the proxy forwarded.
  // A whole answer whose content is the model's argument ("say:hello" answers "hello").
  say: (req, res, arg) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(completion(arg ?? '')));
  },
  inspect: (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ...completion('inspected'), received: { url: req.url, headers: req.headers } }));
  },
  // N content events, then [DONE].
  stream: async (req, res, arg) => {
    startSse(res);
    const n = Number(arg || 3);
    for (let i = 0; i < n; i++) res.write(sse(chunk(`w${i} `)));
    res.write(sse(chunk(null, 'stop')));
    res.end(sse('[DONE]'));
  },
  // N content events, then a usage chunk (7 prompt tokens, N completion tokens), then [DONE].
  'stream-usage': async (req, res, arg) => {
    startSse(res);
    const n = Number(arg || 3);
    for (let i = 0; i < n; i++) res.write(sse(chunk(`w${i} `)));
    res.write(sse(chunk(null, 'stop')));
    res.write(sse({ ...chunk(null), choices: [], usage: { prompt_tokens: 7, completion_tokens: n, total_tokens: 7 + n } }));
    res.end(sse('[DONE]'));
  },
  // N events MS apart ("drip:N:MS"), then [DONE]: a stream that lasts.
  drip: async (req, res, arg, _mock, arg2) => {
    startSse(res);
    const n = Number(arg || 10);
    for (let i = 0; i < n; i++) {
      if (res.destroyed) return;
      res.write(sse(chunk(`d${i} `)));
      await sleep(Number(arg2 || 50));
    }
    res.write(sse(chunk(null, 'stop')));
    res.end(sse('[DONE]'));
  },
  // Two events, then waits until the test calls mock.release(), then the rest.
  'hold-stream': async (req, res, _arg, mock) => {
    startSse(res);
    res.write(sse(chunk('first ')));
    res.write(sse(chunk('second ')));
    await mock.released();
    if (res.destroyed) return;
    res.write(sse(chunk('third')));
    res.write(sse(chunk(null, 'stop')));
    res.end(sse('[DONE]'));
  },
  // The same events in awkward pieces: 3 bytes at a time with CRLF line ends, then several
  // events packed into one write.
  'split-stream': async (req, res) => {
    startSse(res);
    const text = [chunk('alpha '), chunk('beta '), chunk('gamma ')]
      .map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`).join('');
    for (let i = 0; i < text.length; i += 3) {
      res.write(text.slice(i, i + 3));
      await sleep(1);
    }
    res.end(sse(chunk('delta')) + sse(chunk(null, 'stop')) + sse('[DONE]'));
  },
  // One event, then the connection dies.
  'cut-stream': async (req, res) => {
    startSse(res);
    res.write(sse(chunk('partial ')));
    await sleep(50);
    res.socket.destroy();
  },
  // A whole answer whose Content-Length promises more than arrives before the connection dies.
  'cut-json': async (req, res) => {
    const text = JSON.stringify(completion('never complete'));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(text.length + 100) });
    res.write(text);
    await sleep(50);
    res.socket.destroy();
  },
  // A whole answer of arg MiB (default 8): more than socket buffers hold.
  big: (req, res, arg) => {
    const content = 'x'.repeat(Number(arg || 8) * 1024 * 1024);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(completion(content, req.json.model)));
  },
  // Never answers until released or the proxy goes away.
  hold: async (req, res, _arg, mock) => {
    await mock.released();
    if (!res.destroyed) behaviours.json(req, res);
  },
  // An upstream error with its own status, body and headers.
  error: (req, res, arg) => {
    const status = Number(arg || 500);
    res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '7', 'x-request-id': 'mock-err' });
    res.end(JSON.stringify({ error: { message: `mock upstream error ${status}`, type: 'mock_error', code: 'mock_code' } }));
  },
  // Answers after a delay (ms).
  slow: async (req, res, arg) => {
    await sleep(Number(arg || 1000));
    if (!res.destroyed) behaviours.json(req, res);
  },
  // An embeddings answer: [0.5, 0.25], as floats or, when asked, as base64 float32 (the openai
  // client asks for that).
  embed: (req, res) => {
    const values = [0.5, 0.25];
    const embedding = req.json.encoding_format === 'base64'
      ? Buffer.from(new Float32Array(values).buffer).toString('base64') : values;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding }], model: 'embed', usage: { prompt_tokens: 1, total_tokens: 1 } }));
  },
};

// One promise per connection: resolves when the proxy (or anyone) closes it.
const closedBySocket = new WeakMap();

export async function startMock({ tls } = {}) {
  let release;
  let releasedPromise = new Promise((resolve) => { release = resolve; });
  const mock = {
    requests: [],
    connections: 0,
    released: () => releasedPromise,
    release: () => release(),
    // Resolves when some request satisfying predicate has been received.
    async waitForRequest(predicate = () => true, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const found = mock.requests.find(predicate);
        if (found) return found;
        await sleep(10);
      }
      throw new Error('the mock upstream received no such request');
    },
  };
  const handler = async (req, res) => {
    let body = '';
    for await (const piece of req) body += piece;
    let json = {};
    try { json = JSON.parse(body); } catch { /* not JSON: recorded as text */ }
    const record = { method: req.method, url: req.url, headers: req.headers, body, json };
    // Resolves when the proxy closes the connection this request came on.
    const socket = req.socket;
    if (!closedBySocket.has(socket)) closedBySocket.set(socket, new Promise((resolve) => socket.once('close', resolve)));
    record.connectionClosed = closedBySocket.get(socket);
    record.responseFinished = false;
    res.on('finish', () => { record.responseFinished = true; });
    mock.requests.push(record);
    const [name, arg, arg2] = String(json.model || 'json').split(':');
    const behaviour = behaviours[name] || behaviours.json;
    try {
      await behaviour({ json, url: req.url, headers: req.headers }, res, arg, mock, arg2);
    } catch (e) {
      if (!res.headersSent) { res.writeHead(500); res.end(String(e)); }
    }
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  server.keepAliveTimeout = 30000;
  server.on('connection', () => { mock.connections++; });
  server.on('secureConnection', () => {});
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  mock.port = server.address().port;
  mock.url = `${tls ? 'https' : 'http'}://127.0.0.1:${mock.port}/v1`;
  mock.close = async () => {
    release();
    server.closeAllConnections?.();
    await new Promise((resolve) => server.close(resolve));
  };
  return mock;
}
