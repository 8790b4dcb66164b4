// Task trees: a lead and the tasks it delegated (and theirs), each with its state.
import { h, replace } from './dom.js';
import { buildForest } from './store.js';

// A nested list of `forest` ([{task, children}]); a button per task opens it.
export function treeList(forest, onOpen, currentId = null) {
  const ul = h('ul');
  for (const node of forest) {
    const t = node.task;
    ul.appendChild(h('li', { 'data-testid': 'tree-node', 'data-task-id': t.id, 'data-state': t.state },
      h('button', { type: 'button', onclick: () => onOpen(t.id),
                    'aria-current': t.id === currentId ? 'true' : null },
        h('span', { class: 'badge', 'data-state': t.state }, t.state),
        h('span', { class: 'd' }, t.description || t.id)),
      node.children.length ? treeList(node.children, onOpen, currentId) : null));
  }
  return ul;
}

// The side panel: the trees that have more than one task, newest first (at most `max`).
export class TreesPanel {
  constructor(store, onOpen, max = 12) {
    this.store = store;
    this.onOpen = onOpen;
    this.max = max;
    this.el = document.getElementById('trees');
    this.pending = false;
    store.subscribe(() => {
      if (this.pending) return;
      this.pending = true;
      setTimeout(() => { this.pending = false; this.render(); }, 500);
    });
  }

  render() {
    const byRoot = new Map();
    for (const t of this.store.tasks.values()) {
      if (!t.parent_session_id && !(t.depth > 0)) continue;
      const root = t.root_session_id || t.session_id;
      if (!byRoot.has(root)) byRoot.set(root, 0);
      byRoot.set(root, Math.max(byRoot.get(root), t.created_at_ms));
    }
    const roots = [...byRoot.entries()].sort((a, b) => b[1] - a[1]).slice(0, this.max);
    if (!roots.length) {
      replace(this.el, h('p', { class: 'empty' }, 'No delegated tasks yet: a tree appears when a task starts another.'));
      return;
    }
    replace(this.el, roots.map(([root]) =>
      h('div', { class: 'tree', 'data-testid': 'tree', 'data-root-session-id': root },
        treeList(this.store.tree(root), this.onOpen))));
  }
}

export { buildForest };
