// Client keys and per-minute limits in integration tests: a keys file of the test's own, made with
// `llm-proxy keys create`, and waiting for a fresh minute of the clock.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { BIN } from './proxy.mjs';

// A keys file in a new temporary directory (prefix names it), and create(id, ...options), which
// makes a key there and returns its secret.
export function temporaryKeysFile(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const file = path.join(dir, 'keys.toml');
  const create = (id, ...args) =>
    execFileSync(BIN, ['keys', 'create', id, '--keys-file', file, ...args], { encoding: 'utf8' }).trim();
  return { dir, file, create };
}

// Counts per minute of the clock: a test counting within one waits for a fresh minute when
// fewer than 15 s of the current one are left.
export async function freshWindow() {
  const left = 60000 - (Date.now() % 60000);
  if (left < 15000) await new Promise((resolve) => setTimeout(resolve, left + 100));
}
