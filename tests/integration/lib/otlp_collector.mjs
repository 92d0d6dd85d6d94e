// A small OpenTelemetry collector on 127.0.0.1 for tests: takes OTLP/HTTP JSON at /v1/traces and
// keeps every span, flattened: { traceId, spanId, parentSpanId, name, kind, status, attributes }
// with attributes as a plain object. `status` sets the HTTP status it answers with.
import http from 'node:http';

export async function startCollector() {
  const collector = { spans: [], posts: 0, status: 200 };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      collector.posts++;
      if (req.method !== 'POST' || req.url !== '/v1/traces'
        || !String(req.headers['content-type']).startsWith('application/json')) {
        res.writeHead(404).end();
        return;
      }
      if (collector.status !== 200) {
        res.writeHead(collector.status).end();
        return;
      }
      const json = JSON.parse(body);
      for (const rs of json.resourceSpans) {
        const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
        for (const ss of rs.scopeSpans) {
          for (const s of ss.spans) {
            const attributes = {};
            for (const a of s.attributes) {
              const v = a.value;
              attributes[a.key] = v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.doubleValue ?? v.boolValue);
            }
            collector.spans.push({ ...s, service, attributes });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  collector.url = `http://127.0.0.1:${server.address().port}/v1/traces`;
  // Resolves with the spans matching pred once there are at least n of them.
  collector.waitFor = async (pred, n = 1, timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = collector.spans.filter(pred);
      if (found.length >= n) return found;
      if (Date.now() > deadline) throw new Error(`only ${found.length} of ${n} spans came:\n${JSON.stringify(collector.spans, null, 1)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  collector.close = () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); });
  return collector;
}
