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
let otherNameMock;
let proxy;

// A self-signed certificate (its own issuer, so trusted through ca_file) for the given names.
function makeCertificate(dir, name, subjectAltName) {
  const certFile = path.join(dir, `${name}.pem`);
  const keyFile = path.join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
    '-subj', `/CN=${name}`, '-addext', `subjectAltName=${subjectAltName}`,
    '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  return { certFile, tls: { key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile) } };
}

before(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llm-proxy-tls-'));
  const own = makeCertificate(dir, '127.0.0.1', 'IP:127.0.0.1,DNS:localhost');
  const other = makeCertificate(dir, 'upstream.example', 'DNS:upstream.example');
  mock = await startMock({ tls: own.tls });
  otherNameMock = await startMock({ tls: other.tls });
  proxy = await startProxy(upstreamConfig(mock.url, {
    llm: `ca_file = "${own.certFile}"`,
    extra: `
[llm.untrusted]
provider = "openai"
base_url = "${mock.url}"

[[route]]
path_prefix = "/untrusted/v1/chat/completions"
target_llm = "untrusted"

[llm.other_name]
provider = "openai"
base_url = "${otherNameMock.url}"
ca_file = "${other.certFile}"

[[route]]
path_prefix = "/other-name/v1/chat/completions"
target_llm = "other_name"
`,
  }));
});

after(async () => {
  await proxy?.stop();
  await mock?.close();
  await otherNameMock?.close();
});

test('an upstream whose certificate is not trusted is refused with 502', async () => {
  const res = await post(`${proxy.url}/untrusted/v1/chat/completions`, chatBody('json'));
  assert.equal(res.status, 502);
  const { error } = await res.json();
  assert.equal(error.code, 'upstream_unreachable');
  assert.match(error.message, /certificate/i);
  assert.equal(mock.requests.length, 0, 'nothing may be sent over an unverified connection');
});

test('a trusted certificate issued for another host is refused, loopback included', async () => {
  const res = await post(`${proxy.url}/other-name/v1/chat/completions`, chatBody('json'));
  assert.equal(res.status, 502);
  const { error } = await res.json();
  assert.equal(error.code, 'upstream_unreachable');
  assert.match(error.message, /certificate was refused: IP address mismatch/);
  assert.equal(otherNameMock.requests.length, 0, 'nothing may be sent to the wrong host');
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
