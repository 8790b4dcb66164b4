// e2e.dashboard: the web dashboard in a real browser. A real `troupe serve` (the offline scripted
// mock model, two tasks at a time on it) serves the board; Debian's chromium, driven by
// playwright-core, opens the URL `troupe dashboard` prints. The test watches five tasks on a
// pool of two go pending → running → completed on the page without a reload, opens a
// transcript, cancels a task from the page (and finds it cancelled in `troupe ps`), restarts the
// daemon and sees the board recover without a duplicated row, launches a task from the page,
// checks that a request without the cookie or the token is refused, and loads a store of 10,000
// tasks (time to first rows and to a scroll are printed, not asserted).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { test } from 'node:test';
import { TroupeSandbox, waitUntil, sleep } from '../mcp/harness.mjs';
import { dashboardUrl, launchChromium, launchMany, restClient } from './browser.mjs';

const CONFIG = `{
  // written by tests/e2e/dashboard: the scripted mock model, two tasks at a time on it, and a
  // wide pool (mock/bulk) to fill the store quickly
  "default_model": "mock/scripted",
  "background_task": { "modelConcurrency": { "mock/scripted": 2, "mock/bulk": 64 } },
  "providers": { "mock": { "type": "mock", "script": "latency=0 tps=0" } },
}
`;
const BULK = Number(process.env.TROUPE_DASHBOARD_BULK ?? 10_000);

const sandbox = new TroupeSandbox('dashboard');
fs.writeFileSync(sandbox.config, CONFIG);

let browser = null;
process.once('exit', () => { /* the browser dies with its pipe; the harness kills the daemon */ });

function troupeJson(args) {
  const r = spawnSync(sandbox.binary, [...args, '--json'], { env: sandbox.env(), cwd: sandbox.workspace,
                                                             encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, `troupe ${args.join(' ')} --json exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// The board's rows as {id: state}; fails on a task id that has two rows.
async function boardRows(page) {
  const rows = await page.$$eval('[data-testid="task-row"]', (els) => els.map((e) => [e.dataset.taskId, e.dataset.state]));
  const seen = new Map();
  for (const [id, state] of rows) {
    assert.ok(!seen.has(id), `task ${id} has two rows on the board`);
    seen.set(id, state);
  }
  return seen;
}

async function rowState(page, id) {
  return page.getAttribute(`[data-testid="task-row"][data-task-id="${id}"]`, 'data-state', { timeout: 1000 }).catch(() => null);
}

async function waitRowState(page, id, state, timeoutMs = 30_000) {
  await page.waitForSelector(`[data-testid="task-row"][data-task-id="${id}"][data-state="${state}"]`,
                             { timeout: timeoutMs, state: 'attached' })
    .catch((e) => { throw new Error(`row of ${id} did not become ${state} within ${timeoutMs} ms (now ${e.message.split('\n')[0]})`); });
}

async function waitConn(page, state, timeoutMs = 30_000) {
  await page.waitForSelector(`[data-testid="conn-status"][data-conn="${state}"]`, { timeout: timeoutMs, state: 'attached' });
}

// Every data-state each row took, in order, recorded in the page as the DOM changes.
async function recordStates(page) {
  await page.evaluate(() => {
    window.__stateLog = {};
    const rec = (el) => {
      const id = el.dataset?.taskId;
      const s = el.dataset?.state;
      if (!id || !s || el.dataset.testid !== 'task-row') return;
      const l = (window.__stateLog[id] ??= []);
      if (l[l.length - 1] !== s) l.push(s);
    };
    const list = document.getElementById('board-list');
    new MutationObserver((muts) => {
      for (const m of muts) {
        if (m.type === 'attributes') rec(m.target);
        for (const n of m.addedNodes ?? []) if (n.nodeType === 1) rec(n);
      }
    }).observe(list, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
    list.querySelectorAll('li').forEach(rec);
  });
}

test('the dashboard in chromium', { timeout: 220_000 }, async (t) => {
  let serve = await sandbox.startServe();
  const base = serve.url;
  const rest = restClient(base, serve.token);
  const loginUrl = await dashboardUrl(sandbox);
  assert.ok(loginUrl.startsWith(`${base}/#login=`), `troupe dashboard printed ${loginUrl}, not a login URL of ${base}`);

  browser = await launchChromium();
  const page = await browser.context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  let navigations = 0;
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations++; });

  try {
    await t.test('opens with the one-time login and goes live', async () => {
      await page.goto(loginUrl, { timeout: 20_000 });
      await waitConn(page, 'live', 20_000);
      assert.ok(!page.url().includes('login='), `the login code stayed in the address: ${page.url()}`);
      assert.equal(await page.isVisible('[data-testid="logged-out"]'), false, 'the page says it is not logged in');
      await page.evaluate(() => { window.__sameDocument = 'the page was not reloaded'; });
      await recordStates(page);
    });
    const navigationsAfterLoad = navigations;

    let five = [];
    await t.test('five tasks on a pool of two go pending → running → completed', async () => {
      five = [];
      for (let i = 1; i <= 5; i++) {
        const { task } = await rest('POST', '/v1/tasks', {
          prompt: `#mock latency=2500 reply="five-${i} done"\nTask five-${i}.`, description: `five-${i}` });
        five.push(task.id);
      }
      // a pending row says where it waits
      const pendingId = five[4];
      await waitRowState(page, pendingId, 'pending', 10_000);
      const live = await page.textContent(`[data-task-id="${pendingId}"] [data-testid="row-live"]`);
      assert.match(live, /#\d+ in queue of \S*mock\/scripted/, `a pending row reads "${live}"`);
      const pool = page.locator('[data-testid="pool"]', { hasText: 'mock/scripted' });
      await pool.waitFor({ timeout: 10_000 });
      assert.equal((await pool.locator('[data-testid="pool-limit"]').textContent()).trim(), '2');
      for (const id of five) await waitRowState(page, id, 'completed', 60_000);
      const log = await page.evaluate(() => window.__stateLog);
      for (const id of five) {
        const states = log[id] ?? [];
        assert.deepEqual(states.filter((s) => s !== 'pending').slice(-2), ['running', 'completed'],
                         `task ${id} showed ${states.join(' → ')}`);
      }
      const wasPending = five.filter((id) => (log[id] ?? [])[0] === 'pending');
      assert.ok(wasPending.length >= 3, `only ${wasPending.length} of 5 tasks were seen pending: ` +
                JSON.stringify(Object.fromEntries(five.map((id) => [id, log[id]]))));
      console.log(`states seen: ${five.map((id) => `${id}: ${log[id].join(' → ')}`).join('; ')}`);
    });

    await t.test('a transcript opens and closes by keyboard', async () => {
      await page.click(`[data-testid="task-row"][data-task-id="${five[0]}"] button`);
      const dialog = page.locator('[data-testid="task-detail"]');
      await dialog.waitFor({ state: 'visible', timeout: 5_000 });
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="message"]').length >= 2, null, { timeout: 10_000 });
      const roles = await page.$$eval('[data-testid="message"]', (els) => els.map((e) => e.dataset.role));
      assert.deepEqual(roles.slice(0, 1), ['user'], `the transcript's roles: ${roles}`);
      assert.ok(roles.includes('assistant'), `no assistant message in the transcript: ${roles}`);
      const text = await page.textContent('[data-testid="transcript"]');
      assert.ok(text.includes('five-1 done'), `the transcript lacks the reply: ${text.slice(0, 500)}`);
      const costText = await page.textContent('[data-testid="detail-cost"]');
      assert.match(costText, /^\$|cost unknown/, `cost reads "${costText}"`);
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden', timeout: 5_000 });
    });

    let cancelled = null;
    await t.test('a task cancelled from the page is cancelled in troupe ps', async () => {
      const { task } = await rest('POST', '/v1/tasks', { prompt: '#mock latency=60s\nWait a minute.', description: 'to-cancel' });
      cancelled = task.id;
      await waitRowState(page, cancelled, 'running', 15_000);
      await page.click(`[data-testid="task-row"][data-task-id="${cancelled}"] button`);
      await page.click('[data-testid="cancel-task"]');
      await page.waitForSelector('[data-testid="detail-state"][data-state="cancelled"]', { timeout: 10_000 });
      await waitRowState(page, cancelled, 'cancelled', 10_000);
      await page.keyboard.press('Escape');
      const ps = troupeJson(['ps', '--all']);
      const row = ps.tasks.find((x) => x.id === cancelled);
      assert.equal(row?.state, 'cancelled', `troupe ps --all shows ${JSON.stringify(row)}`);
    });

    await t.test('the board recovers from a daemon restart without duplicated rows', async () => {
      const { task } = await rest('POST', '/v1/tasks', { prompt: '#mock latency=3s reply="survived"\nAcross a restart.', description: 'across-restart' });
      await waitRowState(page, task.id, 'running', 15_000);
      const before = await page.evaluate(() => window.troupeDashboard.lastEventId);
      assert.equal(await sandbox.stopDaemon(), 0, 'troupe stop failed');
      await page.waitForSelector('[data-testid="conn-status"]:not([data-conn="live"])', { timeout: 20_000, state: 'attached' });
      serve = await sandbox.startServe({ port: serve.port });
      await waitConn(page, 'live', 30_000);
      await waitRowState(page, task.id, 'completed', 30_000);
      const rows = await boardRows(page);
      const all = (await rest('GET', '/v1/tasks?limit=1000')).tasks;
      assert.equal(rows.size, all.length, `the board has ${rows.size} rows for ${all.length} tasks`);
      for (const x of all) assert.equal(rows.get(x.id), x.state, `row of ${x.id} says ${rows.get(x.id)}, the daemon ${x.state}`);
      const after = await page.evaluate(() => ({ ...window.troupeDashboard }));
      const log = await page.evaluate((id) => window.__stateLog[id], task.id);
      console.log(`across the restart: events up to ${before} before, ${after.lastEventId} after; ` +
                  `${after.duplicatesDropped} duplicate events dropped; the task showed ${log.join(' → ')}`);
    });

    await t.test('a task launched from the page runs; a refused launch says why', async () => {
      await page.click('[data-testid="open-launch"]');
      await page.waitForSelector('[data-testid="launch-dialog"][open]', { timeout: 5_000 });
      await page.waitForSelector('[data-testid="launch-agent"] option', { timeout: 5_000, state: 'attached' });
      await page.click('[data-testid="launch-submit"]');
      const error = await page.waitForSelector('[data-testid="launch-error"]:not(:empty)', { timeout: 5_000 });
      const text = await error.textContent();
      assert.match(text, /prompt/, `an empty prompt was refused with "${text}"`);
      await page.fill('[data-testid="launch-description"]', 'from-page');
      await page.fill('[data-testid="launch-prompt"]', '#mock latency=300 reply="launched from the page"\nHello.');
      await page.click('[data-testid="launch-submit"]');
      await page.waitForSelector('[data-testid="launch-dialog"]:not([open])', { timeout: 5_000, state: 'attached' });
      const mine = await waitUntil(async () => (await rest('GET', '/v1/tasks?owner=dashboard')).tasks
        .find((x) => x.description === 'from-page'), 5_000, 'the task launched from the page in GET /v1/tasks');
      await waitRowState(page, mine.id, 'completed', 20_000);
    });

    await t.test('the page did not reload, and logged no error', async () => {
      assert.equal(await page.evaluate(() => window.__sameDocument), 'the page was not reloaded');
      assert.equal(navigations, navigationsAfterLoad, 'the page navigated');
      assert.deepEqual(consoleErrors.filter((e) => !/ERR_CONNECTION_REFUSED|Failed to load resource|EventSource/.test(e)), [],
                       'the page logged errors');
    });

    await t.test('without the cookie or the token, requests are refused', async () => {
      const r = await fetch(`${base}/v1/tasks`);
      assert.equal(r.status, 401, `GET /v1/tasks without credentials answered ${r.status}`);
      const bad = await fetch(`${base}/v1/tasks`, { headers: { Cookie: 'troupe_dashboard=forged' } });
      assert.equal(bad.status, 401, `GET /v1/tasks with a forged cookie answered ${bad.status}`);
      // a second browser without the cookie, and the used login code again
      const other = await launchChromium({ width: 800, height: 600 });
      try {
        const p = await other.context.newPage();
        await p.goto(loginUrl, { timeout: 20_000 });
        await p.waitForSelector('[data-testid="logged-out"]', { state: 'visible', timeout: 10_000 });
        assert.equal(await p.locator('[data-testid="task-row"]').count(), 0, 'a page without a login shows tasks');
      } finally {
        await other.close();
      }
    });

    await t.test(`${BULK} tasks: the board stays responsive`, async () => {
      const have = (await rest('GET', '/v1/tasks?limit=100000')).tasks.length;
      const n = Math.max(0, BULK - have);
      const t0 = Date.now();
      await launchMany(rest, n, (i) => ({ prompt: `#mock latency=0 tps=0 reply="bulk ${i}"\nbulk ${i}`,
                                          description: `bulk-${i}`, model: 'mock/bulk' }), 32);
      const launchedMs = Date.now() - t0;
      await waitUntil(async () => (await rest('GET', '/v1/health')).tasks.pending === 0, 120_000,
                      'the bulk tasks to leave the queue', 250);
      const stored = (await rest('GET', '/v1/tasks?limit=100000')).tasks.length;
      assert.ok(stored >= BULK, `the store holds ${stored} tasks, expected ${BULK}`);
      // the live page took every event of the fill
      const rowsLive = await page.$$eval('[data-testid="task-row"]', (els) => els.length);
      assert.ok(rowsLive < 200, `${rowsLive} rows are in the DOM: the list is not virtualised`);
      // a fresh page on the full store
      const p = await browser.context.newPage();
      const start = Date.now();
      await p.goto(base, { timeout: 30_000 });
      await p.waitForSelector('[data-testid="task-row"]', { timeout: 30_000, state: 'attached' });
      const firstRowsMs = Date.now() - start;
      await waitConn(p, 'live', 30_000);
      const scroll = await p.evaluate(async () => {
        const v = document.getElementById('board-viewport');
        const t = performance.now();
        v.scrollTop = v.scrollHeight / 2;
        await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
        const rendered = [...document.querySelectorAll('[data-testid="task-row"]')]
          .some((li) => li.getBoundingClientRect().top >= v.getBoundingClientRect().top - 100 &&
                        li.getBoundingClientRect().top <= v.getBoundingClientRect().bottom);
        return { ms: performance.now() - t, rendered, rows: document.querySelectorAll('[data-testid="task-row"]').length,
                 loaded: window.troupeDashboard.tasksLoaded };
      });
      assert.ok(scroll.rendered, 'after a scroll to the middle no row is in view');
      assert.ok(scroll.rows < 200, `${scroll.rows} rows are in the DOM after the scroll`);
      // the end of the list asks for the next older page (GET /v1/tasks?order=newest&before=…)
      const loadedBefore = scroll.loaded;
      await p.evaluate(() => { const v = document.getElementById('board-viewport'); v.scrollTop = v.scrollHeight; });
      await waitUntil(() => p.evaluate((n) => window.troupeDashboard.tasksLoaded > n, loadedBefore), 30_000,
                      `an older page after scrolling to the end (${loadedBefore} tasks loaded)`);
      const loadedAfter = await p.evaluate(() => window.troupeDashboard.tasksLoaded);
      const all = await p.textContent('[data-testid="count-all"]');
      console.log(`${BULK} tasks: ${n} launched in ${launchedMs} ms; a fresh board showed its first rows ` +
                  `${firstRowsMs} ms after navigation; a scroll to the middle rendered in ${scroll.ms.toFixed(1)} ms ` +
                  `(${scroll.rows} rows in the DOM, ${scroll.loaded} tasks loaded, "All" counts ${all}); ` +
                  `the end of the list loaded an older page (${loadedBefore} → ${loadedAfter} tasks); ` +
                  `the live page holds ${rowsLive} rows in the DOM`);
      await p.close();
    });
  } catch (e) {
    await page.screenshot({ path: `${sandbox.root}/failure.png` }).catch(() => {});
    sandbox.dumpLogs();
    throw e;
  } finally {
    await browser.close();
    await sandbox.stopDaemon();
  }
});
