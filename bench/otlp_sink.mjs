// A collector for bench/observability.sh: takes OTLP/HTTP posts on 127.0.0.1:PORT and answers
// 200 without reading them into anything. Usage: node bench/otlp_sink.mjs PORT
import http from 'node:http';

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
});
server.listen(Number(process.argv[2]), '127.0.0.1');
