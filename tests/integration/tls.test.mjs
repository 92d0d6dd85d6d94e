// HTTPS upstreams: certificates are verified by default, and ca_file trusts a private CA.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { startMock } from './lib/mock_upstream.mjs';
import { chatBody, post, readEvents, startProxy, upstreamConfig } from './lib/proxy.mjs';

let mock;
let proxy;
let certFile;

before(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llm-proxy-tls-'));
  certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  mock = await startMock({ tls: { key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile) } });
  proxy = await startProxy(upstreamConfig(mock.url, {
    llm: `ca_file = "${certFile}"`,
    extra: `
[llm.untrusted]
provider = "openai"
base_url = "${mock.url}"

[[route]]
path_prefix = "/untrusted/v1/chat/completions"
target_llm = "untrusted"
`,
  }));
});

after(async () => {
  await proxy?.stop();
  await mock?.close();
});

test('an upstream whose certificate is not trusted is refused with 502', async () => {
  const res = await post(`${proxy.url}/untrusted/v1/chat/completions`, chatBody('json'));
  assert.equal(res.status, 502);
  const { error } = await res.json();
  assert.equal(error.code, 'upstream_unreachable');
  assert.match(error.message, /certificate/i);
  assert.equal(mock.requests.length, 0, 'nothing may be sent over an unverified connection');
});

test('with ca_file the HTTPS upstream serves whole answers and streams', async () => {
  let res = await post(`${proxy.url}/v1/chat/completions`, chatBody('json'));
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal((await res.json()).choices[0].message.content, 'mock says hi');
  res = await post(`${proxy.url}/v1/chat/completions`, chatBody('stream:3', { stream: true }));
  const events = await readEvents(res);
  assert.equal(events.length, 5);
  assert.equal(events.at(-1), '[DONE]');
});
