// The launch dialog: agent (from GET /v1/agents), optional model and description, prompt.
// A refused launch shows the daemon's message and the field it is about.
import { get, post } from './api.js';
import { h, replace } from './dom.js';

export class LaunchDialog {
  constructor(store, { onLaunched }) {
    this.store = store;
    this.onLaunched = onLaunched;
    this.dialog = document.getElementById('launch');
    this.form = document.getElementById('launch-form');
    this.error = document.getElementById('launch-error');
    this.agentSelect = document.getElementById('launch-agent');
    this.agents = [];
    this.form.addEventListener('submit', (e) => { e.preventDefault(); this.#submit(); });
    for (const b of this.dialog.querySelectorAll('[data-close]')) b.addEventListener('click', () => this.dialog.close());
    this.agentSelect.addEventListener('change', () => this.#hint());
    document.getElementById('launch-prompt').addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); this.#submit(); }
    });
  }

  async open() {
    this.error.textContent = '';
    this.dialog.showModal();
    try {
      const { agents, default_model: def } = await get('/v1/agents');
      this.agents = agents;
      const current = this.agentSelect.value;
      replace(this.agentSelect, agents.map((a) => h('option', { value: a.name }, a.name)));
      if (current) this.agentSelect.value = current;
      else if (agents.some((a) => a.name === 'general')) this.agentSelect.value = 'general';
      const models = new Set([def?.model, ...agents.map((a) => a.model)].filter(Boolean));
      replace(document.getElementById('launch-models'), [...models].map((m) => h('option', { value: m })));
      document.getElementById('launch-model').placeholder = def?.model ? `default: ${def.model}` : '';
      this.#hint();
    } catch (e) {
      this.error.textContent = `agents: ${e.describe ? e.describe() : e.message}`;
    }
    document.getElementById('launch-prompt').focus();
  }

  #hint() {
    const a = this.agents.find((x) => x.name === this.agentSelect.value);
    document.getElementById('launch-agent-hint').textContent = a
      ? `${a.description || ''}${a.model ? ` (model ${a.model})` : ''}` : '';
  }

  async #submit() {
    const data = new FormData(this.form);
    const body = { prompt: String(data.get('prompt') ?? ''), agent: String(data.get('agent') ?? ''), owner: 'dashboard' };
    const model = String(data.get('model') ?? '').trim();
    const description = String(data.get('description') ?? '').trim();
    if (model) body.model = model;
    if (description) body.description = description;
    if (!body.agent) delete body.agent;
    this.error.textContent = '';
    const submit = this.form.querySelector('[type=submit]');
    submit.disabled = true;
    try {
      const { task } = await post('/v1/tasks', body);
      this.store.mergeSnapshot([task], null);
      document.getElementById('launch-prompt').value = '';
      document.getElementById('launch-description').value = '';
      this.dialog.close();
      this.onLaunched(task);
    } catch (e) {
      this.error.textContent = e.describe ? e.describe() : e.message;
      const field = e.field && this.form.querySelector(`[name="${CSS.escape(e.field)}"]`);
      if (field) field.focus();
    } finally {
      submit.disabled = false;
    }
  }
}
