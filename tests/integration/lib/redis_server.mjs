// A real redis-server (the Debian package's /usr/bin/redis-server, or REDIS_SERVER) on a free port
// of 127.0.0.1, in a temp dir of its own and with no persistence, for the tests of state that
// llm-proxy replicas share. It can be stopped and started again on the same port (empty, as a
// restarted Redis without persistence is), paused (SIGSTOP: the kernel still accepts connections,
// but nothing is answered) and resumed, and runs a command over RESP. Every wait is bounded.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const REDIS_SERVER = process.env.REDIS_SERVER || '/usr/bin/redis-server';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// An error reply (-ERR ..., -NOSCRIPT ...).
export class RedisError extends Error {}

// A command as RESP: an array of bulk strings.
function encode(args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.from(String(arg));
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

// One RESP2 reply from buf at offset at: { value, next }, or null when it has not all arrived.
// Simple strings and bulk strings are strings, integers numbers, nil null, errors RedisErrors.
export function parseReply(buf, at = 0) {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return null;
  const line = buf.toString('utf8', at + 1, eol);
  const next = eol + 2;
  switch (String.fromCharCode(buf[at])) {
    case '+': return { value: line, next };
    case '-': return { value: new RedisError(line), next };
    case ':': return { value: Number(line), next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, next };
      if (buf.length < next + length + 2) return null;
      return { value: buf.toString('utf8', next, next + length), next: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, next };
      const items = [];
      let at2 = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, at2);
        if (!item) return null;
        items.push(item.value);
        at2 = item.next;
      }
      return { value: items, next: at2 };
    }
    default:
      throw new Error(`not a RESP reply: ${JSON.stringify(buf.toString('utf8', at, Math.min(buf.length, at + 80)))}`);
  }
}

// Runs one command on a connection of its own; resolves with its reply, rejects with a RedisError
// for an error reply, or when no reply has come within timeoutMs.
export function redisCommand(port, args, { timeoutMs = 2000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    const done = (error, value) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error); else resolve(value);
    };
    const timer = setTimeout(() => done(new Error(`redis ${args[0]}: no reply within ${timeoutMs} ms`)), timeoutMs);
    socket.on('connect', () => socket.write(encode(args)));
    socket.on('data', (data) => {
      received = Buffer.concat([received, data]);
      let reply;
      try { reply = parseReply(received); } catch (e) { done(e); return; }
      if (reply) reply.value instanceof RedisError ? done(reply.value) : done(null, reply.value);
    });
    socket.on('error', (e) => done(e));
    socket.on('close', () => done(new Error(`redis ${args[0]}: connection closed before a reply`)));
  });
}

// A port on 127.0.0.1 that nothing listens on (for now).
async function freePort() {
  const server = net.createServer();
  await new Promise((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve); });
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// Starts a redis-server and resolves once it answers PING (itself, not another on the port).
// port: a given one (default: a free one).
export async function startRedis({ port, bin = REDIS_SERVER, startTimeoutMs = 10000 } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llm-proxy-redis-'));
  let child = null;
  let exited = null;
  let paused = false;
  let logs = '';
  const killOnExit = () => child?.kill('SIGKILL');
  process.once('exit', killOnExit);

  const redis = {
    port: port ?? await freePort(),
    dir,
    get url() { return `redis://127.0.0.1:${redis.port}`; },
    get running() { return child !== null; },
    logs: () => logs,

    // Starts it (again, on the same port: a restarted Redis is empty) and waits until it answers.
    async start() {
      if (child) throw new Error('redis-server is already running');
      const started = spawn(bin, [
        '--port', String(redis.port), '--bind', '127.0.0.1',
        '--save', '', '--appendonly', 'no', '--dir', dir,
        '--daemonize', 'no', '--logfile', '',
      ], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = started;
      paused = false;
      started.stdout.on('data', (d) => { logs += d; });
      started.stderr.on('data', (d) => { logs += d; });
      exited = new Promise((resolve) => {
        const gone = (how) => { if (child === started) child = null; resolve(how); };
        started.once('exit', (code, signal) => gone(code ?? signal));
        // Not started at all (no such file, say): no exit event follows.
        started.once('error', (e) => { logs += `${bin}: ${e.message}\n`; if (started.pid === undefined) gone(e.code); });
      });
      const deadline = Date.now() + startTimeoutMs;
      for (;;) {
        if (child !== started) throw new Error(`redis-server exited at start:\n${logs}`);
        try {
          // Answered by this process (not by another on the port, which this one then fails to bind).
          const info = await redisCommand(redis.port, ['INFO', 'server'], { timeoutMs: 500 });
          if (info.match(/^process_id:(\d+)/m)?.[1] === String(started.pid) &&
              await redisCommand(redis.port, ['PING'], { timeoutMs: 500 }) === 'PONG') return;
        } catch { /* not listening yet, or still loading */ }
        if (Date.now() > deadline) {
          await redis.stop();
          throw new Error(`redis-server did not answer PING on port ${redis.port} within ${startTimeoutMs} ms:\n${logs}`);
        }
        await sleep(20);
      }
    },

    // Stops it (SIGTERM; SIGKILL if it has not exited within timeoutMs) and waits for its exit.
    async stop({ signal = 'SIGTERM', timeoutMs = 10000 } = {}) {
      if (!child) return;
      const stopping = child;
      const done = exited;
      if (paused) { stopping.kill('SIGCONT'); paused = false; }
      stopping.kill(signal);
      let timer;
      const late = new Promise((resolve) => { timer = setTimeout(() => resolve('late'), timeoutMs); });
      if (await Promise.race([done, late]) === 'late') {
        stopping.kill('SIGKILL');
        await done;
      }
      clearTimeout(timer);
    },

    // SIGSTOP: it keeps its port (connections are still accepted by the kernel) but answers
    // nothing until resume().
    pause() {
      if (!child) throw new Error('redis-server is not running');
      child.kill('SIGSTOP');
      paused = true;
    },
    resume() {
      if (child && paused) child.kill('SIGCONT');
      paused = false;
    },

    // Runs one command: redis.command('FLUSHALL'), redis.command('KEYS', '*').
    command: (...args) => redisCommand(redis.port, args),

    // Stops it for good and removes its dir.
    async close() {
      await redis.stop();
      process.removeListener('exit', killOnExit);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await redis.start();
  } catch (e) {
    process.removeListener('exit', killOnExit);
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return redis;
}
