// Sends COUNT requests one after another on one kept-alive connection and reads each answer
// whole: a fixed amount of work for instruction counting (bench/instructions.sh), not a load test.
//
//   node bench/requests.mjs URL COUNT BODY_FILE
import fs from 'node:fs';
import http from 'node:http';

const [url, count, bodyFile] = process.argv.slice(2);
const body = fs.readFileSync(bodyFile);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function once() {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': body.length },
    }, (res) => {
      res.on('data', () => {});
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

for (let i = 0; i < Number(count); i++) await once();
agent.destroy();
