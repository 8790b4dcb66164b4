// troupe dashboard: the page's entry point. Logs in with the one-time code of `troupe dashboard`
// (the #login=… fragment), loads a snapshot of the tasks, then follows the event stream.
import { ApiError, get, post, setUnauthorizedHandler, withQuery } from './api.js';
import { Board } from './board.js';
import { TaskDetail } from './detail.js';
import { EventFeed } from './events.js';
import { cost } from './format.js';
import { LaunchDialog } from './launch.js';
import { PoolsPanel } from './pools.js';
import { TaskStore } from './store.js';
import { TreesPanel } from './trees.js';

const PAGE = 500;  // tasks per page of GET /v1/tasks

const store = new TaskStore();
const conn = document.querySelector('[data-testid="conn-status"]');
const announcer = document.getElementById('announce');
let loggedOut = false;

// aria-live, kept modest: one message at a time, final states summed up every few seconds
let finishedSince = 0;
function announce(text) {
  announcer.textContent = text;
}
setInterval(() => {
  if (finishedSince > 0) {
    announce(`${finishedSince} task${finishedSince > 1 ? 's' : ''} finished.`);
    finishedSince = 0;
  }
}, 5000);

function setConn(state) {
  if (loggedOut) return;
  conn.dataset.conn = state;
  conn.textContent = { live: 'live', reconnecting: 'reconnecting…', offline: 'daemon unreachable — retrying',
                       connecting: 'connecting…' }[state] ?? state;
}

function showLoggedOut() {
  if (loggedOut) return;
  loggedOut = true;
  feed.stop();
  document.body.classList.add('is-logged-out');
  document.querySelector('[data-testid="logged-out"]').hidden = false;
  conn.dataset.conn = 'offline';
  conn.textContent = 'not logged in';
  for (const d of document.querySelectorAll('dialog[open]')) d.close();
}
setUnauthorizedHandler(showLoggedOut);

const detail = new TaskDetail(store, { announce });
const open = (id) => detail.open(id);
const pools = new PoolsPanel(store, open);
const trees = new TreesPanel(store, open);

// Paging: the newest tasks first, older pages as the list is scrolled to its end.
const paging = { cursor: null, more: false, loading: false };

async function loadOlder() {
  if (!paging.more || paging.loading || !paging.cursor) return;
  paging.loading = true;
  try {
    const r = await get(withQuery('/v1/tasks', { order: 'newest', limit: PAGE, before: paging.cursor }));
    store.mergeSnapshot(r.tasks, r.last_event_id ?? null);
    paging.cursor = r.next_before ?? null;
    paging.more = Boolean(r.next_before);
  } catch (e) {
    document.getElementById('board-note').textContent = `loading older tasks: ${e.describe ? e.describe() : e.message}`;
  } finally {
    paging.loading = false;
  }
}

// The details (error, final usage) of finished tasks that are in view, fetched once each.
const fetching = new Set();
function fetchVisible(tasks) {
  for (const t of tasks) {
    if (!t.stale || fetching.has(t.id) || fetching.size >= 8) continue;
    fetching.add(t.id);
    get(`/v1/tasks/${encodeURIComponent(t.id)}`)
      .then(({ task }) => store.mergeSnapshot([task], null))
      .catch(() => {})
      .finally(() => fetching.delete(t.id));
  }
}

const board = new Board(store, { onOpen: open, onNearEnd: loadOlder, onVisible: fetchVisible });

// The newest page of tasks (and the event id it is as of). Returns last_event_id, or null when
// the daemon does not give one (then the stream replays from the start of its log).
async function loadSnapshot() {
  // newest first; `next_before` is the cursor of the next older page (null on the last)
  const r = await get(withQuery('/v1/tasks', { order: 'newest', limit: PAGE }));
  store.mergeSnapshot(r.tasks, r.last_event_id ?? null, r.counts ?? null);
  paging.cursor = r.next_before ?? null;
  paging.more = Boolean(r.next_before);
  // the active ones too, however many: they are what the board is for
  const active = await get(withQuery('/v1/tasks', { status: 'active', limit: 100000 }));
  store.mergeSnapshot(active.tasks, active.last_event_id ?? r.last_event_id ?? null);
  return r.last_event_id ?? null;
}

// After the stream came back: the active tasks again (progress is not replayed), and a full
// reload when the daemon's event log went backwards (its data directory was reset).
async function resync(lastId) {
  try {
    const active = await get(withQuery('/v1/tasks', { status: 'active', limit: 100000 }));
    if (typeof active.last_event_id === 'number' && active.last_event_id < lastId) {
      feed.stop();
      store.reset();
      const after = await loadSnapshot();
      feed.lastId = 0;
      feed.start(after ?? 0);
    } else {
      store.mergeSnapshot(active.tasks, active.last_event_id ?? null);
    }
    pools.refresh();
    loadBudgets();
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) setConn('offline');
  }
}

const feed = new EventFeed({
  onState(ev) {
    store.applyState(ev);
    if (ev.state !== 'running' && ev.state !== 'pending') finishedSince++;
    pools.refreshSoon();
    budgetsSoon();
  },
  onProgress(p) {
    store.applyProgress(p);
  },
  onStatus: setConn,
  onReconnected: resync,
  onGone() {
    // is it the login or the daemon? a 401 here shows the logged-out screen
    get('/v1/health').catch(() => {});
  },
});

let budgetTimer = null;
function budgetsSoon() {
  if (budgetTimer) return;
  budgetTimer = setTimeout(() => { budgetTimer = null; loadBudgets(); }, 2000);
}
async function loadBudgets() {
  const el = document.querySelector('[data-testid="spend-today"]');
  try {
    const b = await get('/v1/budgets');
    const limit = b.budgets?.daily_max_cost_usd;
    el.textContent = `today (UTC ${b.day}): ${b.today?.requests ?? 0} requests, ${cost(b.today)}` +
      (limit ? ` of $${limit}` : '') + (b.daily_stopped ? ` — ${b.daily_stopped}` : '');
  } catch {
    el.textContent = '';
  }
}

const launch = new LaunchDialog(store, {
  onLaunched(task) {
    announce(`Task ${task.id} launched: ${task.state}.`);
    board.setFilter('all');
  },
});
document.getElementById('open-launch').addEventListener('click', () => launch.open());

// The one-time login code of `troupe dashboard`, then the fragment is dropped from the address.
async function login() {
  const m = /(?:^#|&)login=([^&]+)/.exec(location.hash);
  if (!m) return;
  history.replaceState(null, '', location.pathname + location.search);
  try {
    await post('/v1/dashboard/login', { code: decodeURIComponent(m[1]) });
  } catch (e) {
    if (e.status !== 401) throw e;
  }
}

async function main() {
  try {
    await login();
    const after = await loadSnapshot();
    if (loggedOut) return;
    feed.start(after ?? 0);
    pools.refresh();
    loadBudgets();
    trees.render();
  } catch (e) {
    if (loggedOut) return;
    setConn('offline');
    document.getElementById('board-note').textContent = `cannot load the tasks: ${e.describe ? e.describe() : e.message}`;
    setTimeout(main, 3000);
  }
}

// For the tests and for curious people: what the page saw (read-only figures).
window.troupeDashboard = {
  get eventsApplied() { return feed.applied; },
  get duplicatesDropped() { return feed.duplicates; },
  get lastEventId() { return feed.lastId; },
  get tasksLoaded() { return store.tasks.size; },
};

main();
