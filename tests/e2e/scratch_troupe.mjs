// What the end-to-end tests of troupe as an MCP client share: the built `troupe` on a scratch
// HOME (its own config, data and runtime directories, its daemon autostarted by the CLI), the
// offline scripted model's tasks and their transcripts, and helper servers that print the port
// they bound. Only node's own modules here, so any test folder can import it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export class ScratchTroupe {
  // `prefix` names the temporary directory; `extraEnv` is added to every troupe command's env.
  constructor(prefix, extraEnv = {}) {
    this.binary = process.env.TROUPE_BINARY;
    assert.ok(this.binary, 'TROUPE_BINARY is not set');
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    this.home = path.join(this.root, 'home');
    this.data = path.join(this.root, 'data');
    this.work = path.join(this.root, 'work');
    for (const d of [this.home, this.data, this.work, path.join(this.home, '.config', 'troupe')]) {
      fs.mkdirSync(d, { recursive: true });
    }
    this.env = {
      PATH: process.env.PATH, HOME: this.home, XDG_CONFIG_HOME: path.join(this.home, '.config'),
      XDG_RUNTIME_DIR: path.join(this.root, 'run'), TROUPE_DATA_DIR: this.data, LANG: 'C.UTF-8',
      ...extraEnv,
    };
    fs.mkdirSync(this.env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
  }

  get configFile() { return path.join(this.home, '.config/troupe/troupe.jsonc'); }
  writeConfig(config) { fs.writeFileSync(this.configFile, JSON.stringify(config, null, 2)); }

  // `troupe <args>` in the scratch workspace; `envOverride` replaces variables for this call.
  run(args, { envOverride = {}, timeout = 120000 } = {}) {
    return spawnSync(this.binary, args, { env: { ...this.env, ...envOverride }, cwd: this.work,
                                          encoding: 'utf8', timeout });
  }

  // Runs one task of `agent` to its end and returns its JSON.
  runTask(prompt, agent = 'explore') {
    const r = this.run(['run', '--agent', agent, '--wait', '--json', prompt]);
    assert.ok(r.stdout, `troupe run printed nothing; stderr: ${r.stderr}`);
    const out = JSON.parse(r.stdout);
    return out.task ?? out;
  }

  // Launches a task without waiting; its id.
  launch(prompt, agent = 'explore') {
    const r = this.run(['run', '--agent', agent, '--json', prompt]);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    return (out.task ?? out).id;
  }

  // The task's whole transcript, and what its tools answered (what the model saw).
  messages(id) {
    const r = this.run(['output', id, '--full', '--json']);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout).messages;
  }
  toolResults(id) {
    return this.messages(id).filter((m) => m.role === 'tool').map((m) => m.message);
  }

  // Stops the daemon and removes every scratch file.
  cleanup() {
    this.run(['stop'], { timeout: 30000 });
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

// Starts `command args` and resolves once its stdout matched `pattern` (whose first group is the
// port it listens on): { child, port }. Rejects if it exits first.
export function spawnListening(command, args, { pattern, cwd, env } = {}) {
  const child = spawn(command, args, { cwd, env: env ?? process.env,
                                       stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (b) => {
      out += b;
      const m = out.match(pattern);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on('exit', (code) => reject(new Error(`${path.basename(args[0] ?? command)} exited ${code} ` +
                                                `before it listened`)));
  });
}

// Waits up to `ms` for `condition()`; false if it never held.
export async function eventually(condition, ms = 10000) {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) return false;
    await new Promise((res) => setTimeout(res, 50));
  }
  return true;
}

// True once process `pid` is gone (within `ms`).
export function processGone(pid, ms = 10000) {
  return eventually(() => {
    try { process.kill(pid, 0); return false; } catch { return true; }
  }, ms);
}
