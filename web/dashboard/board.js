// The task board: one virtualised list (only the rows in view exist in the DOM, so 10,000
// tasks cost what 20 do), filtered by state, running first, then pending in queue order, then
// finished newest first. Rows are keyed by task id: an event, a replay or a re-fetch updates
// the row of its task, never adds a second one.
import { h, replace } from './dom.js';
import { duration, tokens, FINAL_STATES } from './format.js';
import { STATES } from './store.js';

const FILTERS = [
  { name: 'all', label: 'All', states: STATES },
  { name: 'running', label: 'Running', states: ['running'] },
  { name: 'pending', label: 'Pending', states: ['pending'] },
  { name: 'finished', label: 'Finished', states: ['completed', 'error', 'cancelled', 'interrupted'] },
];
const GROUP = { running: 0, pending: 1, interrupted: 2, completed: 2, error: 2, cancelled: 2 };
const OVERSCAN = 6;

function order(a, b) {
  const g = GROUP[a.state] - GROUP[b.state];
  if (g) return g;
  if (a.state === 'pending') {
    return ((a.queue_position || 1e9) - (b.queue_position || 1e9)) ||
           (a.queued_at_ms - b.queued_at_ms) || a.id.localeCompare(b.id);
  }
  if (a.state === 'running') return (a.started_at_ms - b.started_at_ms) || a.id.localeCompare(b.id);
  return ((b.finished_at_ms || b.created_at_ms) - (a.finished_at_ms || a.created_at_ms)) ||
         b.id.localeCompare(a.id);
}

export class Board {
  // onOpen(taskId): show a task. onNearEnd(): the list was scrolled near its end (load older).
  // onVisible(tasks): rows now in view (their stale details may be fetched).
  constructor(store, { onOpen, onNearEnd, onVisible }) {
    this.store = store;
    this.onOpen = onOpen;
    this.onNearEnd = onNearEnd;
    this.onVisible = onVisible;
    this.viewport = document.getElementById('board-viewport');
    this.list = document.getElementById('board-list');
    this.filtersEl = document.getElementById('filters');
    this.filter = 'all';
    this.view = [];
    this.viewVersion = -1;
    this.rows = new Map();  // task id -> <li>
    this.focusId = null;
    this.rowH = 76;
    this.scheduled = false;
    this.lastSort = 0;
    this.#buildFilters();
    this.viewport.addEventListener('scroll', () => this.schedule(), { passive: true });
    new ResizeObserver(() => { this.#measure(); this.schedule(); }).observe(this.viewport);
    this.list.addEventListener('keydown', (e) => this.#onKey(e));
    this.list.addEventListener('focusin', (e) => {
      const li = e.target.closest('li[data-task-id]');
      if (li) this.focusId = li.dataset.taskId;
    });
    store.subscribe(() => this.schedule());
    // running rows tick (elapsed time) and pending ones count their wait
    setInterval(() => this.#tick(), 1000);
    this.#measure();
  }

  #measure() {
    const v = parseFloat(getComputedStyle(document.documentElement).getPropertyValue('--row-h'));
    if (v > 0 && v !== this.rowH) {
      this.rowH = v;
      this.viewVersion = -1;
    }
  }

  #buildFilters() {
    this.filterButtons = new Map();
    for (const f of FILTERS) {
      const n = h('span', { class: 'n', 'data-testid': `count-${f.name}` }, '0');
      const b = h('button', { type: 'button', 'aria-pressed': String(f.name === this.filter),
                              'data-testid': `filter-${f.name}`,
                              onclick: () => this.setFilter(f.name) }, f.label, n);
      this.filterButtons.set(f.name, { b, n, f });
      this.filtersEl.appendChild(b);
    }
  }

  setFilter(name) {
    this.filter = name;
    for (const [k, { b }] of this.filterButtons) b.setAttribute('aria-pressed', String(k === name));
    this.viewVersion = -1;
    this.viewport.scrollTop = 0;
    this.schedule();
  }

  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.render();
    });
  }

  #rebuildView() {
    const states = new Set(FILTERS.find((f) => f.name === this.filter).states);
    const view = [];
    for (const t of this.store.tasks.values()) if (states.has(t.state)) view.push(t);
    view.sort(order);
    this.view = view;
    this.viewVersion = this.store.version;
    this.lastSort = performance.now();
  }

  render() {
    if (this.viewVersion !== this.store.version) {
      // With many tasks, sorting on every event would cost more than it shows: at most 5 a second.
      const wait = this.store.tasks.size > 2000 ? 200 - (performance.now() - this.lastSort) : 0;
      if (wait > 0 && this.viewVersion !== -1) {
        setTimeout(() => this.schedule(), wait);
      } else {
        this.#rebuildView();
      }
    }
    const counts = this.store.counts();
    for (const [name, { n, f }] of this.filterButtons) {
      n.textContent = String(f.states.reduce((sum, s) => sum + (counts[s] ?? 0), 0));
    }
    const total = this.view.length;
    this.list.style.height = `${total * this.rowH}px`;
    this.list.setAttribute('aria-rowcount', String(total));
    const top = this.viewport.scrollTop;
    const height = this.viewport.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / this.rowH) - OVERSCAN);
    const last = Math.min(total, Math.ceil((top + height) / this.rowH) + OVERSCAN);
    const keep = new Set();
    const visible = [];
    const hadFocus = this.list.contains(document.activeElement);
    for (let i = first; i < last; i++) {
      const t = this.view[i];
      keep.add(t.id);
      let li = this.rows.get(t.id);
      if (!li) {
        li = h('li', { 'data-testid': 'task-row', 'data-task-id': t.id },
               h('button', { type: 'button', class: 'row', tabindex: '-1',
                             onclick: () => this.onOpen(t.id) }));
        this.rows.set(t.id, li);
        this.list.appendChild(li);
      }
      li.style.transform = `translateY(${i * this.rowH}px)`;
      li.setAttribute('aria-posinset', String(i + 1));
      li.setAttribute('aria-setsize', String(total));
      this.#fill(li, t);
      visible.push(t);
    }
    for (const [id, li] of this.rows) {
      if (!keep.has(id)) {
        li.remove();
        this.rows.delete(id);
      }
    }
    // one row is in the tab order: the focused one, else the first in view
    const tabId = (this.focusId && this.rows.has(this.focusId)) ? this.focusId : this.view[first]?.id;
    for (const [id, li] of this.rows) li.firstChild.tabIndex = id === tabId ? 0 : -1;
    if (hadFocus && !this.list.contains(document.activeElement) && this.focusId && this.rows.has(this.focusId)) {
      this.rows.get(this.focusId).firstChild.focus({ preventScroll: true });
    }
    const note = document.getElementById('board-note');
    note.textContent = total === 0 ? 'No tasks here yet.' : '';
    if (last >= total - OVERSCAN && this.onNearEnd) this.onNearEnd();
    if (this.onVisible) this.onVisible(visible);
  }

  #fill(li, t) {
    const key = `${t.state}|${t.description}|${t.turns}|${t.tool_calls}|${t.input_tokens}|${t.output_tokens}|` +
                `${t.last_tool}|${t.queue_position}|${t.pool}|${t.waiting_reason}|${t.error}|${t.duration_ms}|` +
                `${t.agent}|${t.model}|${t.started_at_ms}|${t.finished_at_ms}`;
    if (li.dataset.key === key) return;
    li.dataset.key = key;
    li.dataset.state = t.state;
    const button = li.firstChild;
    button.dataset.state = t.state;
    button.setAttribute('aria-label', `${t.description || t.id}, ${t.state}`);
    replace(button,
      h('span', { class: 'badge', 'data-testid': 'row-state' }, t.state),
      h('span', { class: 'title' }, t.description || '(no description)'),
      h('span', { class: 'tid mono' }, t.id),
      h('span', { class: 'meta' }, [t.agent, t.model, t.depth > 0 ? `depth ${t.depth}` : '']
        .filter(Boolean).join(' · ')),
      h('span', { class: `live${t.state === 'error' ? ' err' : ''}`, 'data-testid': 'row-live' }, liveText(t)));
  }

  #tick() {
    for (const [id, li] of this.rows) {
      const t = this.store.get(id);
      if (!t || (t.state !== 'running' && t.state !== 'pending')) continue;
      const live = li.querySelector('.live');
      if (live) live.textContent = liveText(t);
    }
  }

  #onKey(e) {
    const keys = { ArrowDown: 1, ArrowUp: -1, PageDown: 10, PageUp: -10, Home: -1e9, End: 1e9 };
    if (!(e.key in keys)) return;
    e.preventDefault();
    const at = Math.max(0, this.view.findIndex((t) => t.id === this.focusId));
    const to = Math.min(this.view.length - 1, Math.max(0, at + keys[e.key]));
    this.focusTask(to);
  }

  focusTask(index) {
    const t = this.view[index];
    if (!t) return;
    this.focusId = t.id;
    const y = index * this.rowH;
    if (y < this.viewport.scrollTop) this.viewport.scrollTop = y;
    else if (y + this.rowH > this.viewport.scrollTop + this.viewport.clientHeight) {
      this.viewport.scrollTop = y + this.rowH - this.viewport.clientHeight;
    }
    this.render();
    this.rows.get(t.id)?.firstChild.focus({ preventScroll: true });
  }
}

// The third line of a row: what the task is doing now, or how it ended.
export function liveText(t, now = Date.now()) {
  if (t.state === 'pending') {
    const where = t.queue_position > 0 ? `#${t.queue_position} in queue` : 'queued';
    const pool = t.pool ? ` of ${t.pool}` : '';
    const why = t.waiting_reason ? ` — ${t.waiting_reason}` : '';
    return `${where}${pool} · waiting ${duration(now - (t.queued_at_ms || t.created_at_ms))}${why}`;
  }
  if (t.state === 'running') {
    const parts = [`running ${duration(now - t.started_at_ms)}`, `turn ${t.turns || 0}`];
    if (t.last_tool) parts.push(`tool ${t.last_tool}`);
    parts.push(`${tokens(t.input_tokens)} in / ${tokens(t.output_tokens)} out tokens`);
    return parts.join(' · ');
  }
  if (FINAL_STATES.has(t.state)) {
    const took = t.started_at_ms ? `took ${duration(t.duration_ms)}` : 'never started';
    const err = t.error ? ` — ${t.error.split('\n')[0]}` : '';
    return `${t.state} · ${took} · ${t.turns || 0} turns · ${tokens(t.input_tokens + t.output_tokens)} tokens${err}`;
  }
  return t.state;
}
