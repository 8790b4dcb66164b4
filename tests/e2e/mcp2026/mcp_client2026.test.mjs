// troupe as an MCP client of a server of revision 2026-07-28 that we did not write the protocol
// of: sdk2_server.mjs, built on the official SDK v2 (@modelcontextprotocol/server), over stdio or
// over Streamable HTTP on 127.0.0.1 (TROUPE_E2E_TRANSPORT). The built `troupe` (its daemon
// autostarted by the CLI on a scratch HOME) runs agents on the offline scripted model whose
// `#mock` directives call the server's tools: a plain one, one the server turns into a task of
// the tasks extension (troupe polls tasks/get until it completes, and sends tasks/cancel when
// the call times out), and one that asks for input troupe cannot give. The server's log says
// what reached it: the per-request _meta envelope and, over HTTP, the revision's headers.
// Last, troupe is the client of troupe: a second troupe's `troupe mcp` (stdio, its own data dir
// and daemon) is a tool source, and an agent calls its delegate_task and background_output.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScratchTroupe, spawnListening, eventually } from '../scratch_troupe.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const transport = process.env.TROUPE_E2E_TRANSPORT || 'stdio';
const node = process.execPath;
const t = new ScratchTroupe('troupe-mcpc26-');
const logs = { sdk2: path.join(t.root, 'sdk2.log'), slow: path.join(t.root, 'slow.log') };
const server = path.join(here, 'sdk2_server.mjs');

const httpServers = [];
async function serverConfig(log, slowMs, extra = {}) {
  const serverEnv = { LOG: log, SLOW_REPORT_MS: String(slowMs) };
  if (transport !== 'http') {
    return { command: node, args: [server, 'stdio'], env: serverEnv, ...extra };
  }
  const { child, port } = await spawnListening(node, [server, 'http'], {
    cwd: here, env: { ...process.env, ...serverEnv }, pattern: /listening (\d+)/ });
  httpServers.push(child);
  const { shared, ...httpExtra } = extra;  // HTTP servers are always shared
  return { type: 'http', url: `http://127.0.0.1:${port}/mcp`, ...httpExtra };
}

function logLines(which) {
  if (!fs.existsSync(logs[which])) return [];
  return fs.readFileSync(logs[which], 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

// A second troupe (its own data dir, runtime dir and config) whose `troupe mcp` (stdio, MCP
// 2026-07-28) is a tool source of the first: its delegate_task and background_output.
const second = {
  TROUPE_DATA_DIR: path.join(t.root, 'data2'), XDG_RUNTIME_DIR: path.join(t.root, 'run2'),
  XDG_CONFIG_HOME: path.join(t.root, 'config2'),
};
for (const d of Object.values(second)) fs.mkdirSync(d, { recursive: true, mode: 0o700 });

after(() => {
  t.run(['stop'], { envOverride: second, timeout: 30000 });
  for (const child of httpServers) child.kill('SIGKILL');
  t.cleanup();
});

test('setup: the config names the SDK v2 servers and the agent that may use them', async () => {
  const config = {
    mcp_servers: {
      // One process for every task (stdio; its state is the tasks it keeps across tasks' calls).
      sdk2: await serverConfig(logs.sdk2, 300, { shared: true }),
      slow: await serverConfig(logs.slow, 3_600_000, { timeout_ms: 1500 }),
      troupe2: { command: t.binary, args: ['mcp'], env: second, shared: true },
    },
    agents: { explore: { tools: ['read', 'mcp:sdk2', 'mcp:slow', 'mcp:troupe2'] } },
  };
  t.writeConfig(config);
  assert.equal(t.run(['config', 'check']).status, 0);
});

test(`an agent calls a 2026-07-28 SDK v2 server (${transport}): a plain tool and a task`, () => {
  const task = t.runTask([
    'Use the tools.',
    '#mock latency=0 tool=sdk2__echo:{"text":"hello 2026"} ' +
      'tool@2=sdk2__slow_report:{"topic":"the build"} reply="both answered"',
  ].join('\n'));
  assert.equal(task.state, 'completed', JSON.stringify(task));
  const results = t.toolResults(task.id);
  assert.equal(results.length, 2, JSON.stringify(results));
  assert.match(results[0].content, /echo: hello 2026/);
  assert.match(results[1].content, /report on the build: all green \(task [0-9a-f-]+\)/);
  assert.ok(results.every((m) => !m.is_error), JSON.stringify(results));

  const lines = logLines('sdk2');
  const calls = lines.filter((l) => l.method === 'tools/call');
  assert.equal(calls.length, 2, JSON.stringify(lines));
  for (const call of calls) {
    assert.equal(call.envelope['io.modelcontextprotocol/protocolVersion'], '2026-07-28');
    assert.deepEqual(call.envelope['io.modelcontextprotocol/clientCapabilities'],
                     { extensions: { 'io.modelcontextprotocol/tasks': {} } });
    assert.equal(call.envelope['io.modelcontextprotocol/clientInfo'].name, 'troupe');
  }
  const taskId = results[1].content.match(/task ([0-9a-f-]+)/)[1];
  const polls = lines.filter((l) => l.method === 'tasks/get');
  assert.ok(polls.length >= 1 && polls.every((l) => l.params.taskId === taskId), JSON.stringify(polls));
  if (transport === 'http') {
    const posts = lines.filter((l) => l.http === 'POST').map((l) => l.headers);
    assert.ok(posts.every((h) => h['mcp-protocol-version'] === '2026-07-28' && !h['mcp-session-id']),
              JSON.stringify(posts));
    assert.ok(posts.some((h) => h['mcp-method'] === 'server/discover'));
    assert.ok(posts.some((h) => h['mcp-method'] === 'tools/call' && h['mcp-name'] === 'slow_report'));
    assert.ok(posts.some((h) => h['mcp-method'] === 'tasks/get' && h['mcp-name'] === taskId));
  }
});

test('a tool that asks for input troupe cannot give is an error result the model sees', () => {
  const task = t.runTask('#mock latency=0 tool=sdk2__ask_user:{} reply="saw it"');
  assert.equal(task.state, 'completed', JSON.stringify(task));
  const [result] = t.toolResults(task.id);
  assert.equal(result.is_error, true, JSON.stringify(result));
  // The SDK refuses input requests a client did not declare the capability for (-32021).
  assert.match(result.content, /-32021|input/);
});

test('a task that outlives timeout_ms: the call times out and the server gets tasks/cancel', async () => {
  const task = t.runTask('#mock latency=0 tool=slow__slow_report:{"topic":"forever"} reply="gave up"');
  assert.equal(task.state, 'completed', JSON.stringify(task));
  const [result] = t.toolResults(task.id);
  assert.equal(result.is_error, true, JSON.stringify(result));
  // The deadline covers the whole call; on a loaded machine it may pass before the task exists.
  assert.match(result.content, /(task [0-9a-f-]+ of slow_report|tools\/call slow_report) timed out after 1\.5s/);
  if (!/task [0-9a-f-]+ of slow_report/.test(result.content)) return;
  assert.ok(await eventually(() => logLines('slow').some((l) => l.method === 'tasks/cancel')),
            'no tasks/cancel reached the server');
});

test('troupe mcp-servers shows the negotiated protocol version', () => {
  const r = t.run(['mcp-servers', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const servers = Object.fromEntries(JSON.parse(r.stdout).servers.map((s) => [s.name, s]));
  assert.equal(servers.sdk2.state, 'ready');
  assert.equal(servers.sdk2.protocol_version, '2026-07-28');
  assert.match(servers.sdk2.server, /sdk2-test-server/);
  // Over HTTP the tool with a forbidden x-mcp-header mark is left out, saying why.
  const offered = ['ask_user', 'echo', 'slow_report', 'where'];
  if (transport !== 'http') offered.splice(1, 0, 'bad_mark');
  assert.deepEqual(servers.sdk2.tools.map((t) => t.tool).sort(), offered);
  if (transport === 'http') {
    assert.equal(servers.sdk2.rejected_tools.length, 1, JSON.stringify(servers.sdk2.rejected_tools));
    assert.match(servers.sdk2.rejected_tools[0], /^bad_mark: x-mcp-header of property n .*"number"/);
  }
});

test('a parameter marked x-mcp-header: over HTTP its value is also the Mcp-Param-Region header', () => {
  const task = t.runTask('#mock latency=0 tool=sdk2__where:{"region":"Zürich","query":"SELECT 1"} ' +
                       'reply="located"');
  assert.equal(task.state, 'completed', JSON.stringify(task));
  const [result] = t.toolResults(task.id);
  assert.ok(!result.is_error, JSON.stringify(result));
  assert.match(result.content, /SELECT 1 runs in Zürich/);
  if (transport !== 'http') return;
  const posts = logLines('sdk2').filter((l) => l.http === 'POST' && l.headers['mcp-name'] === 'where');
  assert.equal(posts.length, 1, JSON.stringify(posts));
  // Not plain ASCII: the revision's base64 form.
  assert.equal(posts[0].headers['mcp-param-region'],
               `=?base64?${Buffer.from('Zürich').toString('base64')}?=`);
});

test('troupe\'s own 2026-07-28 server as a tool source: delegate_task, then background_output', () => {
  const child = '#mock latency=0 reply=\\"the child says hello\\"';
  const task = t.runTask('#mock latency=0 tool=troupe2__delegate_task:{"description":"child",' +
                       `"agent":"general","prompt":"${child}"} reply="delegated"`);
  assert.equal(task.state, 'completed', JSON.stringify(task));
  const [delegated] = t.toolResults(task.id);
  assert.ok(!delegated.is_error, JSON.stringify(delegated));
  // What the model sees: the child's result, with the id of the second troupe's task.
  assert.match(delegated.content, /the child says hello/);
  const childId = delegated.content.match(/bg_[0-9a-z]+/)?.[0];
  assert.ok(childId, delegated.content);

  const read = t.runTask(`#mock latency=0 tool=troupe2__background_output:{"task_id":"${childId}"} ` +
                       'reply="read it"');
  assert.equal(read.state, 'completed', JSON.stringify(read));
  const [output] = t.toolResults(read.id);
  console.log(`model saw, from delegate_task: ${JSON.stringify(delegated.content)}`);
  console.log(`model saw, from background_output: ${JSON.stringify(output.content)}`);
  assert.ok(!output.is_error, JSON.stringify(output));
  assert.match(output.content, new RegExp(childId));
  assert.match(output.content, /^Task Result/);
  assert.match(output.content, /the child says hello/);

  const servers = JSON.parse(t.run(['mcp-servers', '--json']).stdout).servers;
  const mine = servers.find((x) => x.name === 'troupe2');
  assert.equal(mine.protocol_version, '2026-07-28');
  assert.ok(mine.tools.some((t) => t.name === 'troupe2__delegate_task'), JSON.stringify(mine.tools));
  // The second troupe ran the child: its own `troupe ps` lists it.
  const ps = t.run(['ps', '--all', '--json'], { envOverride: second, timeout: 30000 });
  assert.match(ps.stdout, new RegExp(childId));
});
