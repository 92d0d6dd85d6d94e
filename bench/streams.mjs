// Opens N streaming chat requests against URL, all at once or spread evenly over RAMP_MS, and
// reports, for all of them: how many completed with every event and [DONE], the time to first
// event (p50, p99) and errors.
//   node streams.mjs URL N EVENTS [RAMP_MS, default 0: all at once]
import http from 'node:http';

const [url, count, events] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const rampMs = Number(process.argv[5] ?? 0);
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
const body = JSON.stringify({ model: 'bench', stream: true, messages: [{ role: 'user', content: 'stream please' }] });

function one() {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    let first = null;
    let text = '';
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        if (first === null && chunk.includes('data: ')) first = Number(process.hrtime.bigint() - started) / 1e6;
        text += chunk;
      });
      res.on('end', () => {
        const data = text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6));
        const complete = res.statusCode === 200 && data.length === events + 1 && data.at(-1) === '[DONE]';
        resolve({ complete, first, error: complete ? null : `status ${res.statusCode}, ${data.length} events` });
      });
    });
    req.on('error', (e) => resolve({ complete: false, first, error: e.message }));
    req.setTimeout(120000, () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

// Starts stream i at i * rampMs / count (in 5 ms steps).
async function all() {
  const started = [];
  const t0 = Date.now();
  while (started.length < count) {
    const due = rampMs > 0 ? Math.min(count, Math.floor(((Date.now() - t0) / rampMs) * count) + 1) : count;
    while (started.length < due) started.push(one());
    if (started.length < count) await new Promise((r) => setTimeout(r, 5));
  }
  return Promise.all(started);
}

const results = await all();
const firsts = results.map((r) => r.first).filter((f) => f !== null).sort((a, b) => a - b);
const at = (q) => firsts[Math.min(firsts.length - 1, Math.floor(q * firsts.length))];
const errors = results.filter((r) => !r.complete);
console.log(JSON.stringify({
  complete: results.length - errors.length, total: results.length,
  ttfe_p50_ms: at(0.5), ttfe_p99_ms: at(0.99),
  first_error: errors[0]?.error ?? null,
}));
