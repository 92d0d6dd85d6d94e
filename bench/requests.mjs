// Sends COUNT requests one after another on one kept-alive connection and reads each answer
// whole: a fixed amount of work for instruction counting (bench/instructions.sh), not a load test.
//
//   node bench/requests.mjs URL COUNT BODY_FILE
//   BENCH_API_KEY=KEY: also sends "Authorization: Bearer KEY" (bench/access.sh)
import fs from 'node:fs';
import http from 'node:http';

const [url, count, bodyFile] = process.argv.slice(2);
const body = fs.readFileSync(bodyFile);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function once() {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST', agent,
      headers: {
        'content-type': 'application/json', 'content-length': body.length,
        ...(process.env.BENCH_API_KEY ? { authorization: `Bearer ${process.env.BENCH_API_KEY}` } : {}),
      },
    }, (res) => {
      // A stream that ended with an error event did not do the work being counted.
      const stream = String(res.headers['content-type']).startsWith('text/event-stream');
      let tail = '';
      res.on('data', (piece) => { if (stream) tail = (tail + piece).slice(-4096); });
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
        else if (/event: error|data: \{"error"/.test(tail)) reject(new Error(`stream failed: ${tail}`));
        else resolve();
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

for (let i = 0; i < Number(count); i++) await once();
agent.destroy();
