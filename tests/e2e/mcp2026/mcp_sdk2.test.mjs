// troupe's MCP server at protocol revision 2026-07-28, driven by the official MCP TypeScript SDK
// v2 client (@modelcontextprotocol/client, pinned) over Streamable HTTP (`troupe serve`) or stdio
// (`troupe mcp`), as $TROUPE_E2E_TRANSPORT says. Twice: pinned to 2026-07-28, then in `auto`
// mode, which must negotiate 2026-07-28 too. Each run: server/discover, tools/list, five
// delegate_task launched as tasks of the tasks extension on a pool of two, polled with
// tasks/get, one cancelled with tasks/cancel, the results read, a troupe session continued, and
// every completion notice seen exactly once under the caller's session handle. Then malformed
// 2026 requests get the revision's error codes, and the daemon is killed and started again: the
// tasks answer tasks/get under the same ids.
//
// Every message the server sends is checked against the SDK's own schemas: JSON-RPC framing
// (@modelcontextprotocol/core's JSONRPCMessageSchema) for all, the SDK client's decoding of each
// core result (it rejects any violation), and the tasks extension's v2 schemas
// (@modelcontextprotocol/ext-tasks/core/v2) for CreateTaskResult and tasks/get|cancel results.
// SDK 2.4.0's Client rejects a `resultType: "task"` result (it has no tasks extension of its
// own), so the task-returning tools/call and tasks/* go through the SDK transport raw, with the
// extension declared in that request's own client capabilities, as the extension prescribes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import test from 'node:test';

import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { JSONRPCMessageSchema } from '@modelcontextprotocol/core';
import {
  CancelTaskResultV2Schema, CreateTaskResultV2Schema, GetTaskResultV2Schema,
} from '@modelcontextprotocol/ext-tasks/core/v2';

import { TroupeSandbox, sleep, waitUntil } from '../mcp/harness.mjs';

const TRANSPORT = process.env.TROUPE_E2E_TRANSPORT ?? 'http';
const MODERN = '2026-07-28';
const TASKS_EXT = 'io.modelcontextprotocol/tasks';
const TOOLS = ['delegate_task', 'background_output', 'background_wait', 'background_cancel',
               'background_list'];
const sandbox = new TroupeSandbox(`sdk2-${TRANSPORT}`);

const mockPrompt = (directives, text) => `#mock ${directives}\n${text}`;
const texts = (result) => (result.content ?? []).filter((b) => b.type === 'text').map((b) => b.text).join('\n');
const reminderIds = (result) => {
  const first = result?.content?.[0];
  if (first?.type !== 'text' || !first.text.startsWith('<system-reminder>')) return [];
  return [...first.text.matchAll(/\bbg_[0-9a-z]+/g)].map((m) => m[0]);
};

function check(schema, value, what) {
  const parsed = schema.safeParse(value);
  assert.ok(parsed.success, `${what} violates the SDK schema: ${parsed.error}\n${JSON.stringify(value).slice(0, 2000)}`);
  return parsed.data;
}

// One SDK v2 client with its transport tapped: every incoming message validated, and raw
// requests (the tasks extension) sent and answered beside the client's own.
class User {
  constructor(label) {
    this.label = label;
    this.received = [];
    this.pending = new Map();
    this.nextRaw = 1;
    this.unexpected = [];
  }

  async connect(transport, mode) {
    this.transport = transport;
    this.client = new Client({ name: `troupe-e2e-${this.label}`, version: '1.0.0' },
                             { versionNegotiation: { mode } });
    this.client.onerror = (e) => {
      // Responses to our raw requests are not the client's; anything else is a failure.
      if (!String(e?.message ?? e).includes('"raw-')) this.unexpected.push(String(e?.stack ?? e));
    };
    await this.client.connect(transport);
    const inner = transport.onmessage;
    transport.onmessage = (message, extra) => {
      check(JSONRPCMessageSchema, message, `${this.label}: a message from troupe`);
      this.received.push(message);
      const waiting = typeof message.id === 'string' ? this.pending.get(message.id) : undefined;
      if (waiting && ('result' in message || 'error' in message)) {
        this.pending.delete(message.id);
        waiting(message);
        return;
      }
      inner?.(message, extra);
    };
  }

  // A raw 2026 request with this request's own envelope (declaring the tasks extension);
  // resolves the JSON-RPC response.
  raw(method, params = {}) {
    const id = `raw-${this.nextRaw++}`;
    const message = {
      jsonrpc: '2.0', id, method,
      params: {
        ...params,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': MODERN,
          'io.modelcontextprotocol/clientInfo': { name: `troupe-e2e-${this.label}`, version: '1.0.0' },
          'io.modelcontextprotocol/clientCapabilities': { extensions: { [TASKS_EXT]: {} } },
        },
      },
    };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.pending.delete(id); reject(new Error(`${method} timed out`)); }, 60_000);
      this.pending.set(id, (m) => { clearTimeout(timer); resolve(m); });
      this.transport.send(message).catch(reject);
    });
  }

  async rawResult(method, params) {
    const m = await this.raw(method, params);
    assert.ok(m.result, `${method}: ${JSON.stringify(m.error)}`);
    return m.result;
  }

  async close() {
    await this.client?.close().catch(() => {});
  }
}

async function openUser(label, mode, extra) {
  const u = new User(label);
  let transport;
  if (TRANSPORT === 'http') {
    transport = new StreamableHTTPClientTransport(new URL(`${extra.url}/mcp`), {
      requestInit: { headers: { Authorization: `Bearer ${extra.token}` } } });
  } else {
    transport = new StdioClientTransport({ command: sandbox.binary, args: ['mcp'], env: sandbox.env(),
                                           cwd: sandbox.workspace, stderr: 'pipe' });
  }
  await u.connect(transport, mode);
  if (TRANSPORT === 'stdio' && transport._process) sandbox.track(transport._process);
  return u;
}

async function scenario(t, mode, extra) {
  const u = await openUser(`${TRANSPORT}-${typeof mode === 'string' ? mode : 'pin'}`, mode, extra);
  try {
    await t.test('the client negotiates 2026-07-28; server/discover offers it and the tasks extension', async () => {
      assert.equal(u.client.getNegotiatedProtocolVersion(), MODERN);
      const discovered = await u.client.discover();
      assert.ok(discovered.supportedVersions.includes(MODERN));
      assert.ok(discovered.supportedVersions.includes('2025-11-25'));
      assert.ok(discovered.capabilities.extensions?.[TASKS_EXT], JSON.stringify(discovered.capabilities));
    });

    let delegate;
    await t.test('tools/list: the five tools, cacheable, each taking a session handle', async () => {
      const listed = await u.client.listTools();
      assert.deepEqual(listed.tools.map((x) => x.name), TOOLS);
      assert.equal(typeof listed.ttlMs, 'number');
      assert.equal(listed.cacheScope, 'public');
      for (const tool of listed.tools) assert.equal(tool.inputSchema.properties.session?.type, 'string', tool.name);
      delegate = listed.tools.find((x) => x.name === 'delegate_task');
      assert.equal(delegate.execution, undefined);
    });

    let handle;
    const tasks = [];
    await t.test('five delegate_task as tasks on a pool of two: CreateTaskResult each, one session handle', async () => {
      for (let i = 0; i < 5; ++i) {
        const prompt = i === 4 ? mockPrompt('hang', 'Wait forever.')
                               : mockPrompt(`latency=1s reply="five-${i} done"`, `Part ${i} of five.`);
        const args = { description: `five ${i}`, agent: 'general', prompt };
        if (handle) args.session = handle;
        const created = check(CreateTaskResultV2Schema,
                              await u.rawResult('tools/call', { name: 'delegate_task', arguments: args }),
                              'CreateTaskResult');
        assert.match(created.taskId, /^bg_/);
        assert.equal(created.ttlMs, null);
        assert.ok(created.pollIntervalMs > 0);
        if (!handle) {
          handle = created._meta?.['dev.troupe/session'];
          assert.match(handle ?? '', /^s26-[0-9a-f]{24}$/);
        } else {
          assert.equal(created._meta?.['dev.troupe/session'], undefined, 'a handle given is not minted again');
        }
        tasks.push(created.taskId);
      }
      assert.equal(new Set(tasks).size, 5);
    });

    const notices = [];
    const noteFrom = (result) => notices.push(...reminderIds(result));

    await t.test('tasks/get: two working, the rest queued with their position', async () => {
      const polled = [];
      for (const taskId of tasks) {
        polled.push(check(GetTaskResultV2Schema, await u.rawResult('tasks/get', { taskId }), 'tasks/get result'));
      }
      assert.ok(polled.some((p) => /queued/.test(p.statusMessage ?? '')), JSON.stringify(polled.map((p) => p.statusMessage)));
      for (const p of polled) assert.ok(['working', 'completed'].includes(p.status), p.status);
    });

    await t.test('tasks/cancel: the hanging one ends cancelled', async () => {
      check(CancelTaskResultV2Schema, await u.rawResult('tasks/cancel', { taskId: tasks[4] }), 'tasks/cancel result');
      const after = check(GetTaskResultV2Schema, await u.rawResult('tasks/get', { taskId: tasks[4] }), 'tasks/get');
      assert.equal(after.status, 'cancelled');
    });

    await t.test('tasks/get until completed: each result is the tool result with its reply', async () => {
      for (let i = 0; i < 4; ++i) {
        const done = await waitUntil(async () => {
          const p = check(GetTaskResultV2Schema, await u.rawResult('tasks/get', { taskId: tasks[i] }), 'tasks/get');
          return p.status === 'completed' ? p : null;
        }, 60_000, `task ${tasks[i]} to complete`, 200);
        assert.match(texts(done.result), new RegExp(`five-${i} done`));
        noteFrom(done.result);
      }
    });

    await t.test('a troupe session continues, in the foreground, under the same handle', async () => {
      const first = await u.client.callTool({ name: 'background_output', arguments: { task_id: tasks[0], session: handle } });
      noteFrom(first);
      const sessionId = first.structuredContent?.session_id ?? texts(first).match(/ses_[0-9a-z]+/)?.[0];
      assert.ok(sessionId, texts(first));
      const more = await u.client.callTool({ name: 'delegate_task', arguments: {
        description: 'continue', agent: 'general', session_id: sessionId, background: false, session: handle,
        prompt: mockPrompt('latency=200ms reply="continued"', 'Continue.') } });
      noteFrom(more);
      assert.equal(more.isError ?? false, false, texts(more));
      assert.match(texts(more), /continued/);
    });

    await t.test('completion notices: each finished task told exactly once under the handle', async () => {
      const listed = await u.client.callTool({ name: 'background_list', arguments: { session: handle } });
      noteFrom(listed);
      const again = await u.client.callTool({ name: 'background_list', arguments: { session: handle } });
      noteFrom(again);
      for (const id of tasks.slice(0, 4)) {
        assert.equal(notices.filter((n) => n === id).length <= 1, true, `${id} told twice: ${notices}`);
      }
      assert.equal(new Set(notices).size, notices.length, `a notice repeated: ${notices}`);
      // Every listed task is this handle's: the five and the continued one.
      for (const id of tasks) assert.match(texts(listed), new RegExp(id));
    });

    await t.test('a call without the handle gets a new session that sees none of these tasks', async () => {
      const other = await u.client.callTool({ name: 'background_list', arguments: {} });
      assert.match(other._meta?.['dev.troupe/session'] ?? '', /^s26-/);
      assert.notEqual(other._meta['dev.troupe/session'], handle);
      for (const id of tasks) assert.doesNotMatch(texts(other), new RegExp(id));
    });

    assert.deepEqual(u.unexpected, []);
  } finally {
    await u.close();
  }
}

// Malformed 2026 requests, raw: over HTTP with fetch (headers included), over stdio as lines to
// a fresh `troupe mcp`.
async function malformed(t, extra) {
  const envelope = (version) => ({
    'io.modelcontextprotocol/protocolVersion': version,
    'io.modelcontextprotocol/clientCapabilities': {},
  });
  if (TRANSPORT === 'http') {
    const post = async (body, headers = {}) => {
      const r = await fetch(`${extra.url}/mcp`, {
        method: 'POST', body: JSON.stringify(body),
        headers: { Authorization: `Bearer ${extra.token}`, 'Content-Type': 'application/json',
                   Accept: 'application/json, text/event-stream', ...headers } });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : null, headers: r.headers };
    };
    const good = { 'MCP-Protocol-Version': MODERN, 'Mcp-Method': 'tools/list' };
    await t.test('unknown _meta protocol version: 400, -32022 listing the versions', async () => {
      const r = await post({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: envelope('2099-01-01') } },
                           { ...good, 'MCP-Protocol-Version': '2099-01-01' });
      assert.equal(r.status, 400);
      assert.equal(r.body.error.code, -32022);
      assert.ok(r.body.error.data.supported.includes(MODERN));
    });
    await t.test('missing _meta protocol version: 400, -32020 (the header does not match the body)', async () => {
      const r = await post({ jsonrpc: '2.0', id: 2, method: 'tools/list',
                             params: { _meta: { 'io.modelcontextprotocol/clientCapabilities': {} } } }, good);
      assert.equal(r.status, 400);
      assert.equal(r.body.error.code, -32020);
    });
    await t.test('missing or wrong Mcp-Method / Mcp-Name: 400, -32020', async () => {
      const r1 = await post({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: { _meta: envelope(MODERN) } },
                            { 'MCP-Protocol-Version': MODERN });
      assert.equal(r1.status, 400);
      assert.equal(r1.body.error.code, -32020);
      const r2 = await post({ jsonrpc: '2.0', id: 4, method: 'tools/call',
                              params: { name: 'background_list', arguments: {}, _meta: envelope(MODERN) } },
                            { 'MCP-Protocol-Version': MODERN, 'Mcp-Method': 'tools/call', 'Mcp-Name': 'delegate_task' });
      assert.equal(r2.status, 400);
      assert.equal(r2.body.error.code, -32020);
      assert.match(r2.body.error.message, /Mcp-Name/);
      // The tasks extension binds tasks/* to Mcp-Name = params.taskId, as the SDK's client sends it.
      const r3 = await post({ jsonrpc: '2.0', id: 41, method: 'tasks/get',
                              params: { taskId: 'bg_one', _meta: envelope(MODERN) } },
                            { 'MCP-Protocol-Version': MODERN, 'Mcp-Method': 'tasks/get', 'Mcp-Name': 'bg_two' });
      assert.equal(r3.status, 400);
      assert.equal(r3.body.error.code, -32020);
      assert.match(r3.body.error.message, /'bg_two' does not match body value 'bg_one'/);
    });
    await t.test('missing client capabilities: -32602 naming the key', async () => {
      const r = await post({ jsonrpc: '2.0', id: 5, method: 'tools/list',
                             params: { _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN } } }, good);
      assert.equal(r.body.error.code, -32602);
      assert.match(r.body.error.message, /clientCapabilities/);
    });
    await t.test('a 2026 request on a 2025 session: 400, -32022 naming the session\'s version', async () => {
      const init = await post({ jsonrpc: '2.0', id: 6, method: 'initialize', params: {
        protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
      const session = init.headers.get('mcp-session-id');
      assert.ok(session);
      const r = await post({ jsonrpc: '2.0', id: 7, method: 'tools/list', params: { _meta: envelope(MODERN) } },
                           { ...good, 'Mcp-Session-Id': session });
      assert.equal(r.status, 400);
      assert.equal(r.body.error.code, -32022);
      assert.deepEqual(r.body.error.data.supported, ['2025-11-25']);
    });
    await t.test('GET with MCP-Protocol-Version 2026-07-28: 405', async () => {
      const r = await fetch(`${extra.url}/mcp`, { headers: { Authorization: `Bearer ${extra.token}`,
        Accept: 'text/event-stream', 'MCP-Protocol-Version': MODERN } });
      assert.equal(r.status, 405);
    });
    return;
  }
  const child = spawn(sandbox.binary, ['mcp'], { env: sandbox.env(), cwd: sandbox.workspace,
                                                 stdio: ['pipe', 'pipe', 'ignore'] });
  sandbox.track(child);
  const answers = new Map();
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    const m = JSON.parse(line);
    check(JSONRPCMessageSchema, m, 'a message from troupe mcp');
    if (m.id !== undefined) answers.set(m.id, m);
  });
  const ask = async (message) => {
    child.stdin.write(`${JSON.stringify(message)}\n`);
    return waitUntil(() => answers.get(message.id), 30_000, `the answer to ${message.method}`);
  };
  try {
    await t.test('unknown _meta protocol version: -32022 listing the versions', async () => {
      const m = await ask({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: envelope('2099-01-01') } });
      assert.equal(m.error.code, -32022);
      assert.ok(m.error.data.supported.includes(MODERN));
    });
    await t.test('missing _meta protocol version: -32602 naming it', async () => {
      const m = await ask({ jsonrpc: '2.0', id: 2, method: 'tools/list',
                            params: { _meta: { 'io.modelcontextprotocol/clientCapabilities': {} } } });
      assert.equal(m.error.code, -32602);
      assert.match(m.error.message, /protocolVersion/);
    });
    await t.test('a 2026 request after a 2025 initialize on the same connection: -32022', async () => {
      const init = await ask({ jsonrpc: '2.0', id: 3, method: 'initialize', params: {
        protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
      assert.equal(init.result.protocolVersion, '2025-11-25');
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
      const m = await ask({ jsonrpc: '2.0', id: 4, method: 'tools/list', params: { _meta: envelope(MODERN) } });
      assert.equal(m.error.code, -32022);
      assert.deepEqual(m.error.data.supported, ['2025-11-25']);
      const legacy = await ask({ jsonrpc: '2.0', id: 5, method: 'tools/list' });
      assert.ok(legacy.result.tools.length === TOOLS.length, 'the 2025 session still works');
    });
  } finally {
    child.stdin.end();
    await sleep(100);
    child.kill();
  }
}

// The daemon killed (SIGKILL) and started again: the tasks a 2026 client launched answer
// tasks/get under the same ids, a completed one with its result, and the unfinished one can
// still be cancelled. Returns the new `extra` (HTTP: the new `troupe serve`).
async function restart(t, extra) {
  let u = await openUser(`${TRANSPORT}-restart`, { pin: MODERN }, extra);
  const launch = async (prompt) => check(CreateTaskResultV2Schema,
    await u.rawResult('tools/call', { name: 'delegate_task', arguments: {
      description: 'restart', agent: 'general', prompt } }), 'CreateTaskResult').taskId;
  let done;
  let hung;
  try {
    await t.test('before: one task completed, one still working', async () => {
      done = await launch(mockPrompt('latency=0 reply="finished before the restart"', 'Quick.'));
      hung = await launch(mockPrompt('hang', 'Wait forever.'));
      await waitUntil(async () => (await u.rawResult('tasks/get', { taskId: done })).status === 'completed',
                      30_000, `task ${done} to complete`);
      assert.equal((await u.rawResult('tasks/get', { taskId: hung })).status, 'working');
    });
  } finally {
    await u.close();
  }
  const lock = sandbox.lock();
  assert.ok(lock?.pid > 0, 'a daemon runs');
  process.kill(lock.pid, 'SIGKILL');
  await waitUntil(() => {
    try { process.kill(lock.pid, 0); return false; } catch { return true; }
  }, 10_000, `daemon ${lock.pid} to die`);
  const next = TRANSPORT === 'http' ? await sandbox.startServe() : extra;
  u = await openUser(`${TRANSPORT}-restarted`, { pin: MODERN }, next);
  try {
    await t.test('after: tasks/get answers both ids; the completed result is read back', async () => {
      const got = check(GetTaskResultV2Schema, await u.rawResult('tasks/get', { taskId: done }), 'tasks/get');
      assert.equal(got.status, 'completed');
      assert.match(texts(got.result), /finished before the restart/);
      const other = check(GetTaskResultV2Schema, await u.rawResult('tasks/get', { taskId: hung }), 'tasks/get');
      assert.ok(['working', 'failed', 'cancelled', 'completed'].includes(other.status), other.status);
      check(CancelTaskResultV2Schema, await u.rawResult('tasks/cancel', { taskId: hung }), 'tasks/cancel');
      await waitUntil(async () => (await u.rawResult('tasks/get', { taskId: hung })).status !== 'working',
                      30_000, `task ${hung} to end after tasks/cancel`);
      const unknown = await u.raw('tasks/get', { taskId: 'bg_nosuchtask' });
      assert.equal(unknown.error?.code, -32602);
    });
  } finally {
    await u.close();
  }
  return next;
}

test(`MCP 2026-07-28 over ${TRANSPORT} with the official SDK v2 client`, async (t) => {
  let extra = {};
  try {
    if (TRANSPORT === 'http') extra = await sandbox.startServe();
    await t.test('pinned to 2026-07-28', (tt) => scenario(tt, { pin: MODERN }, extra));
    await t.test('auto mode negotiates 2026-07-28', (tt) => scenario(tt, 'auto', extra));
    await t.test('malformed 2026 requests get the revision\'s error codes', (tt) => malformed(tt, extra));
    await t.test('tasks survive a daemon killed and restarted', async (tt) => { extra = await restart(tt, extra); });
  } catch (e) {
    sandbox.dumpLogs();
    throw e;
  } finally {
    await sandbox.stopDaemon().catch(() => {});
    sandbox.cleanupSync();
  }
});
