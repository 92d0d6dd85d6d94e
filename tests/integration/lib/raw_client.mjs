// A raw HTTP/1.x client for tests that must control every byte a client sends (malformed heads,
// smuggling shapes, slow senders), and a parser of the answers that come back.
import assert from 'node:assert/strict';
import net from 'node:net';

// Connects to port on 127.0.0.1, sends the chunks (written one by one, a tick apart) and collects
// what comes back until the proxy closes the connection, or until `until(text)` holds.
export function exchangeWith(port, chunks, { until = null, timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const done = () => { socket.destroy(); resolve(text); };
    socket.on('connect', async () => {
      for (const chunk of chunks) {
        socket.write(chunk);
        await new Promise((r) => setTimeout(r, 5));
      }
    });
    socket.on('data', (d) => { text += d; if (until && until(text)) done(); });
    socket.on('end', done);
    socket.on('error', (e) => (text ? done() : reject(e)));
    socket.setTimeout(timeoutMs, () => { socket.destroy(); reject(new Error(`no complete answer; got:\n${text}`)); });
  });
}

// The answers in text, each as { status, headers, body } (Content-Length or chunked framing).
export function parseAnswers(text) {
  const answers = [];
  let rest = Buffer.from(text);
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    assert.ok(end >= 0, `an answer without a complete head: ${rest}`);
    const [statusLine, ...lines] = rest.subarray(0, end).toString().split('\r\n');
    const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    rest = rest.subarray(end + 4);
    let body = '';
    if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const lineEnd = rest.indexOf('\r\n');
        const size = parseInt(rest.subarray(0, lineEnd).toString(), 16);
        body += rest.subarray(lineEnd + 2, lineEnd + 2 + size).toString();
        rest = rest.subarray(lineEnd + 2 + size + 2);
        if (size === 0) break;
      }
    } else {
      const length = Number(headers['content-length'] ?? rest.length);
      body = rest.subarray(0, length).toString();
      rest = rest.subarray(length);
    }
    answers.push({ statusLine, status: Number(statusLine.split(' ')[1]), headers, body });
  }
  return answers;
}


// Whether text holds one whole answer framed by its Content-Length (for `until`).
export function answerComplete(text) {
  const end = text.indexOf('\r\n\r\n');
  const length = text.slice(0, end).match(/\r\ncontent-length: (\d+)/i);
  return end >= 0 && length !== null && Buffer.byteLength(text) >= end + 4 + Number(length[1]);
}
