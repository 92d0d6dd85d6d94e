// Starts the real llm-proxy binary (LLM_PROXY_BIN, set by ctest) on a config written for the test,
// on a free port of 127.0.0.1, and waits until it says it is listening.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const BIN = process.env.LLM_PROXY_BIN || path.resolve(import.meta.dirname, '../../../build/llm-proxy');
export const FIXTURE_PLUGIN_DIR = process.env.FIXTURE_PLUGIN_DIR ||
  path.resolve(import.meta.dirname, '../../../build/test-fixtures/plugins');

// The plugin ABI version of the SDK headers ("1.2"), which the host and the bundled plugins report.
export const ABI_VERSION = (() => {
  const header = fs.readFileSync(path.resolve(import.meta.dirname, '../../../sdk/include/llm_proxy/abi.h'), 'utf8');
  const number = (name) => header.match(new RegExp(`#define ${name} (\\d+)`))[1];
  return `${number('LP_ABI_MAJOR')}.${number('LP_ABI_MINOR')}`;
})();

export function writeConfig(text) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llm-proxy-test-'));
  const file = path.join(dir, 'config.toml');
  fs.writeFileSync(file, text);
  return file;
}

// Runs llm-proxy to completion (for --check, --help, start-up failures).
export function runProxy(args, env = {}) {
  const result = spawnSync(BIN, args, { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export async function startProxy(configText, { env = {}, args = [], bin = BIN } = {}) {
  const file = writeConfig(configText);
  const child = spawn(bin, ['--config', file, ...args], {
    env: { ...process.env, LLM_PROXY_LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logs = '';
  child.stdout.on('data', (d) => { logs += d; });
  child.stderr.on('data', (d) => { logs += d; });
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`llm-proxy did not start:\n${logs}`)), 15000);
    const check = () => {
      const m = logs.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    };
    child.stderr.on('data', check);
    exited.then((code) => { clearTimeout(timer); reject(new Error(`llm-proxy exited with ${code}:\n${logs}`)); });
  });
  return {
    port,
    pid: child.pid,
    configFile: file,
    // Writes a new configuration over the file and sends SIGHUP; resolves once the log says how
    // the reload ended (true: serving it; false: refused).
    async reload(text) {
      fs.writeFileSync(file, text);
      const outcomes = () => logs.match(/reload: (serving|refused)/g) || [];
      const before = outcomes().length;
      child.kill('SIGHUP');
      const deadline = Date.now() + 10000;
      while (Date.now() < deadline) {
        const ended = outcomes();
        if (ended.length > before) return ended.at(-1) === 'reload: serving';
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error(`no reload result in the log:\n${logs}`);
    },
    url: `http://127.0.0.1:${port}`,
    logs: () => logs,
    // Resolves when the log has a line matching re.
    async waitForLog(re, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const m = logs.match(re);
        if (m) return m;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error(`no log line matches ${re}:\n${logs}`);
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      return code;
    },
  };
}

// A config serving one upstream llm (provider "openai") on the usual paths. extra is appended.
export function upstreamConfig(baseUrl, { server = '', llm = '', route = '', extra = '', readTimeoutMs = 5000 } = {}) {
  return `
[server]
host = "127.0.0.1"
port = 0
${server}

[llm.mock]
provider = "openai"
type = "chat"
base_url = "${baseUrl}"
read_timeout_ms = ${readTimeoutMs}
${llm}

[llm.mock_embed]
provider = "openai"
type = "embedding"
base_url = "${baseUrl}"

[[route]]
path_prefix = "/v1/chat/completions"
target_llm = "mock"
${route}

[[route]]
path_prefix = "/v1/embeddings"
target_llm = "mock_embed"
${extra}
`;
}

// Runs check until it passes (resolves), for at most timeoutMs; then its last failure is thrown.
// For what llm-proxy does just after an answer has gone (counting it, say).
export async function eventually(check, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

export const chatBody = (model, extra = {}) =>
  JSON.stringify({ model, messages: [{ role: 'user', content: 'hello there' }], ...extra });

export async function post(url, body, headers = {}) {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

// Reads an SSE response body and returns the data of each event, in order.
export async function readEvents(response) {
  const text = await response.text();
  return text.split('\n\n').filter((block) => block.trim() !== '').map((block) =>
    block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n'));
}

// A port on 127.0.0.1 that nothing listens on.
export async function closedPort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}
