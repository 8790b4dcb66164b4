// The pools: each one's limit, tasks in use, queued, cool-down and which tasks wait on it.
// Re-read when a task changes state (never on a timer); the cool-down counts down locally.
import { get } from './api.js';
import { h, replace } from './dom.js';
import { duration } from './format.js';

export class PoolsPanel {
  constructor(store, onOpen) {
    this.store = store;
    this.onOpen = onOpen;
    this.el = document.getElementById('pools');
    this.data = null;
    this.readAt = 0;
    this.timer = null;
    this.inflight = false;
    setInterval(() => { if (this.#coolingDown()) this.render(); }, 1000);
  }

  // Re-reads GET /v1/pools soon (many state changes in a burst make one request).
  refreshSoon() {
    if (this.timer) return;
    this.timer = setTimeout(() => { this.timer = null; this.refresh(); }, 300);
  }

  async refresh() {
    if (this.inflight) { this.refreshSoon(); return; }
    this.inflight = true;
    try {
      this.data = await get('/v1/pools');
      this.readAt = Date.now();
      this.render();
    } catch (e) {
      replace(this.el, h('p', { class: 'error' }, `pools: ${e.describe ? e.describe() : e.message}`));
    } finally {
      this.inflight = false;
    }
  }

  #coolingDown() {
    return this.data?.pools?.some((p) => p.cooldown_remaining_ms > 0);
  }

  // The ids of the tasks waiting on a pool: the daemon's list when it gives one, else the
  // pending tasks the page knows in that pool, in queue order.
  #waiting(pool) {
    if (Array.isArray(pool.waiting)) return pool.waiting;
    return [...this.store.tasks.values()]
      .filter((t) => t.state === 'pending' && t.pool === pool.key)
      .sort((a, b) => (a.queue_position || 1e9) - (b.queue_position || 1e9))
      .map((t) => t.id);
  }

  render() {
    const pools = this.data?.pools ?? [];
    const g = this.data?.global;
    const items = [];
    if (g) {
      items.push(h('p', { class: 'hint', 'data-testid': 'pools-global' },
        `All pools: ${g.running} running, ${g.pending} pending` +
        (g.limit ? `, at most ${g.limit} at once` : ', no global cap')));
    }
    if (!pools.length) items.push(h('p', { class: 'empty' }, 'No pool used yet: pools appear once a task runs.'));
    for (const p of pools) {
      const cool = Math.max(0, p.cooldown_remaining_ms - (Date.now() - this.readAt));
      const waiting = this.#waiting(p);
      items.push(h('section', { class: 'pool', 'data-testid': 'pool', 'data-pool-key': p.key },
        h('h3', {}, p.key),
        h('dl', {},
          h('dt', {}, 'limit'), h('dd', { 'data-testid': 'pool-limit' }, p.limit ? String(p.limit) : 'unlimited'),
          h('dt', {}, 'in use'), h('dd', { 'data-testid': 'pool-in-use' }, String(p.in_use)),
          h('dt', {}, 'queued'), h('dd', { 'data-testid': 'pool-queued' }, String(p.queued)),
          h('dt', {}, 'cool-down'), h('dd', { 'data-testid': 'pool-cooldown' }, cool > 0 ? `${duration(cool)} left` : 'none')),
        waiting.length
          ? h('div', { class: 'waiting', 'aria-label': `Tasks waiting on ${p.key}` },
              waiting.slice(0, 30).map((id) => {
                const t = this.store.get(id);
                return h('button', { type: 'button', 'data-testid': 'pool-waiting', 'data-task-id': id,
                                     onclick: () => this.onOpen(id) }, t?.description ? `${t.description}` : id);
              }),
              waiting.length > 30 ? h('span', { class: 'hint' }, `and ${waiting.length - 30} more`) : null)
          : null));
    }
    replace(this.el, items);
  }
}
