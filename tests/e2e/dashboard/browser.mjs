// What the dashboard tests and the screenshot script share: Debian's chromium driven by
// playwright-core (no browser is downloaded), `troupe dashboard`'s login URL, and a REST client
// that authenticates with the daemon's bearer token as scripts do.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.TROUPE_CHROMIUM || '/usr/bin/chromium';

// A fresh headless chromium with its own temporary profile, the network features that would
// reach out (the machine may be offline) turned off. Returns {context, close}.
export async function launchChromium({ width = 1280, height = 800 } = {}) {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} does not exist: install Debian's chromium (scripts/install-deps.sh)`);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'troupe-dashboard-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width, height },
    timeout: 30_000,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

// Runs `troupe dashboard` against the sandbox's daemon and returns the login URL it prints.
export async function dashboardUrl(sandbox, args = []) {
  const child = sandbox.spawnTroupe(`dashboard-${Date.now()}`, ['dashboard', ...args],
                                    { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const code = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('troupe dashboard did not exit within 20 s')); }, 20_000);
    child.once('exit', (c) => { clearTimeout(timer); resolve(c); });
  });
  const m = /http:\/\/127\.0\.0\.1:\d+\/#login=[A-Za-z0-9_\-.~%]+/.exec(out);
  if (code !== 0 || !m) {
    throw new Error(`troupe dashboard exited ${code} without a login URL; stdout: ${out} stderr: ${err}`);
  }
  return m[0];
}

// The REST API as a script uses it: bearer token, JSON. Throws with the daemon's error message.
export function restClient(base, token) {
  return async function rest(method, route, body) {
    const r = await fetch(base + route, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await r.text();
    const json = text ? JSON.parse(text) : null;
    if (!r.ok) throw new Error(`${method} ${route}: HTTP ${r.status} ${text}`);
    return json;
  };
}

// Launches `n` tasks at once with at most `parallel` requests in flight; `make(i)` gives the
// body of task i. Returns the ids in launch order.
export async function launchMany(rest, n, make, parallel = 16) {
  const ids = new Array(n);
  let next = 0;
  async function worker() {
    while (next < n) {
      const i = next++;
      ids[i] = (await rest('POST', '/v1/tasks', make(i))).task.id;
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, worker));
  return ids;
}
