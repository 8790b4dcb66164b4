// A user's machine in a scratch directory, for running real AI clients against the built troupe:
// a HOME with troupe's user config (the scripted mock model as default) and nothing else, the
// default data directory under it (~/.local/share/troupe, so `troupe mcp` autostarts the daemon
// the way it does for a user), an existing XDG_RUNTIME_DIR as every systemd login session has,
// and a project directory to work in. Clients run with a minimal environment (HOME, PATH,
// XDG_RUNTIME_DIR and what the client needs), as `env -i` would give them.
//
// Every process started here is stopped: clients in their own process group (so what they
// spawned goes too), daemons through the lock file; on success, failure, a signal, and at the
// test's own deadline (TROUPE_E2E_DEADLINE_MS), which is below the ctest TIMEOUT.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { alive, waitUntil } from '../mcp/harness.mjs';

export { waitUntil };

export { sleep };

// troupe's user config: the scripted mock model, answering at once. Explicit, so that a daemon
// started from a client's environment (which may hold ANTHROPIC_API_KEY=dummy) never picks a
// real provider.
export const TROUPE_CONFIG = `{
  // written by tests/e2e/clients: the scripted mock model
  "default_model": "mock/scripted",
  "providers": { "mock": { "type": "mock", "script": "latency=0 tps=0" } },
}
`;

// The troupe binary under test ($TROUPE_BINARY, set by run_test.mjs).
export function troupeBinary() {
  const binary = process.env.TROUPE_BINARY;
  if (!binary || !fs.existsSync(binary)) {
    console.error(`TROUPE_BINARY must name the built troupe binary (got ${binary ?? 'nothing'})`);
    process.exit(2);
  }
  return path.resolve(binary);
}

// A file of this folder's node_modules.
export function modulePath(relative) {
  return new URL(`node_modules/${relative}`, import.meta.url).pathname;
}

export class UserMachine {
  constructor(name) {
    this.binary = troupeBinary();
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), `troupe-client-e2e-${name}-`));
    this.home = path.join(this.root, 'home');
    this.runtimeDir = path.join(this.root, 'run');
    this.project = path.join(this.root, 'project');
    this.dataDir = path.join(this.home, '.local', 'share', 'troupe');  // troupe's default
    fs.mkdirSync(path.join(this.home, '.config', 'troupe'), { recursive: true });
    fs.mkdirSync(this.runtimeDir, { mode: 0o700 });
    fs.mkdirSync(this.project);
    fs.writeFileSync(path.join(this.home, '.config', 'troupe', 'troupe.jsonc'), TROUPE_CONFIG);
    fs.writeFileSync(path.join(this.project, 'README.md'), '# a project\n');
    this.groups = new Set();  // process group ids of the clients we started
    this.children = new Set();
    this.daemonPids = new Set();
    this.logs = [];  // [label, text or file] shown on failure
    this.cleanedUp = false;
    this.#installGuards();
  }

  // What a client started by `env -i HOME=… PATH=… XDG_RUNTIME_DIR=…` has, plus `extra`. PATH
  // holds this node (Node clients' `#!/usr/bin/env node`) and the system directories.
  env(extra = {}) {
    return {
      HOME: this.home,
      PATH: `${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
      XDG_RUNTIME_DIR: this.runtimeDir,
      ...extra,
    };
  }

  // Runs `command args…` to its end in its own process group, with `env` (default: env()),
  // `input` on stdin. Past `timeoutMs` the whole group is killed and the result says so.
  // Resolves {code, signal, stdout, stderr, ms, timedOut}.
  async run(label, command, args, { env, cwd = this.project, input = '', timeoutMs = 60_000 } = {}) {
    const started = Date.now();
    const child = spawn(command, args, { cwd, env: env ?? this.env(), detached: true,
                                         stdio: ['pipe', 'pipe', 'pipe'] });
    this.#track(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    child.stdin.on('error', () => {});  // a client that never reads stdin
    child.stdin.end(input);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.#killGroup(child.pid, 'SIGKILL');
    }, timeoutMs);
    const [code, signal] = await Promise.race([
      once(child, 'exit'),
      once(child, 'error').then(([e]) => { throw new Error(`${label}: cannot run ${command}: ${e.message}`); }),
    ]);
    clearTimeout(timer);
    // What the client left running in its group (an MCP server it did not stop) goes too.
    this.#killGroup(child.pid, 'SIGTERM');
    const ms = Date.now() - started;
    this.logs.push([`${label} stdout`, stdout], [`${label} stderr`, stderr]);
    return { code, signal, stdout, stderr, ms, timedOut };
  }

  // Starts a long-running troupe command (`serve`, `mock-llm`) in the foreground, output to
  // files. Tracked: stopped by cleanupSync().
  spawnTroupe(label, args, env = this.env()) {
    const out = path.join(this.root, `${label}.out`);
    const err = path.join(this.root, `${label}.err`);
    const fds = [fs.openSync(out, 'w'), fs.openSync(err, 'w')];
    const child = spawn(this.binary, args, { cwd: this.project, env, stdio: ['ignore', ...fds] });
    for (const fd of fds) fs.closeSync(fd);
    this.logs.push([`${label} stdout`, { file: out }], [`${label} stderr`, { file: err }]);
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  // `troupe mock-llm` on a kernel-chosen port, keeping each request's conversation in its log
  // (or what `logFlags` ask for). Resolves {url, port, requests()} once it listens; requests() is
  // GET /v1/mock/requests.
  async startMockLlm(logFlags = ['--log-conversations']) {
    const portFile = path.join(this.root, 'mock-llm.port');
    const child = this.spawnTroupe('mock-llm', ['mock-llm', ...logFlags, '--port-file', portFile]);
    let exited = null;
    child.once('exit', (code) => { exited = code; });
    const port = await waitUntil(() => {
      if (exited !== null) throw new Error(`troupe mock-llm exited (${exited}) before it listened`);
      try {
        return Number(fs.readFileSync(portFile, 'utf8').trim()) || null;
      } catch {
        return null;
      }
    }, 20_000, 'troupe mock-llm to write its port file');
    const url = `http://127.0.0.1:${port}`;
    const requests = async () => {
      const r = await fetch(`${url}/v1/mock/requests`);
      if (!r.ok) throw new Error(`GET ${url}/v1/mock/requests: ${r.status}`);
      return r.json();
    };
    return { url, port, requests };
  }

  // `troupe serve` in the foreground with its own data dir and a loopback TCP listener on a
  // kernel-chosen port. Resolves {port, token, url} once GET /v1/health answers over TCP.
  async startServe(label = 'serve') {
    const dataDir = path.join(this.root, `${label}-data`);
    const child = this.spawnTroupe(label, ['serve', '--data-dir', dataDir, '--workspace',
                                           this.project, '--listen', '127.0.0.1:0']);
    this.daemonPids.add(child.pid);
    let exited = null;
    child.once('exit', (code) => { exited = code; });
    const lockFile = path.join(dataDir, 'troupe.lock');
    const lock = await waitUntil(() => {
      if (exited !== null) throw new Error(`troupe serve exited (${exited}) before it listened`);
      const l = readJson(lockFile);
      return l && l.tcp_port > 0 && l.pid === child.pid ? l : null;
    }, 20_000, 'troupe serve to publish its TCP port in troupe.lock');
    const token = fs.readFileSync(path.join(dataDir, 'token'), 'utf8').trim();
    const url = `http://127.0.0.1:${lock.tcp_port}`;
    await waitUntil(async () => {
      try {
        return (await fetch(`${url}/v1/health`, { headers: { Authorization: `Bearer ${token}` } })).ok;
      } catch {
        return false;
      }
    }, 20_000, `GET ${url}/v1/health`);
    return { port: lock.tcp_port, token, url };
  }

  // The lock file of the daemon in the default data dir ({pid, socket, …}), or null.
  lock() {
    const lock = readJson(path.join(this.dataDir, 'troupe.lock'));
    if (lock?.pid > 0) this.daemonPids.add(lock.pid);
    return lock;
  }

  // `troupe stop` as the user would type it, then SIGKILL to any daemon still running.
  // Resolves `troupe stop`'s result.
  async stopDaemon() {
    this.lock();
    const result = await this.run('troupe stop', this.binary, ['stop', '--timeout', '15000'],
                                  { timeoutMs: 20_000 });
    for (const pid of this.daemonPids) {
      await waitUntil(() => !alive(pid), 5_000, `daemon ${pid} to exit`).catch(() => {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      });
    }
    return result;
  }

  // Stops everything, waiting for our own children to exit (a synchronous wait cannot: a child
  // that exited stays a zombie until node reaps it), then cleans up. For `finally` blocks.
  async shutdown() {
    if (this.lock()) await this.stopDaemon().catch(() => {});
    await Promise.all([...this.children].map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }));
    this.cleanupSync();
  }

  // Everything the clients and servers printed, and the daemon's log, for a failure report.
  dumpLogs(maxChars = 6000) {
    const entries = [...this.logs];
    const daemonLog = path.join(this.dataDir, 'troupe.log');
    if (fs.existsSync(daemonLog)) entries.push(['daemon log (troupe.log)', { file: daemonLog }]);
    for (const [label, what] of entries) {
      let text = what;
      if (typeof what === 'object') {
        try { text = fs.readFileSync(what.file, 'utf8'); } catch { continue; }
      }
      if (!text.trim()) continue;
      if (text.length > maxChars) text = `…${text.slice(-maxChars)}`;
      console.error(`----- ${label} -----\n${text}`);
    }
  }

  // Kills every process we started or found (SIGTERM, then SIGKILL), synchronously, and removes
  // the scratch directory unless TROUPE_E2E_KEEP=1. Safe to call more than once.
  cleanupSync() {
    if (this.cleanedUp) return;
    this.cleanedUp = true;
    this.lock();
    const pids = new Set(this.daemonPids);
    for (const child of this.children) if (child.exitCode === null) pids.add(child.pid);
    for (const group of this.groups) this.#killGroup(group, 'SIGTERM');
    for (const pid of pids) {
      try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
    }
    const deadline = Date.now() + 5_000;
    while ([...pids].some(alive) && Date.now() < deadline) spawnSync('sleep', ['0.05']);
    for (const group of this.groups) this.#killGroup(group, 'SIGKILL');
    for (const pid of pids) {
      if (alive(pid)) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
    }
    if (process.env.TROUPE_E2E_KEEP === '1') {
      console.error(`TROUPE_E2E_KEEP=1: kept ${this.root}`);
    } else {
      fs.rmSync(this.root, { recursive: true, force: true });
    }
  }

  #track(child) {
    if (child.pid) this.groups.add(child.pid);
  }

  #killGroup(pgid, signal) {
    try { process.kill(-pgid, signal); } catch { /* gone */ }
  }

  #installGuards() {
    process.once('exit', () => this.cleanupSync());
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
      process.once(signal, () => {
        console.error(`received ${signal}: stopping every process of the test`);
        this.cleanupSync();
        process.exit(1);
      });
    }
    const deadlineMs = Number(process.env.TROUPE_E2E_DEADLINE_MS ?? 200_000);
    setTimeout(() => {
      console.error(`the test did not finish within ${deadlineMs} ms; stopping it`);
      this.dumpLogs();
      this.cleanupSync();
      process.exit(1);
    }, deadlineMs).unref();
  }
}

function readJson(file) {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.trim() ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

// Subtests that stop at the first failure: step(name, fn) runs `fn` as a subtest of `t`, or
// skips it (saying which step failed) once one has failed. `failed()` is the first failed step.
export function stepper(t) {
  let firstFailure = null;
  const step = async (name, fn) => {
    await t.test(name, async (tt) => {
      if (firstFailure) {
        tt.skip(`an earlier step failed: ${firstFailure}`);
        return;
      }
      try {
        await fn(tt);
      } catch (e) {
        firstFailure = name;
        throw e;
      }
    });
  };
  return { step, failed: () => firstFailure };
}
