// A fault-injecting upstream on 127.0.0.1, on raw TCP: it reads each HTTP/1.1 request itself and
// answers with exact bytes at exact times, which node's http server cannot: a reset, a FIN in the
// same write as the last data, a cut mid-body, a stall, broken chunking, a giant line, a malformed
// head. The request body's "model" picks the scenario (the table `scenarios` below).
//
// Every connection is recorded: when it opened, bytes received, the requests it carried, who
// closed it first, whether it is still open and whether a scenario is still answering on it, so
// that tests can check that the proxy closed a faulted connection, never reused it, and leaked
// none.
import net from 'node:net';

import { chunk, completion } from './mock_upstream.mjs';

export const ANSWER_TEXT = 'fault says hi';
const FORGED_TEXT = 'forged answer';
// Large enough that the memory a sanitizer adds (ASan: about 1.2 MB here) stays far below a
// quarter of it.
export const GIANT_LINE_BYTES = 16 << 20;
export const HUGE_LENGTH = 250_000_000;  // below the 256 MiB a whole answer may have

const ANSWER = JSON.stringify(completion(ANSWER_TEXT));
const JSON_TYPE = 'Content-Type: application/json';
const SSE_TYPE = 'Content-Type: text/event-stream';
const CHUNKED = 'Transfer-Encoding: chunked';
const LAST_CHUNK = '0\r\n\r\n';
const MAX_REQUEST_HEAD = 64 * 1024;

// A response head: the status line, then header lines exactly as given (duplicates and malformed
// lines included).
const head = (lines, statusLine = 'HTTP/1.1 200 OK') => [statusLine, ...lines, '', ''].join('\r\n');
const length = (body) => `Content-Length: ${Buffer.byteLength(body)}`;
const whole = (body, lines = []) => head([JSON_TYPE, length(body), ...lines]) + body;
const chunked = (...parts) => parts.map((p) => `${Buffer.byteLength(p).toString(16)}\r\n${p}\r\n`).join('');
const event = (data) => `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
const ONE = event(chunk('one '));
const TWO = event(chunk('two '));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Part of a body of the declared length, a pause, then the connection destroyed.
const cutMidBody = (declared) => async (c) => {
  c.send(head([JSON_TYPE, `Content-Length: ${declared}`]) + 'x'.repeat(100));
  await c.pause(50);
  c.cut();
};

// Sends bytes, then holds the connection open until the proxy closes it (or the test releases it).
const sendAndHold = (bytes) => async (c) => {
  c.send(typeof bytes === 'function' ? bytes() : bytes);
  await c.stall();
};

// What the upstream does for a request, by model. `c` is the context of one request (see
// `context` below); c.repeat counts earlier requests of the same model on this connection.
const scenarios = {
  json: (c) => c.send(whole(ANSWER)),
  // The request is read, then a TCP reset.
  'reset-after-request': (c) => c.reset(),
  // Answered the first time on a connection; the next time read, then closed without an answer.
  'fin-on-reuse': (c) => (c.repeat === 0 ? c.send(whole(ANSWER)) : c.finish()),
  'reset-on-reuse': (c) => (c.repeat === 0 ? c.send(whole(ANSWER)) : c.reset()),
  // The whole answer and the FIN in one socket.end().
  'fin-close-length': (c) => c.finish(whole(ANSWER, ['Connection: close'])),
  'fin-until-close': (c) => c.finish(head([JSON_TYPE]) + ANSWER),
  'fin-chunked': async (c) => {
    c.send(head([JSON_TYPE, CHUNKED]) + chunked(ANSWER.slice(0, 10)));
    await c.pause(5);
    c.finish(chunked(ANSWER.slice(10)) + LAST_CHUNK);
  },
  'fin-stream-done': async (c) => {
    c.send(head([SSE_TYPE]) + ONE);
    await c.pause(5);
    c.finish(TWO + event('[DONE]'));
  },
  'fin-short-length': (c) => c.finish(head([JSON_TYPE, `Content-Length: ${ANSWER.length + 100}`]) + ANSWER),
  // Part of the answer, a pause, then the connection destroyed.
  'cut-mid-body': cutMidBody(1000),
  'huge-length': cutMidBody(HUGE_LENGTH),
  'cut-mid-stream': async (c) => {
    c.send(head([SSE_TYPE, CHUNKED]) + chunked(ONE, TWO));
    await c.pause(50);
    c.cut();
  },
  // Silence at each point of an answer.
  'stall-before-head': (c) => c.stall(),
  'stall-after-head': sendAndHold(head([JSON_TYPE, 'Content-Length: 1000'])),
  'stall-mid-stream': sendAndHold(head([SSE_TYPE, CHUNKED]) + chunked(ONE)),
  // Broken chunked framing.
  'chunk-size-not-hex': sendAndHold(head([JSON_TYPE, CHUNKED]) + `zz\r\n${ANSWER}\r\n${LAST_CHUNK}`),
  'chunk-longer-than-size': sendAndHold(head([JSON_TYPE, CHUNKED]) + `5\r\n${ANSWER}\r\n${LAST_CHUNK}`),
  'stream-chunk-size-not-hex': sendAndHold(head([SSE_TYPE, CHUNKED]) + chunked(ONE) + `zz\r\n${TWO}\r\n`),
  // An event line without its newline, far longer than any event.
  'giant-event-line': sendAndHold(() => head([SSE_TYPE]) + 'data: ' + 'x'.repeat(GIANT_LINE_BYTES)),
  'giant-head': sendAndHold(head([JSON_TYPE, length(ANSWER),
    ...Array.from({ length: 80 }, (_, i) => `X-Filler-${i}: ${'y'.repeat(1000)}`)]) + ANSWER),
  // Malformed heads.
  'bare-cr-in-header': sendAndHold(whole(ANSWER, ['X-Bad: safe\rX-Injected: yes'])),
  'header-without-colon': sendAndHold(whole(ANSWER, ['X-No-Colon'])),
  'status-not-http1': sendAndHold(head([JSON_TYPE, length(ANSWER)], 'HTTP/2.0 200 OK') + ANSWER),
  'two-content-lengths': sendAndHold(whole(ANSWER, [`Content-Length: ${ANSWER.length + 1}`])),
  'chunked-with-length': sendAndHold(head([JSON_TYPE, CHUNKED, length(ANSWER)]) + chunked(ANSWER) + LAST_CHUNK),
  // A complete answer with a second, forged one right behind it in the same write.
  'forged-after-answer': (c) => c.send(whole(ANSWER) + whole(JSON.stringify(completion(FORGED_TEXT)))),
  // A header the upstream nominates as hop-by-hop in its Connection header.
  'connection-nominated-header': (c) => c.send(whole(ANSWER, ['Connection: X-Hop', 'X-Hop: secret'])),
};

// Takes one whole request (head, then a Content-Length body) off the front of bytes: returns it
// and the bytes after it, or null while it is incomplete. Throws when the head is too large.
function takeRequest(bytes) {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) {
    if (bytes.length > MAX_REQUEST_HEAD) throw new Error('request head too large');
    return null;
  }
  const [requestLine, ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const [method, path] = requestLine.split(' ');
  const headers = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  const bodyEnd = end + 4 + Number(headers['content-length'] || 0);
  if (bytes.length < bodyEnd) return null;
  const body = bytes.subarray(end + 4, bodyEnd).toString();
  let json = {};
  try { json = JSON.parse(body); } catch { /* not JSON: kept as text */ }
  return { request: { method, path, headers, body, json, model: String(json.model ?? 'json') }, rest: bytes.subarray(bodyEnd) };
}

export async function startFaultUpstream() {
  let release;
  let released;
  const arm = () => { released = new Promise((resolve) => { release = resolve; }); };
  arm();

  const upstream = {
    requests: [],      // every request received (refused ones aside), in order of arrival
    connections: [],   // every connection, in order of opening
    // Ends every stall in progress.
    release() { release(); arm(); },
    open: () => upstream.connections.filter((conn) => conn.open),
  };

  // The context a scenario answers one request with.
  function context(conn, socket, request) {
    const upstreamCloses = () => { conn.closedBy ??= 'upstream'; };
    return {
      request,
      repeat: conn.requests.filter((r) => r.model === request.model).length - 1,
      send: (bytes) => { if (socket.writable) socket.write(bytes); },
      finish: (bytes = '') => { upstreamCloses(); socket.end(bytes); },  // FIN with the last bytes
      cut: () => { upstreamCloses(); socket.destroy(); },                 // FIN, reading nothing more
      reset: () => { upstreamCloses(); socket.resetAndDestroy(); },       // RST
      // Until the test calls release() or the connection closes.
      stall: () => Promise.race([released, conn.closed]),
      pause: sleep,
    };
  }

  async function answer(conn, socket, request) {
    const scenario = scenarios[request.model];
    if (!scenario) {
      socket.write(whole(JSON.stringify({ error: { message: `no fault scenario '${request.model}'`, code: 'no_scenario' } })));
      return;
    }
    conn.busy = true;
    try {
      await scenario(context(conn, socket, request));
    } finally {
      conn.busy = false;
    }
  }

  function track(socket) {
    const conn = {
      id: upstream.connections.length + 1,
      opened: Date.now(),
      bytesReceived: 0,
      requests: [],
      refused: 0,      // requests that arrived after the upstream had closed its side
      closedBy: null,  // 'upstream' or 'proxy': who closed (or reset) the connection first
      open: true,
      busy: false,     // a scenario is answering on it (or holding it open)
      close: () => { conn.closedBy ??= 'upstream'; socket.destroy(); },
    };
    conn.closed = new Promise((resolve) => socket.once('close', () => { conn.open = false; resolve(); }));
    upstream.connections.push(conn);

    let bytes = Buffer.alloc(0);
    let answering = Promise.resolve();
    socket.on('end', () => { conn.closedBy ??= 'proxy'; });
    socket.on('error', () => { conn.closedBy ??= 'proxy'; });  // a reset by the proxy, or writing after it left
    socket.on('data', (data) => {
      conn.bytesReceived += data.length;
      bytes = Buffer.concat([bytes, data]);
      try {
        for (let taken; (taken = takeRequest(bytes)); bytes = taken.rest) {
          // A real server that closed its side would never read this: its kernel answers with RST.
          if (!socket.writable) {
            conn.refused++;
            socket.resetAndDestroy();
            return;
          }
          const request = { ...taken.request, seq: upstream.requests.length, connection: conn };
          upstream.requests.push(request);
          conn.requests.push(request);
          answering = answering.then(() => answer(conn, socket, request));  // in order
        }
      } catch {  // a request head over 64 KiB: not something the proxy sends
        socket.resetAndDestroy();
      }
    });
  }

  const server = net.createServer({ noDelay: true }, track);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream.port = server.address().port;
  upstream.url = `http://127.0.0.1:${upstream.port}/v1`;
  upstream.close = async () => {
    upstream.release();
    for (const conn of upstream.open()) conn.close();
    await new Promise((resolve) => server.close(resolve));
  };
  return upstream;
}
