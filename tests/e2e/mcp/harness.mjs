// What every e2e test needs around the SDK: a scratch directory with a troupe config (the mock
// model as default, two tasks at a time on it), the built `troupe` binary, child processes that
// are always killed (on success, on failure, on a signal, and when the test's own deadline
// passes), and bounded waits.
//
// The binary under test is $TROUPE_BINARY (set by run_test.mjs), else the first argument.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

// The mock model answers unscripted prompts at once; the tests script every task's pace and
// reply with `#mock` lines in its prompt (src/llm/mock_directives.h).
export const CONFIG = `{
  // written by tests/e2e/mcp: the scripted mock model, two tasks at a time
  "default_model": "mock/scripted",
  "background_task": { "modelConcurrency": { "mock/scripted": 2 } },
  "providers": { "mock": { "type": "mock", "script": "latency=0 tps=0" } },
}
`;

// The troupe binary under test: $TROUPE_BINARY, else argv[2].
export function troupeBinary() {
  const binary = process.env.TROUPE_BINARY || process.argv[2];
  if (!binary || !fs.existsSync(binary)) {
    console.error(`usage: node ${path.basename(process.argv[1])} <path of the built troupe binary>` +
                  (binary ? ` (${binary} does not exist)` : ''));
    process.exit(2);
  }
  return path.resolve(binary);
}

// Resolves when `predicate()` (sync or async) returns a truthy value, which it returns; throws
// `what` after `timeoutMs`.
export async function waitUntil(predicate, timeoutMs, what, intervalMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(intervalMs);
  }
}

// True while process `pid` exists (a process of another user's counts).
export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

// A scratch troupe installation: data dir, config (as the user config, so a daemon that
// `troupe mcp` autostarts reads it too), workspace, and the processes started for it.
export class TroupeSandbox {
  constructor(name) {
    this.binary = troupeBinary();
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), `troupe-mcp-e2e-${name}-`));
    this.data = path.join(this.root, 'data');
    this.workspace = path.join(this.root, 'workspace');
    this.xdgConfig = path.join(this.root, 'xdg-config');
    fs.mkdirSync(path.join(this.xdgConfig, 'troupe'), { recursive: true });
    fs.mkdirSync(this.workspace, { recursive: true });
    fs.writeFileSync(path.join(this.workspace, 'README.md'), '# troupe e2e workspace\n');
    this.config = path.join(this.xdgConfig, 'troupe', 'troupe.jsonc');
    fs.writeFileSync(this.config, CONFIG);
    this.children = new Set();  // ChildProcess objects we spawned
    this.daemonPids = new Set();  // daemons found in our lock file (detached, not our children)
    this.logs = [];  // [label, file] of children's output, shown on failure
    this.cleanedUp = false;
    this.#installGuards();
  }

  // The environment of every troupe child: nothing of the user's (config, socket, daemon URL,
  // proxies), our data dir.
  env(extra = {}) {
    const env = { ...process.env };
    for (const k of ['TROUPE_SOCKET', 'TROUPE_URL', 'TROUPE_TOKEN', 'TROUPE_NO_AUTOSTART',
                     'http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'all_proxy',
                     'ALL_PROXY']) {
      delete env[k];
    }
    env.XDG_CONFIG_HOME = this.xdgConfig;
    env.XDG_DATA_HOME = path.join(this.root, 'xdg-data');
    env.TROUPE_DATA_DIR = this.data;
    return { ...env, ...extra };
  }

  // Spawns `troupe args…` with stdout/stderr to files (a chatty child never blocks on a pipe)
  // unless `stdio` says otherwise. Tracked: killed by cleanup().
  spawnTroupe(label, args, { stdio } = {}) {
    const out = path.join(this.root, `${label}.out`);
    const err = path.join(this.root, `${label}.err`);
    const files = stdio ? [] : [fs.openSync(out, 'w'), fs.openSync(err, 'w')];
    const child = spawn(this.binary, args, {
      cwd: this.workspace,
      env: this.env(),
      stdio: stdio ?? ['ignore', ...files],
    });
    for (const fd of files) fs.closeSync(fd);  // the child has its own copies
    if (!stdio) this.logs.push([`${label} stdout`, out], [`${label} stderr`, err]);
    this.track(child);
    return child;
  }

  track(child) {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
  }

  // The lock file of the running daemon ({pid, socket, tcp_port, …}), or null.
  lock() {
    try {
      const text = fs.readFileSync(path.join(this.data, 'troupe.lock'), 'utf8');
      if (!text.trim()) return null;
      const lock = JSON.parse(text);
      if (lock.pid > 0) this.daemonPids.add(lock.pid);
      return lock;
    } catch {
      return null;
    }
  }

  token() {
    return fs.readFileSync(path.join(this.data, 'token'), 'utf8').trim();
  }

  // Starts `troupe serve` in the foreground with a loopback TCP listener on a port the kernel
  // picks (read back from the lock file, so parallel tests never race for a port), or on `port`
  // (a restart that must keep its address). Resolves {child, port, token, url} once
  // GET /v1/health answers over TCP.
  async startServe({ port = 0 } = {}) {
    const child = this.spawnTroupe('serve', ['serve', '--data-dir', this.data, '--workspace',
                                             this.workspace, '--listen', `127.0.0.1:${port}`]);
    let exited = null;
    child.once('exit', (code, signal) => { exited = signal ?? code; });
    const lock = await waitUntil(() => {
      if (exited !== null) throw new Error(`troupe serve exited (${exited}) before it listened`);
      const l = this.lock();
      return l && l.tcp_port > 0 && l.pid === child.pid ? l : null;
    }, 20_000, 'troupe serve to publish its TCP port in troupe.lock');
    const token = this.token();
    const url = `http://127.0.0.1:${lock.tcp_port}`;
    await waitUntil(async () => {
      try {
        const r = await fetch(`${url}/v1/health`, { headers: { Authorization: `Bearer ${token}` } });
        return r.ok;
      } catch {
        return false;
      }
    }, 20_000, `GET ${url}/v1/health`);
    this.daemonPids.add(child.pid);
    return { child, port: lock.tcp_port, token, url };
  }

  // Stops the daemon of our data dir: `troupe stop` (graceful), then SIGKILL to whatever the
  // lock file named if it still runs. Returns `troupe stop`'s exit code.
  async stopDaemon() {
    this.lock();
    const stop = spawn(this.binary, ['stop', '--timeout', '15000'], {
      cwd: this.workspace, env: this.env(), stdio: 'ignore' });
    this.track(stop);
    const timer = setTimeout(() => stop.kill('SIGKILL'), 20_000);
    const [code] = await once(stop, 'exit');
    clearTimeout(timer);
    for (const pid of this.daemonPids) {
      await waitUntil(() => !alive(pid), 5_000, `daemon ${pid} to exit`).catch(() => {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      });
    }
    return code;
  }

  // The output files of the children, for a failure report.
  dumpLogs(maxBytes = 6000) {
    const files = [...this.logs];
    const daemonLog = path.join(this.data, 'troupe.log');
    if (fs.existsSync(daemonLog)) files.push(['daemon log (troupe.log)', daemonLog]);
    for (const [label, file] of files) {
      let text = '';
      try { text = fs.readFileSync(file, 'utf8'); } catch { continue; }
      if (!text.trim()) continue;
      if (text.length > maxBytes) text = `…${text.slice(-maxBytes)}`;
      console.error(`----- ${label} (${file}) -----\n${text}`);
    }
  }

  // Kills every process we started or found (SIGTERM, then SIGKILL), synchronously, and removes
  // the scratch directory unless TROUPE_E2E_KEEP=1. Safe to call more than once.
  cleanupSync() {
    if (this.cleanedUp) return;
    this.cleanedUp = true;
    this.lock();
    const pids = new Set(this.daemonPids);
    for (const child of this.children) if (child.pid && child.exitCode === null) pids.add(child.pid);
    for (const pid of pids) {
      try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
    }
    const deadline = Date.now() + 5_000;
    while ([...pids].some(alive) && Date.now() < deadline) {
      spawnSync('sleep', ['0.05']);
    }
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

  // Cleanup on every way out: normal exit, signals (ctest's timeout), uncaught errors, and
  // an overall deadline below ctest's TIMEOUT so that a hang still ends with our own cleanup.
  #installGuards() {
    process.once('exit', () => this.cleanupSync());
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
      process.once(signal, () => {
        console.error(`received ${signal}: stopping every process of the test`);
        this.cleanupSync();
        process.exit(1);
      });
    }
    const deadlineMs = Number(process.env.TROUPE_E2E_DEADLINE_MS ?? 240_000);
    setTimeout(() => {
      console.error(`the test did not finish within ${deadlineMs} ms; stopping it`);
      this.dumpLogs();
      this.cleanupSync();
      process.exit(1);
    }, deadlineMs).unref();
  }
}
