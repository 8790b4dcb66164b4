// One task, in a dialog: its facts, usage and cost, its tree, its transcript (messages, tool
// calls with their arguments, tool results capped, errors), and the actions: cancel it, cancel
// its tree, continue its session with a prompt.
import { get, post, withQuery } from './api.js';
import { h, replace } from './dom.js';
import { clock, cost, duration, tokens, ACTIVE_STATES } from './format.js';
import { liveText } from './board.js';
import { treeList } from './trees.js';

const CAP = 2000;  // characters of a message or tool result shown before "Show all"

export class TaskDetail {
  constructor(store, { announce }) {
    this.store = store;
    this.announce = announce;
    this.dialog = document.getElementById('detail');
    this.id = null;
    this.returnFocus = null;
    this.messages = [];
    this.lastSeq = 0;
    this.refreshing = false;
    this.again = false;
    this.dialog.addEventListener('close', () => {
      this.id = null;
      replace(this.dialog);
      if (this.returnFocus?.isConnected) this.returnFocus.focus();
    });
    store.subscribe((ids) => {
      if (this.id && (!ids || ids.includes(this.id))) this.#onTaskChanged();
    });
  }

  async open(id) {
    if (!this.dialog.open) this.returnFocus = document.activeElement;
    this.id = id;
    this.messages = [];
    this.lastSeq = 0;
    this.lastState = null;
    this.treeState = null;
    this.#skeleton();
    if (!this.dialog.open) this.dialog.showModal();
    await this.refresh();
  }

  #skeleton() {
    const t = this.store.get(this.id) ?? { id: this.id, state: '', description: '' };
    this.els = {
      title: h('h2', { id: 'detail-title' }, t.description || t.id),
      state: h('span', { class: 'badge', 'data-testid': 'detail-state', 'data-state': t.state }, t.state),
      live: h('p', { class: 'hint', 'data-testid': 'detail-live' }),
      facts: h('dl', { class: 'facts', 'data-testid': 'detail-facts' }),
      error: h('p', { class: 'error', role: 'alert', 'data-testid': 'detail-error' }),
      taskError: h('div', { 'data-testid': 'detail-task-error' }),
      result: h('div', { 'data-testid': 'detail-result' }),
      usage: h('div', { 'data-testid': 'detail-usage' }),
      tree: h('div', { class: 'tree', 'data-testid': 'detail-tree' }),
      transcript: h('ol', { class: 'transcript', 'data-testid': 'transcript' }),
      cancel: h('button', { type: 'button', class: 'danger', 'data-testid': 'cancel-task',
                            onclick: () => this.#cancel() }, 'Cancel task'),
      cancelTree: h('button', { type: 'button', class: 'danger', 'data-testid': 'cancel-tree',
                                onclick: () => this.#cancelTree() }, 'Cancel tree'),
      prompt: h('textarea', { id: 'continue-prompt', rows: '3', 'data-testid': 'continue-prompt' }),
    };
    const form = h('form', { class: 'continue', 'data-testid': 'continue-form', onsubmit: (e) => {
      e.preventDefault();
      this.#continue();
    } },
      h('label', { for: 'continue-prompt' }, 'Continue this session with a prompt'),
      this.els.prompt,
      h('div', { class: 'actions' }, h('button', { type: 'submit', 'data-testid': 'continue-submit' }, 'Continue')));
    this.els.prompt.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); this.#continue(); }
    });
    replace(this.dialog,
      h('div', { class: 'dialog-head' }, this.els.state, this.els.title,
        h('button', { type: 'button', class: 'icon', 'aria-label': 'Close', 'data-testid': 'detail-close',
                      onclick: () => this.dialog.close() }, '✕')),
      h('p', { class: 'mono hint', 'data-testid': 'detail-id' }, this.id),
      this.els.live,
      this.els.error,
      h('div', { class: 'actions' }, this.els.cancel, this.els.cancelTree),
      this.els.taskError,
      h('h3', {}, 'Task'), this.els.facts,
      h('h3', {}, 'Usage and cost'), this.els.usage,
      h('h3', {}, 'Tree'), this.els.tree,
      this.els.result,
      h('h3', {}, 'Transcript'), this.els.transcript,
      form);
  }

  // Re-reads the task, its new messages and its spend (coalesced: one at a time).
  async refresh() {
    if (this.refreshing) { this.again = true; return; }
    this.refreshing = true;
    const id = this.id;
    try {
      const [{ task }, spend] = await Promise.all([
        get(`/v1/tasks/${encodeURIComponent(id)}`),
        get(`/v1/tasks/${encodeURIComponent(id)}/spend`).catch(() => null),
      ]);
      if (id !== this.id) return;
      this.store.mergeSnapshot([task], null);
      this.task = task;
      this.spend = spend;
      const { messages } = await get(withQuery(`/v1/sessions/${encodeURIComponent(task.session_id)}/messages`,
                                               { after: this.lastSeq }));
      if (id !== this.id) return;
      for (const m of messages) {
        this.messages.push(m);
        this.lastSeq = Math.max(this.lastSeq, m.seq);
        this.els.transcript.appendChild(renderMessage(m));
      }
      if (!this.messages.length) {
        replace(this.els.transcript, h('li', { class: 'empty' }, 'No messages yet.'));
      } else {
        this.els.transcript.querySelector(':scope > li.empty')?.remove();
      }
      this.#render();
      // the tree from the daemon when the task changes state, else from what the page knows
      const fetchTree = task.state !== this.treeState;
      this.treeState = task.state;
      await this.#loadTree(task, fetchTree);
    } catch (e) {
      if (id === this.id) this.els.error.textContent = e.describe ? e.describe() : String(e);
    } finally {
      this.refreshing = false;
      if (this.again && this.id) { this.again = false; this.refresh(); }
    }
  }

  #onTaskChanged() {
    const t = this.store.get(this.id);
    if (!t) return;
    this.els.state.textContent = t.state;
    this.els.state.dataset.state = t.state;
    this.els.live.textContent = liveText(t);
    this.#buttons(t);
    // a new state or new progress may have new messages: re-read, at most one a second
    const now = Date.now();
    if (t.state !== this.lastState || now - (this.lastRead ?? 0) > 1000) {
      this.lastState = t.state;
      this.lastRead = now;
      this.refresh();
    }
  }

  #buttons(t) {
    const active = ACTIVE_STATES.has(t.state);
    this.els.cancel.disabled = !active;
    this.els.cancel.title = active ? '' : 'The task has ended';
  }

  #render() {
    const t = this.task;
    this.els.title.textContent = t.description || t.id;
    this.els.state.textContent = t.state;
    this.els.state.dataset.state = t.state;
    this.els.live.textContent = liveText(this.store.get(t.id) ?? t);
    this.#buttons(t);
    const u = t.usage ?? {};
    const facts = [
      ['agent', t.agent], ['model', t.model], ['owner', t.owner], ['session', t.session_id],
      ['parent session', t.parent_session_id || '—'], ['depth', t.depth], ['attempt', t.attempt],
      ['pool', t.pool || '—'],
      ['queue position', t.state === 'pending' ? (t.queue_position || '—') : null],
      ['waiting', t.waiting_reason || null],
      ['created', clock(t.created_at_ms)], ['started', clock(t.started_at_ms)],
      ['finished', clock(t.finished_at_ms)], ['queued for', duration(t.queued_ms)],
      ['ran for', duration(t.duration_ms)], ['turns', t.turns], ['tool calls', t.tool_calls],
      ['last tool', t.last_tool || '—'], ['stop reason', t.stop_reason || null],
      ['workspace worktree', t.worktree ? t.worktree.branch : null],
    ];
    replace(this.els.facts, facts.filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))]));
    replace(this.els.taskError, t.error ? [h('h3', {}, 'Error'), h('pre', { class: 'box error' }, t.error)] : null);
    replace(this.els.result, t.result ? [h('h3', {}, 'Result'), capped(t.result, 'pre', 'box')] : null);
    const rows = [['this task', u]];
    if (this.spend?.tree && t.parent_session_id === '' && this.spend.tree.tasks > 1) rows.push(['its tree', this.spend.tree.usage]);
    else if (this.spend?.tree?.usage) rows.push(['its tree', this.spend.tree.usage]);
    replace(this.els.usage,
      h('div', { class: 'scroll-x' }, h('table', { class: 'usage-table' },
        h('thead', {}, h('tr', {}, ['', 'requests', 'input', 'output', 'cache read', 'cache write', 'reasoning', 'cost']
          .map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, rows.map(([label, x]) => h('tr', {},
          h('th', { scope: 'row' }, label),
          h('td', {}, String(x?.requests ?? 0)), h('td', {}, tokens(x?.input_tokens ?? t.input_tokens)),
          h('td', {}, tokens(x?.output_tokens ?? t.output_tokens)), h('td', {}, tokens(x?.cache_read_tokens ?? 0)),
          h('td', {}, tokens(x?.cache_write_tokens ?? 0)), h('td', {}, tokens(x?.reasoning_tokens ?? 0)),
          h('td', { 'data-testid': label === 'this task' ? 'detail-cost' : null }, cost(x))))))),
      t.budget && (t.budget.max_tokens || t.budget.max_cost_usd)
        ? h('p', { class: 'hint' }, `budget: ${t.budget.max_tokens ? `${t.budget.max_tokens} tokens` : ''}` +
            `${t.budget.max_cost_usd ? ` $${t.budget.max_cost_usd}` : ''}`)
        : null,
      this.spend?.tree?.stopped ? h('p', { class: 'error' }, `tree stopped: ${this.spend.tree.stopped}`) : null);
  }

  async #loadTree(task, fetch) {
    const root = task.root_session_id || task.session_id;
    // the whole tree from the daemon (GET /v1/tasks?root=…), else what the page has loaded
    if (fetch) {
      try {
        this.store.mergeSnapshot((await get(withQuery('/v1/tasks', { root, limit: 1000 }))).tasks, null);
      } catch { /* an older daemon without the tree listing */ }
    }
    if (task.id !== this.id) return;
    const forest = this.store.tree(root);
    this.treeIds = [];
    const walk = (nodes) => { for (const n of nodes) { this.treeIds.push(n.task.id); walk(n.children); } };
    walk(forest);
    this.els.cancelTree.disabled = !this.treeIds.some((id) => ACTIVE_STATES.has(this.store.get(id)?.state));
    replace(this.els.tree, forest.length
      ? treeList(forest, (id) => this.open(id), this.id)
      : h('p', { class: 'empty' }, 'Only this task.'));
  }

  async #cancel() {
    const id = this.id;
    this.els.error.textContent = '';
    try {
      const r = await post(`/v1/tasks/${encodeURIComponent(id)}/cancel`, { reason: 'cancelled from the dashboard' });
      this.store.mergeSnapshot([r.task], null);
      this.announce(`Task ${r.task.description || id} cancelled (it was ${r.was}).`);
      this.refresh();
    } catch (e) {
      this.els.error.textContent = `cancel: ${e.describe ? e.describe() : e.message}`;
    }
  }

  // Cancels every active task of the tree, the deepest first (so no parent delegates again).
  async #cancelTree() {
    const ids = (this.treeIds ?? [this.id]).filter((id) => ACTIVE_STATES.has(this.store.get(id)?.state));
    if (!ids.length) return;
    if (!window.confirm(`Cancel ${ids.length} active task(s) of this tree?`)) return;
    ids.sort((a, b) => (this.store.get(b)?.depth ?? 0) - (this.store.get(a)?.depth ?? 0));
    this.els.error.textContent = '';
    const failed = [];
    for (const id of ids) {
      try {
        const r = await post(`/v1/tasks/${encodeURIComponent(id)}/cancel`, { reason: 'tree cancelled from the dashboard' });
        this.store.mergeSnapshot([r.task], null);
      } catch (e) {
        failed.push(`${id}: ${e.describe ? e.describe() : e.message}`);
      }
    }
    if (failed.length) this.els.error.textContent = `cancel tree: ${failed.join('; ')}`;
    else this.announce(`${ids.length} task(s) of the tree cancelled.`);
    this.refresh();
  }

  async #continue() {
    const prompt = this.els.prompt.value;
    this.els.error.textContent = '';
    try {
      const r = await post('/v1/tasks', { session_id: this.task.session_id, prompt, owner: 'dashboard' });
      this.els.prompt.value = '';
      this.store.mergeSnapshot([r.task], null);
      this.announce(`Session continued: task ${r.task.id} is ${r.task.state}.`);
      this.open(r.task.id);
    } catch (e) {
      this.els.error.textContent = `continue: ${e.describe ? e.describe() : e.message}`;
    }
  }
}

// Text shown up to CAP characters, with a button that shows the rest.
function capped(text, tag = 'pre', cls = 'box') {
  const el = h(tag, { class: cls });
  if (text.length <= CAP) {
    el.textContent = text;
    return el;
  }
  el.textContent = `${text.slice(0, CAP)}…`;
  const more = h('button', { type: 'button', 'data-testid': 'show-all', onclick: () => {
    el.textContent = text;
    more.remove();
  } }, `Show all ${text.length} characters`);
  return h('div', {}, el, more);
}

function contentText(content) {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((p) => (typeof p === 'string' ? p : p?.text ?? JSON.stringify(p))).join('\n');
  }
  return content == null ? '' : JSON.stringify(content);
}

function prettyArgs(args) {
  if (typeof args !== 'string') return JSON.stringify(args, null, 2);
  try { return JSON.stringify(JSON.parse(args), null, 2); } catch { return args; }
}

function renderMessage(m) {
  const msg = m.message ?? {};
  const role = msg.role || m.role;
  const isError = msg.is_error === true;
  const who = role === 'tool' ? `tool result: ${msg.name || ''}${isError ? ' (error)' : ''}` : role;
  const parts = [h('div', { class: 'who' }, `${who} · ${clock(m.created_at_ms)} · ${m.task_id}`)];
  if (msg.reasoning) parts.push(h('details', {}, h('summary', {}, 'reasoning'), capped(msg.reasoning)));
  const text = contentText(msg.content);
  if (text) parts.push(capped(text));
  if (msg.refusal) parts.push(h('p', { class: 'error' }, `refused: ${msg.refusal}`));
  for (const call of msg.tool_calls ?? []) {
    parts.push(h('div', { class: 'call', 'data-testid': 'tool-call' },
      h('div', { class: 'who' }, `tool call: ${call.name}`), capped(prettyArgs(call.arguments))));
  }
  if (msg.stop_reason && msg.stop_reason !== 'end_turn' && msg.stop_reason !== 'stop' &&
      msg.stop_reason !== 'tool_use' && msg.stop_reason !== 'tool_calls') {
    parts.push(h('p', { class: 'error' }, `stopped: ${msg.stop_reason}`));
  }
  return h('li', { class: 'msg', 'data-testid': 'message', 'data-role': role, 'data-error': String(isError) }, parts);
}
