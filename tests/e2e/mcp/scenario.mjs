// The SDK scenario both transports run: what an MCP client of troupe does, step by step, each
// step a node:test subtest so a report says exactly which behaviour holds. A step that needs an
// earlier one which failed is skipped (the earlier failure already fails the test).
//
// Every task is scripted with `#mock` lines in its prompt: a run of about a second (so that five
// tasks on a pool of two visibly queue), a known reply, or `hang` for a task to cancel.
import assert from 'node:assert/strict';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CallToolResultSchema, CreateTaskResultSchema, LoggingMessageNotificationSchema, McpError,
  TaskStatusNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';

import { MessageAudit, auditTransport } from './audit.mjs';
import { waitUntil } from './harness.mjs';

export const REQUEST_TIMEOUT_MS = 60_000;
const TOOLS = ['delegate_task', 'background_output', 'background_wait', 'background_cancel',
               'background_list'];
const FINAL = new Set(['completed', 'error', 'cancelled', 'interrupted']);

// Steps that later ones need.
const TOOLS_LISTED =
  'tools/list: the five tools, each with an outputSchema; delegate_task taskSupport optional';
const FIVE_LAUNCHED =
  'five delegate_task at once on a pool of two: 2 running, 3 pending at 1..3';
const TASKS_CAPABILITY =
  'initialize: tasks capability (tasks/list, tasks/cancel, task-augmented tools/call)';
const STREAMED =
  'tasks API: callToolStream on delegate_task yields taskCreated, working, result';

export function mockPrompt(directives, text) {
  return `#mock ${directives}\n${text}`;
}

// The `<system-reminder>` block a tool result starts with, if any: {text, ids}.
export function reminderOf(result) {
  const first = result.content?.[0];
  if (first?.type !== 'text' || !first.text.startsWith('<system-reminder>')) return null;
  return { text: first.text, ids: [...first.text.matchAll(/\bbg_[0-9a-z]+/g)].map((m) => m[0]) };
}

// The result's text without its reminder block.
export function bodyText(result) {
  const blocks = result.content ?? [];
  return blocks
    .filter((b, i) => b.type === 'text' && !(i === 0 && reminderOf(result)))
    .map((b) => b.text)
    .join('\n');
}

function describe(result) {
  return JSON.stringify(result, null, 1).slice(0, 3000);
}

// One SDK client session with everything it received recorded.
export class McpUser {
  constructor(label) {
    this.label = label;
    this.audit = new MessageAudit(label);
    this.client = new Client({ name: `troupe-e2e-${label}`, version: '1.0.0' });
    this.results = [];  // {name, args, result} of every tools/call answered, in order
    this.logs = [];  // params of notifications/message
    this.taskStatus = [];  // params of notifications/tasks/status
    this.client.onerror = (e) => this.audit.onTransportError(e);
    this.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      this.logs.push(n.params);
    });
    this.client.setNotificationHandler(TaskStatusNotificationSchema, (n) => {
      this.taskStatus.push(n.params);
    });
  }

  async connect(transport) {
    this.transport = auditTransport(transport, this.audit);
    await this.client.connect(this.transport, { timeout: REQUEST_TIMEOUT_MS });
  }

  // tools/call through the SDK (result schema and outputSchema checked by it); a tool-level error
  // (isError) is returned, not thrown.
  async call(name, args, options = {}) {
    const result = await this.client.callTool({ name, arguments: args }, CallToolResultSchema,
                                              { timeout: REQUEST_TIMEOUT_MS, ...options });
    this.results.push({ name, args, result });
    return result;
  }

  // A call that must succeed; returns its structuredContent.
  async ok(name, args, options) {
    const result = await this.call(name, args, options);
    assert.equal(result.isError, false, `${name} ${JSON.stringify(args)} failed: ${describe(result)}`);
    assert.ok(result.structuredContent, `${name}: no structuredContent`);
    return { result, data: result.structuredContent, text: bodyText(result) };
  }

  async launch(description, prompt, more = {}) {
    const { data, text } = await this.ok('delegate_task',
                                         { description, agent: 'general', prompt, ...more });
    assert.match(data.task_id, /^bg_/);
    assert.ok(text.includes(`Task ID: ${data.task_id}`), text);
    // The launch guidance is also where clients that show the model only structuredContent
    // (Claude Code, Codex) show it.
    assert.match(data.guidance ?? '', /notified automatically .* no need to poll/, JSON.stringify(data));
    assert.ok(text.endsWith(data.guidance), text);
    return data;
  }

  async state(taskId) {
    return (await this.ok('background_output', { task_id: taskId })).data.state;
  }

  async close() {
    this.audit.closing = true;
    try {
      if (this.transport?.terminateSession) await this.transport.terminateSession();
    } catch { /* the daemon may be gone already */ }
    await this.client.close().catch(() => {});
  }
}

// Subtests with dependencies: step(name, needs, fn) runs `fn` as subtest `name` of `t` unless a
// step it needs did not pass. `failed` lists the steps that failed, for the logs on failure.
export function stepper(t) {
  const passed = new Set();
  const failed = [];
  const step = async (name, needs, fn) => {
    await t.test(name, async (tt) => {
      const missing = needs.filter((n) => !passed.has(n));
      if (missing.length) {
        tt.skip(`needs the step(s) that failed: ${missing.join(', ')}`);
        return;
      }
      try {
        await fn(tt);
      } catch (e) {
        failed.push(name);
        throw e;
      }
      passed.add(name);
    });
    return passed.has(name);
  };
  return { step, passed, failed };
}

// The scenario over a connected McpUser `u`, as steps of `step` (see stepper). Returns the
// tasks it launched (owned by u's session): task id -> {session, final state}.
export async function runScenario(step, u) {
  const ours = new Map();  // task id -> {session, final: the state it must end in}
  let five = [];
  let cancelled = null;
  let streamTask = null;

  await step('initialize: 2025-11-25, serverInfo, tools and logging capabilities', [], async () => {
    const init = u.audit.initializeResult;
    assert.ok(init, 'the raw initialize result was not seen by the audit');
    assert.equal(init.protocolVersion, '2025-11-25');
    const info = u.client.getServerVersion();
    assert.equal(info.name, 'troupe');
    assert.equal(typeof info.version, 'string');
    const caps = u.client.getServerCapabilities();
    assert.ok(caps.tools, `no tools capability: ${JSON.stringify(caps)}`);
    assert.ok(caps.logging, `no logging capability: ${JSON.stringify(caps)}`);
  });

  await step(TASKS_CAPABILITY, [], async () => {
    const caps = u.client.getServerCapabilities();
    assert.ok(caps.tasks, 'the server does not declare the "tasks" capability (MCP tasks are not ' +
              `implemented yet?); capabilities: ${JSON.stringify(caps)}`);
    assert.ok(caps.tasks.list, `tasks.list missing: ${JSON.stringify(caps.tasks)}`);
    assert.ok(caps.tasks.cancel, `tasks.cancel missing: ${JSON.stringify(caps.tasks)}`);
    assert.ok(caps.tasks.requests?.tools?.call,
              `tasks.requests.tools.call missing: ${JSON.stringify(caps.tasks)}`);
  });

  await step(TOOLS_LISTED, [], async () => {
    const { tools } = await u.client.listTools(undefined, { timeout: REQUEST_TIMEOUT_MS });
    assert.deepEqual(tools.map((x) => x.name).sort(), [...TOOLS].sort());
    for (const tool of tools) {
      assert.equal(tool.inputSchema.type, 'object', tool.name);
      assert.equal(tool.outputSchema?.type, 'object', `${tool.name} has no outputSchema`);
      assert.ok(tool.description.length > 20, tool.name);
    }
    const delegate = tools.find((x) => x.name === 'delegate_task');
    assert.equal(delegate.execution?.taskSupport, 'optional');
  });

  await step(FIVE_LAUNCHED, [TOOLS_LISTED], async () => {
    const launched = await Promise.all([1, 2, 3, 4, 5].map((i) =>
      u.launch(`five ${i}`, mockPrompt(`latency=1s reply="five-${i} done"`, `Part ${i} of five.`))));
    for (const task of launched) ours.set(task.task_id, { session: task.session_id, final: 'completed' });
    five = launched.map((task, i) => ({ ...task, reply: `five-${i + 1} done` }));
    const states = launched.map((x) => x.state).sort();
    assert.deepEqual(states, ['pending', 'pending', 'pending', 'running', 'running'],
                     JSON.stringify(launched, null, 1));
    const positions = launched.filter((x) => x.state === 'pending').map((x) => x.queue_position);
    assert.deepEqual(positions.sort(), [1, 2, 3]);
    for (const x of launched.filter((y) => y.state === 'running')) assert.equal(x.queue_position, 0);
    const texts = u.results.slice(-5).map((r) => bodyText(r.result));
    for (const text of texts) assert.ok(text.startsWith('Background task launched.'), text);
    assert.equal(texts.filter((s) => /Queue position: [123]\n/.test(s)).length, 3, texts.join('\n\n'));
  });

  await step('background_output polled until the five are done', [FIVE_LAUNCHED], async () => {
    const open = new Set(five.map((x) => x.task_id));
    const seen = new Map(five.map((x) => [x.task_id, new Set()]));
    await waitUntil(async () => {
      for (const id of [...open]) {
        const { data, text } = await u.ok('background_output', { task_id: id });
        assert.equal(data.task_id, id);
        seen.get(id).add(data.state);
        if (FINAL.has(data.state)) {
          open.delete(id);
        } else {
          assert.ok(text.startsWith('## Task Status'), text);
        }
      }
      return open.size === 0;
    }, 60_000, 'the five tasks to end', 150);
    for (const [id, states] of seen) {
      assert.ok(states.has('completed'), `${id}: states seen ${[...states]}`);
    }
  });

  await step('background_wait mode all', [FIVE_LAUNCHED], async () => {
    const ids = five.map((x) => x.task_id);
    const { data, text } = await u.ok('background_wait',
                                      { task_ids: ids, mode: 'all', timeout_ms: 60_000 });
    assert.equal(data.timed_out, false);
    assert.deepEqual(data.tasks.map((x) => x.task_id), ids);
    assert.deepEqual(data.tasks.map((x) => x.state), Array(5).fill('completed'));
    assert.ok(text.startsWith('All 5 tasks finished.'), text);
    for (const id of ids) assert.ok(text.includes(id), text);
  });

  await step('background_output reads every result', [FIVE_LAUNCHED], async () => {
    for (const task of five) {
      const { data, text } = await u.ok('background_output', { task_id: task.task_id });
      assert.equal(data.state, 'completed');
      assert.equal(data.result, task.reply);
      assert.equal(data.session_id, task.session_id);
      assert.ok(text.startsWith('Task Result'), text);
      assert.ok(text.includes(`Task ID: ${task.task_id}`), text);
      assert.ok(text.endsWith(task.reply), text);
    }
  });

  await step('piggy-backed <system-reminder>: on the next result after a task ended, then never again',
             [TOOLS_LISTED], async () => {
    const probe = await u.launch('reminder probe',
                                 mockPrompt('latency=300ms reply="probe done"', 'Probe.'));
    ours.set(probe.task_id, { session: probe.session_id, final: 'completed' });
    const wait = await u.call('background_wait', { task_ids: [probe.task_id], timeout_ms: 60_000 });
    assert.equal(wait.isError, false, describe(wait));
    const reminder = reminderOf(wait);
    assert.ok(reminder, `the first result after the task ended has no <system-reminder>: ${describe(wait)}`);
    assert.ok(reminder.text.endsWith('</system-reminder>'), reminder.text);
    assert.ok(reminder.text.includes(`${probe.task_id} (general: reminder probe) completed`), reminder.text);
    // The same notice in structuredContent, for the clients that show the model only that.
    const notice = wait.structuredContent.notices?.find((n) => n.task_id === probe.task_id);
    assert.ok(notice, `no notice of ${probe.task_id} in structuredContent: ${describe(wait)}`);
    assert.equal(notice.state, 'completed');
    assert.ok(notice.summary.includes('(general: reminder probe) completed'), notice.summary);
    assert.ok(reminder.text.includes(wait.structuredContent.reminder), describe(wait));
    const next = await u.call('background_list', {});
    assert.ok(!reminderOf(next)?.ids.includes(probe.task_id),
              `the notice of ${probe.task_id} was repeated: ${describe(next)}`);
    assert.ok(!next.structuredContent?.notices?.some((n) => n.task_id === probe.task_id),
              `the notice of ${probe.task_id} was repeated in structuredContent: ${describe(next)}`);
  });

  await step('background_cancel: a running task, with the cancel table and Continue Instructions',
             [TOOLS_LISTED], async () => {
    const long = await u.launch('long one', mockPrompt('hang', 'Wait forever.'));
    ours.set(long.task_id, { session: long.session_id, final: 'cancelled' });
    await waitUntil(async () => (await u.state(long.task_id)) === 'running', 30_000,
                    `${long.task_id} to run`, 100);
    // A wait that ends at its limit while the task runs says how to wait again, in both forms.
    const waited = await u.ok('background_wait', { task_ids: [long.task_id], timeout_ms: 300 });
    assert.equal(waited.data.timed_out, true);
    assert.deepEqual(waited.data.wait_again,
                     { tool: 'background_wait', arguments: { task_ids: [long.task_id], mode: 'all' } });
    const waitAgain = `To wait again, call background_wait(task_ids=["${long.task_id}"], mode="all").`;
    assert.ok(waited.text.endsWith(waitAgain), waited.text);
    assert.ok(waited.data.guidance.endsWith(waitAgain), waited.data.guidance);
    const blocked = await u.ok('background_output',
                               { task_id: long.task_id, block: true, timeout_ms: 300 });
    assert.equal(blocked.data.timed_out, true);
    assert.deepEqual(blocked.data.wait_again,
                     { tool: 'background_output', arguments: { task_id: long.task_id, block: true } });
    assert.ok(blocked.text.startsWith('Still running after waiting 300ms. To wait again, call ' +
                                      `background_output(task_id="${long.task_id}", block=true).`),
              blocked.text);
    const { data, text } = await u.ok('background_cancel', { task_id: long.task_id });
    assert.equal(data.cancelled.length, 1, JSON.stringify(data));
    assert.equal(data.cancelled[0].task_id, long.task_id);
    assert.equal(data.cancelled[0].state, 'cancelled');
    assert.deepEqual(data.already_finished, []);
    assert.ok(text.startsWith('Cancelled 1 background task(s):'), text);
    assert.ok(text.includes('| Task ID | Description | Status | Session ID |'), text);
    assert.ok(text.includes(`| \`${long.task_id}\` | long one | running | \`${long.session_id}\` |`), text);
    assert.ok(text.includes('## Continue Instructions'), text);
    assert.ok(text.includes(`- \`${long.session_id}\` (long one)`), text);
    assert.ok(data.guidance.includes(`Continuable sessions: ${long.session_id} (long one)`),
              JSON.stringify(data));
    const after = await u.ok('background_output', { task_id: long.task_id });
    assert.equal(after.data.state, 'cancelled');
    assert.ok(after.text.startsWith('Task Cancelled'), after.text);
    const again = await u.ok('background_cancel', { task_id: long.task_id });
    assert.deepEqual(again.data.cancelled, []);
    assert.equal(again.data.already_finished[0]?.task_id, long.task_id);
    assert.ok(again.text.includes('is already cancelled'), again.text);
    cancelled = long;
  });

  await step('continue: a completed session and the cancelled one, each in its own session',
             [FIVE_LAUNCHED], async () => {
    const sessions = [five[0]];
    if (cancelled) sessions.push(cancelled);
    for (const [i, base] of sessions.entries()) {
      const reply = `follow-up ${i} done`;
      const { data, text } = await u.ok('delegate_task', {
        session_id: base.session_id, description: `follow-up ${i}`,
        prompt: mockPrompt(`latency=300ms reply="${reply}"`, 'Continue where you stopped.') });
      ours.set(data.task_id, { session: base.session_id, final: 'completed' });
      assert.notEqual(data.task_id, base.task_id);
      assert.equal(data.session_id, base.session_id);
      assert.ok(text.startsWith(`Background task launched, continuing session ${base.session_id}.`), text);
      const wait = await u.ok('background_wait', { task_ids: [data.task_id], timeout_ms: 60_000 });
      assert.equal(wait.data.tasks[0].state, 'completed', JSON.stringify(wait.data));
      const out = await u.ok('background_output', { task_id: data.task_id });
      assert.equal(out.data.result, reply);
      assert.equal(out.data.session_id, base.session_id);
      assert.ok(out.text.includes(`Session ID: ${base.session_id}`), out.text);
    }
    assert.ok(cancelled, 'the cancelled task of the previous step is missing');
  });

  await step('foreground delegate_task (background=false): progress notifications, then the result',
             [TOOLS_LISTED], async () => {
    const progress = [];
    const { data, text } = await u.ok('delegate_task', {
      description: 'foreground', agent: 'general', background: false,
      prompt: mockPrompt('latency=500ms reply="foreground done"', 'Answer while I wait.'),
    }, { onprogress: (p) => progress.push(p) });
    ours.set(data.task_id, { session: data.session_id, final: 'completed' });
    assert.equal(data.state, 'completed');
    assert.equal(data.result, 'foreground done');
    assert.ok(text.startsWith('Task Result'), text);
    assert.ok(progress.length >= 1, 'no notifications/progress arrived before the result');
    // A few steps (the wait's start, state changes, tool calls), not one per streamed token.
    assert.ok(progress.length <= 5, `${progress.length} notifications/progress: ` +
              JSON.stringify(progress.map((p) => p.message)));
    assert.match(progress[0].message, new RegExp(`^waiting for ${data.task_id} (pending|running)$`),
                 JSON.stringify(progress[0]));
    for (const p of progress) assert.equal(typeof p.progress, 'number');
    const steps = progress.map((p) => p.progress);
    assert.deepEqual(steps, [...steps].sort((a, b) => a - b), `progress went backwards: ${steps}`);
  });

  await step('background_list: all, status filters, a bad status', [FIVE_LAUNCHED], async () => {
    const all = await u.ok('background_list', {});
    const listed = all.data.tasks.map((x) => x.task_id);
    assert.deepEqual([...listed].sort(), [...ours.keys()].sort(), all.text);
    for (const x of all.data.tasks) assert.equal(x.state, ours.get(x.task_id).final, x.task_id);
    assert.ok(all.text.startsWith(`Background tasks (${ours.size}):`), all.text);
    for (const [status, expect] of [['completed', 'completed'], ['cancelled', 'cancelled']]) {
      const r = await u.ok('background_list', { status });
      const want = [...ours].filter(([, v]) => v.final === expect).map(([k]) => k).sort();
      assert.deepEqual(r.data.tasks.map((x) => x.task_id).sort(), want, status);
    }
    const active = await u.ok('background_list', { status: 'active' });
    assert.deepEqual(active.data.tasks, []);
    assert.equal(active.text, 'No background tasks.');
    const bad = await u.call('background_list', { status: 'bogus' });
    assert.equal(bad.isError, true, describe(bad));
    assert.ok(bodyText(bad).includes('`status` must be one of'), bodyText(bad));
  });

  await step('every finished task announced at most once, only to its own session', [], async () => {
    const count = new Map();
    for (const { result } of u.results) {
      for (const id of new Set(reminderOf(result)?.ids ?? [])) count.set(id, (count.get(id) ?? 0) + 1);
    }
    for (const [id, n] of count) {
      assert.ok(ours.has(id), `a reminder names ${id}, which this session did not launch`);
      assert.equal(n, 1, `${id} was announced ${n} times`);
    }
  });

  await step('pushed notifications/message for every finished task', [FIVE_LAUNCHED], async () => {
    const finished = [...ours.keys()];
    const mentions = (id) => u.logs.some((p) => JSON.stringify(p.data ?? '').includes(id));
    await waitUntil(() => finished.every(mentions), 10_000,
                    'a notifications/message naming each finished task').catch(() => {});
    const missing = finished.filter((id) => !mentions(id));
    assert.deepEqual(missing, [], `no notifications/message names these finished tasks ` +
                     `(${u.logs.length} notifications/message received in all` +
                     `${u.logs.length ? `, e.g. ${JSON.stringify(u.logs[0])}` : ''})`);
  });

  await step(STREAMED, [TOOLS_LISTED, TASKS_CAPABILITY], async () => {
    const messages = [];
    const stream = u.client.experimental.tasks.callToolStream(
      { name: 'delegate_task', arguments: { description: 'as an MCP task', agent: 'general',
        prompt: mockPrompt('latency=1500ms reply="task api done"', 'Run as a task.') } },
      CallToolResultSchema, { timeout: REQUEST_TIMEOUT_MS });
    for await (const m of stream) messages.push(m);
    const types = messages.map((m) => (m.type === 'taskStatus' ? `taskStatus:${m.task.status}` : m.type));
    assert.equal(messages[0]?.type, 'taskCreated', `stream: ${types}; ${JSON.stringify(messages.at(-1))}`);
    assert.equal(messages[0].task.status, 'working', JSON.stringify(messages[0]));
    assert.ok(types.includes('taskStatus:working'), `stream: ${types}`);
    assert.equal(types.at(-2), 'taskStatus:completed', `stream: ${types}`);
    const last = messages.at(-1);
    assert.equal(last.type, 'result', `stream: ${types}; ${last.error ?? ''}`);
    assert.equal(last.result.isError, false, describe(last.result));
    assert.equal(last.result.structuredContent?.state, 'completed', describe(last.result));
    assert.equal(last.result.structuredContent?.result, 'task api done', describe(last.result));
    streamTask = messages[0].task;
  });

  await step('tasks API: tasks/get, tasks/list, tasks/result of the finished task', [STREAMED], async () => {
    const id = streamTask.taskId;
    const got = await u.client.experimental.tasks.getTask(id, { timeout: REQUEST_TIMEOUT_MS });
    assert.equal(got.taskId, id);
    assert.equal(got.status, 'completed');
    let found = false;
    let cursor;
    for (let page = 0; page < 100 && !found; ++page) {
      const list = await u.client.experimental.tasks.listTasks(cursor, { timeout: REQUEST_TIMEOUT_MS });
      found = list.tasks.some((x) => x.taskId === id && x.status === 'completed');
      cursor = list.nextCursor;
      if (!cursor) break;
    }
    assert.ok(found, `tasks/list does not list ${id} as completed`);
    const result = await u.client.experimental.tasks.getTaskResult(id, CallToolResultSchema,
                                                                    { timeout: REQUEST_TIMEOUT_MS });
    assert.equal(result.isError, false, describe(result));
    assert.equal(result.structuredContent?.result, 'task api done', describe(result));
    await waitUntil(() => u.taskStatus.some((p) => p.taskId === id && p.status === 'completed'), 10_000,
                    `notifications/tasks/status completed for ${id} (received: ` +
                    `${JSON.stringify(u.taskStatus.slice(0, 5))})`);
  });

  await step('tasks API: tasks/cancel of a working task, then of finished ones is an error',
             [TOOLS_LISTED, TASKS_CAPABILITY], async () => {
    const created = await u.client.request(
      { method: 'tools/call', params: { name: 'delegate_task', arguments: {
        description: 'MCP task to cancel', agent: 'general', prompt: mockPrompt('hang', 'Hang.') } } },
      CreateTaskResultSchema, { task: { ttl: 600_000 }, timeout: REQUEST_TIMEOUT_MS });
    const id = created.task.taskId;
    assert.equal(created.task.status, 'working');
    const before = await u.client.experimental.tasks.getTask(id, { timeout: REQUEST_TIMEOUT_MS });
    assert.equal(before.status, 'working');
    const cancelledTask = await u.client.experimental.tasks.cancelTask(id, { timeout: REQUEST_TIMEOUT_MS });
    assert.equal(cancelledTask.taskId, id);
    assert.equal(cancelledTask.status, 'cancelled');
    const after = await u.client.experimental.tasks.getTask(id, { timeout: REQUEST_TIMEOUT_MS });
    assert.equal(after.status, 'cancelled');
    const refused = async (taskId) => {
      await assert.rejects(u.client.experimental.tasks.cancelTask(taskId, { timeout: REQUEST_TIMEOUT_MS }),
                           (e) => e instanceof McpError && e.code === -32602,
                           `tasks/cancel of finished task ${taskId} should be error -32602`);
    };
    await refused(id);
    if (streamTask) await refused(streamTask.taskId);
  });

  return ours;
}

// A second session `v` lists none of `u`'s tasks, runs one of its own that `u` does not see,
// and may not cancel `u`'s. `name` labels the task and the messages.
export async function checkSessionsAreSeparate(u, v, name) {
  await v.client.listTools(undefined, { timeout: 30_000 });
  const empty = await v.ok('background_list', {});
  assert.deepEqual(empty.data.tasks, []);
  const mine = await v.launch(name, mockPrompt(`latency=200ms reply="${name} done"`, 'Hi.'));
  const wait = await v.ok('background_wait', { task_ids: [mine.task_id], timeout_ms: 60_000 });
  assert.equal(wait.data.tasks[0].state, 'completed');
  const others = (await u.ok('background_list', {})).data.tasks;
  assert.ok(!others.some((x) => x.task_id === mine.task_id), `session 1 lists the ${name}'s task`);
  const foreign = await v.call('background_cancel', { task_id: others[0].task_id });
  assert.equal(foreign.isError, true, `the ${name} may not cancel session 1's task`);
}

// The step that closes every user and fails if any message one of them received broke the
// SDK's schemas.
export async function checkAudits(step, base, t, users) {
  await step('every message received passed the SDK\'s schemas', base, async () => {
    for (const user of users) await user.close();
    const failures = users.flatMap((x) => x.audit.failures);
    for (const x of users) t.diagnostic(x.audit.report().split('\n')[0]);
    assert.equal(failures.length, 0, users.map((x) => x.audit.report()).join('\n'));
    assert.ok(users[0].audit.received > 20, 'the audit saw almost nothing: is the tap broken?');
  });
}
