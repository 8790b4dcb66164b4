// The tasks the page knows, keyed by task id (so a replayed or re-fetched task is one row, never
// two), kept current from the event stream. A snapshot from GET /v1/tasks is merged with care:
// a row already moved on by an event newer than the snapshot keeps its state.
import { FINAL_STATES } from './format.js';

export const STATES = ['pending', 'running', 'completed', 'error', 'cancelled', 'interrupted'];
const RANK = { pending: 0, running: 1, completed: 2, error: 2, cancelled: 2, interrupted: 2 };

export class TaskStore {
  constructor() {
    this.tasks = new Map();
    this.serverCounts = null;  // counts by state from GET /v1/tasks, moved on by events
    this.listeners = new Set();
    this.version = 0;
  }

  subscribe(fn) {
    this.listeners.add(fn);
  }

  #changed(ids) {
    this.version++;
    for (const fn of this.listeners) fn(ids);
  }

  get(id) {
    return this.tasks.get(id);
  }

  // Tasks from a listing. `lastEventId`: the event log id the listing is as of (GET /v1/tasks
  // answers it), or null when the daemon did not say.
  mergeSnapshot(list, lastEventId = null, counts = null) {
    const ids = [];
    for (const t of list) {
      const have = this.tasks.get(t.id);
      if (have && lastEventId !== null && have.ev > lastEventId && have.state !== t.state) {
        continue;  // an event newer than the listing already moved it on
      }
      if (have && lastEventId === null && have.state !== 'interrupted' && RANK[t.state] < RANK[have.state]) {
        continue;  // an older read: a task only moves pending → running → final (an interrupted one resumes)
      }
      this.tasks.set(t.id, { ...have, ...t, ev: Math.max(have?.ev ?? 0, lastEventId ?? 0), stale: false });
      ids.push(t.id);
    }
    if (counts) this.serverCounts = { ...counts };
    this.#changed(ids);
  }

  // Replaces everything (the daemon's event log was reset: another data directory).
  reset() {
    this.tasks.clear();
    this.serverCounts = null;
    this.#changed(null);
  }

  // A stored `task.state` event.
  applyState(ev) {
    const id = ev.task_id;
    let t = this.tasks.get(id);
    const from = t ? t.state : ev.from;
    if (!t) {
      t = { id, session_id: ev.session_id, agent: ev.agent, model: ev.model,
            description: ev.description, attempt: ev.attempt, state: ev.state,
            created_at_ms: ev.at_ms, queued_at_ms: ev.at_ms, parent_session_id: '',
            root_session_id: '', depth: 0, turns: 0, input_tokens: 0, output_tokens: 0,
            tool_calls: 0, last_tool: '', pool: '', queue_position: 0, waiting_reason: '',
            started_at_ms: 0, finished_at_ms: 0, duration_ms: 0, error: '', ev: 0, stale: true };
      this.tasks.set(id, t);
    }
    if (this.serverCounts) {
      if (ev.from && this.serverCounts[ev.from] > 0) this.serverCounts[ev.from]--;
      this.serverCounts[ev.state] = (this.serverCounts[ev.state] ?? 0) + 1;
    }
    t.ev = Math.max(t.ev ?? 0, ev.id ?? 0);
    t.state = ev.state;
    t.attempt = ev.attempt ?? t.attempt;
    if (ev.description) t.description = ev.description;
    if (ev.model) t.model = ev.model;
    if (ev.state === 'running') {
      t.started_at_ms = ev.at_ms;
      t.finished_at_ms = 0;
      t.last_activity_at_ms = ev.at_ms;
    } else if (ev.state === 'pending') {
      t.queued_at_ms = ev.at_ms;
      t.started_at_ms = 0;
      t.finished_at_ms = 0;
    } else if (FINAL_STATES.has(ev.state)) {
      t.finished_at_ms = ev.at_ms;
      t.duration_ms = t.started_at_ms ? ev.at_ms - t.started_at_ms : 0;
      t.stale = true;  // its result, error and final usage are fetched when it is looked at
    }
    if (from === 'pending' && ev.state !== 'pending') this.#leftQueue(t);
    if (ev.state !== 'pending') {
      t.queue_position = 0;
      t.waiting_reason = '';
    }
    this.#changed([id]);
  }

  // Those behind a task that left its pool's queue move up one place.
  #leftQueue(t) {
    if (!t.pool || !(t.queue_position > 0)) return;
    for (const o of this.tasks.values()) {
      if (o.state === 'pending' && o.pool === t.pool && o.queue_position > t.queue_position) o.queue_position--;
    }
  }

  // A live `task.progress` event: the task's running totals.
  applyProgress(p) {
    const t = this.tasks.get(p.task_id);
    if (!t) return;
    for (const k of ['turns', 'tool_calls', 'input_tokens', 'output_tokens']) {
      if (typeof p[k] === 'number') t[k] = p[k];
    }
    if (p.tool) t.last_tool = p.tool;
    if (p.note) t.note = p.note;
    if (p.at_ms) t.last_activity_at_ms = p.at_ms;
    this.#changed([p.task_id]);
  }

  // Counts by state: the daemon's (moved on by events) when it gave them, else the loaded tasks'.
  counts() {
    if (this.serverCounts) {
      const c = Object.fromEntries(STATES.map((s) => [s, this.serverCounts[s] ?? 0]));
      return c;
    }
    const c = Object.fromEntries(STATES.map((s) => [s, 0]));
    for (const t of this.tasks.values()) c[t.state] = (c[t.state] ?? 0) + 1;
    return c;
  }

  // The tasks of one tree (same root session), as a forest by parent session.
  tree(rootSessionId) {
    const members = [...this.tasks.values()].filter(
      (t) => (t.root_session_id || t.session_id) === rootSessionId);
    return buildForest(members);
  }
}

// [{task, children: [...]}] — tasks whose parent session is not among them are roots. Tasks of
// one session (a continuation) are siblings under the same parent.
export function buildForest(members) {
  const bySession = new Map();
  for (const t of members) {
    if (!bySession.has(t.session_id)) bySession.set(t.session_id, []);
    bySession.get(t.session_id).push(t);
  }
  const nodes = new Map(members.map((t) => [t.id, { task: t, children: [] }]));
  const roots = [];
  for (const t of members) {
    const parents = t.parent_session_id ? bySession.get(t.parent_session_id) : null;
    if (parents && parents.length) {
      // the parent session's task that was the latest when this one was created delegated it
      const before = parents.filter((p) => p.created_at_ms <= t.created_at_ms);
      const pick = before.length ? before : parents;
      const parent = pick.reduce((a, b) => (a.created_at_ms >= b.created_at_ms ? a : b));
      nodes.get(parent.id).children.push(nodes.get(t.id));
    } else {
      roots.push(nodes.get(t.id));
    }
  }
  const byCreated = (a, b) => (a.task.created_at_ms - b.task.created_at_ms) || a.task.id.localeCompare(b.task.id);
  const sort = (list) => { list.sort(byCreated); for (const n of list) sort(n.children); };
  sort(roots);
  return roots;
}
