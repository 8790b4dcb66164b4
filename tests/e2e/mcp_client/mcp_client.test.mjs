// troupe as an MCP client, end to end: the built `troupe` (its daemon autostarted by the CLI on
// a scratch HOME) runs agents on the offline scripted model whose `#mock` directives call the
// tools of real MCP servers from npm — server-everything (over stdio, or over streamable HTTP on
// 127.0.0.1 with TRANSPORT=http) and server-memory (stdio) — and of scripted servers that crash,
// hang or flood mid-call. Nothing listens beyond 127.0.0.1; nothing reaches the internet.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScratchTroupe, spawnListening, processGone, eventually } from '../scratch_troupe.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const transport = process.env.TRANSPORT || 'stdio';
const node = process.execPath;
const t = new ScratchTroupe('troupe-mcpc-', { TROUPE_TEST_HEADER: 'yes' });
const logs = Object.fromEntries(['crash', 'hang', 'flood', 'slow', 'pertask', 'oneforall'].map(
  (m) => [m, path.join(t.root, `${m}.log`)]));

let httpServer = null;
async function everythingConfig() {
  const dist = path.join(here, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
  // Stateless: one process may serve every task.
  if (transport !== 'http') return { command: node, args: [dist, 'stdio'], shared: true };
  const { child, port } = await spawnListening(node, [path.join(here, 'http_server.mjs')],
                                               { cwd: here, pattern: /port (\d+)/ });
  httpServer = child;
  return { type: 'http', url: `http://127.0.0.1:${port}/mcp`,
           headers: { 'X-Test': '${TROUPE_TEST_HEADER}' } };
}

const scripted = (mode, extra = {}) => ({
  command: node, args: [path.join(here, 'scripted_server.mjs'),
                        { slow: 'hang', pertask: 'pid', oneforall: 'pid' }[mode] ?? mode,
                        logs[mode]], ...extra });

after(() => {
  if (httpServer) httpServer.kill('SIGKILL');
  t.cleanup();
});

test('setup: the config names the servers and the agents that may use them', async () => {
  const config = {
    mcp_servers: {
      everything: await everythingConfig(),
      memory: { command: node,
                args: [path.join(here, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js')],
                env: { MEMORY_FILE_PATH: path.join(t.root, 'memory.jsonl') } },
      crash: scripted('crash'),
      hang: scripted('hang', { timeout_ms: 1500 }),
      flood: scripted('flood'),
      slow: scripted('slow'),
      pertask: scripted('pertask'),
      oneforall: scripted('oneforall', { shared: true }),
    },
    agents: {
      explore: { tools: ['read', 'mcp:everything/echo', 'mcp:everything/get-*', 'mcp:memory',
                         'mcp:crash', 'mcp:hang', 'mcp:flood', 'mcp:slow', 'mcp:pertask',
                         'mcp:oneforall'] },
      oracle: { tools: ['read', 'mcp:nosuch'] },
    },
  };
  t.writeConfig(config);
});

test('config check refuses an unknown server in an agent\'s tools, naming it and where', () => {
  const r = t.run(['config', 'check']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /troupe\.jsonc:\d+:\d+: agents\.oracle\.tools\[1\]: unknown MCP server "nosuch"; configured: crash, everything, flood, hang, memory, oneforall, pertask, slow/);
  // Fix it for the rest: the daemon refuses a config with errors.
  const file = t.configFile;
  const config = JSON.parse(fs.readFileSync(file, 'utf8'));
  config.agents.oracle.tools = ['read'];
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  assert.equal(t.run(['config', 'check']).status, 0);
});

test('config check refuses an unknown server in a Markdown agent\'s tools, naming the file, line and column', () => {
  const dir = path.join(t.work, '.troupe', 'agents');
  fs.mkdirSync(dir, { recursive: true });
  const agent = path.join(dir, 'scout.md');
  fs.writeFileSync(agent, '---\ndescription: looks around\ntools: read, mcp:everything, mcp:elsewhere/find_*\n---\nLook around.\n');
  const r = t.run(['config', 'check']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /scout\.md:3:30: agent "scout": tools: unknown MCP server "elsewhere"; configured: crash, everything, flood, hang, memory, oneforall, pertask, slow/);
  fs.rmSync(path.join(t.work, '.troupe'), { recursive: true, force: true });
  assert.equal(t.run(['config', 'check']).status, 0);
});

test(`an agent calls server-everything (${transport}) and server-memory and finishes`, () => {
  const task = t.runTask([
    'Use the tools.',
    '#mock latency=0 tool=everything__echo:{"message":"hello from troupe"} ' +
      'tool=everything__get-sum:{"a":2,"b":40} ' +
      'tool@2=memory__create_entities:{"entities":[{"name":"troupe","entityType":"project","observations":["runs agents"]}]} ' +
      'tool@3=memory__read_graph:{} reply="all tools answered"',
  ].join('\n'));
  assert.equal(task.state, 'completed', JSON.stringify(task));
  assert.match(task.result, /all tools answered/);
  const results = t.toolResults(task.id).map((m) => m.content);
  assert.equal(results.length, 4, JSON.stringify(results));
  assert.match(results[0], /Echo: hello from troupe/);
  assert.match(results[1], /42/);
  assert.match(results[2], /runs agents/);
  assert.match(results[3], /"name": ?"troupe"/);
  assert.ok(t.toolResults(task.id).every((m) => !m.is_error));
});

test('a tool error reaches the model as an error result', () => {
  const task = t.runTask('#mock latency=0 tool=everything__get-sum:{"a":"two","b":3} reply="saw it"');
  assert.equal(task.state, 'completed');
  const [result] = t.toolResults(task.id);
  assert.equal(result.is_error, true, JSON.stringify(result));
  assert.match(result.content, /a|number|invalid/i);
});

test('webfetch through the daemon: the librarian reads a page on 127.0.0.1 into its transcript', async () => {
  const page = '<html><head><title>t</title><script>var hidden = 1;</script></head><body>' +
    '<h1>Local page</h1><p>The answer is <b>forty-two</b>.</p></body></html>';
  const { child: server, port } = await spawnListening(node, ['-e', `
    const http = require('node:http');
    const s = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(${JSON.stringify(page)});
    });
    s.listen(0, '127.0.0.1', () => console.log('port ' + s.address().port));
  `], { pattern: /port (\d+)/ });
  try {
    const task = t.runTask(`#mock latency=0 tool=webfetch:{"url":"http://127.0.0.1:${port}/doc"} reply="read it"`,
                         'librarian');
    assert.equal(task.state, 'completed', JSON.stringify(task));
    const [result] = t.toolResults(task.id);
    assert.ok(result && !result.is_error, JSON.stringify(result));
    assert.match(result.content, /# Local page/);
    assert.match(result.content, /The answer is forty-two\./);
    assert.doesNotMatch(result.content, /hidden/);
  } finally {
    server.kill('SIGKILL');
  }
});

test('a server that crashes mid-call: the call fails saying so, the task finishes', () => {
  const task = t.runTask('#mock latency=0 tool=crash__crash:{} reply="after the crash"');
  assert.equal(task.state, 'completed');
  const [result] = t.toolResults(task.id);
  assert.equal(result.is_error, true);
  assert.match(result.content, /MCP server "crash": the server stopped: .*exited with code 7.*crashing on purpose/s);
});

test('a server that hangs: the call times out (timeout_ms) and the server is told to cancel', () => {
  const task = t.runTask('#mock latency=0 tool=hang__hang:{} reply="after the hang"');
  assert.equal(task.state, 'completed');
  const [result] = t.toolResults(task.id);
  assert.equal(result.is_error, true);
  assert.match(result.content, /tools\/call timed out after 1\.5s/);
  assert.match(fs.readFileSync(logs.hang, 'utf8'), /notifications\/cancelled/);
});

test('a server that floods its output: the call fails, the server is stopped', () => {
  const task = t.runTask('#mock latency=0 tool=flood__flood:{} reply="after the flood"');
  assert.equal(task.state, 'completed');
  const [result] = t.toolResults(task.id);
  assert.equal(result.is_error, true);
  assert.match(result.content, /wrote a message over 4194304 bytes/);
  const pid = Number(fs.readFileSync(logs.flood, 'utf8').match(/pid (\d+)/)[1]);
  assert.throws(() => process.kill(pid, 0));
});

// Two tasks at once call a server's tool that answers with its process id.
async function twoTasksCall(server) {
  const launched = [0, 1].map(() => t.launch(`#mock latency=0 tool=${server}__pid:{} reply="done"`));
  const pids = [];
  for (const id of launched) {
    const w = t.run(['wait', id, '--json']);
    assert.equal(w.status, 0, w.stderr);
    const [result] = t.toolResults(id);
    assert.ok(!result.is_error, JSON.stringify(result));
    pids.push(Number(result.content.match(/pid (\d+)/)[1]));
  }
  // Both calls were in flight together (each answers after 1.5 s).
  return pids;
}
test('a stdio server not marked shared: two tasks, two processes, none left when they end', async () => {
  // Every task of the explore agent (it names this server) started one of its own: the earlier
  // tests' tasks too, and each was stopped when its task ended.
  const startedBefore = (fs.readFileSync(logs.pertask, 'utf8').match(/^pid \d+$/gm) ?? []).length;
  const pids = await twoTasksCall('pertask');
  assert.notEqual(pids[0], pids[1], `both tasks were served by process ${pids[0]}`);
  const started = fs.readFileSync(logs.pertask, 'utf8').match(/^pid \d+$/gm);
  assert.equal(started.length - startedBefore, 2, started.join(', '));
  for (const line of started) {
    const pid = Number(line.slice(4));
    assert.ok(await processGone(pid), `process ${pid} outlived its task`);
  }
  const r = t.run(['mcp-servers', '--json']);
  const s = JSON.parse(r.stdout).servers.find((x) => x.name === 'pertask');
  assert.equal(s.shared, false);
  assert.equal(s.processes, 0);
  assert.equal(s.state, 'idle');
  assert.equal(s.tools.length, 1, 'the tools its instances listed are still shown');
});

test('a stdio server marked shared: two tasks, one process, kept for the next task', async () => {
  const pids = await twoTasksCall('oneforall');
  assert.equal(pids[0], pids[1]);
  assert.equal(fs.readFileSync(logs.oneforall, 'utf8').match(/^pid \d+$/gm).length, 1);
  process.kill(pids[0], 0);  // still running
  const s = JSON.parse(t.run(['mcp-servers', '--json']).stdout).servers
    .find((x) => x.name === 'oneforall');
  assert.equal(s.shared, true);
  assert.equal(s.state, 'ready');
});

test('troupe mcp-servers lists the servers, their state and their tools with the servers\' schemas', () => {
  const r = t.run(['mcp-servers', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const servers = Object.fromEntries(JSON.parse(r.stdout).servers.map((s) => [s.name, s]));
  assert.equal(servers.everything.state, 'ready');
  assert.equal(servers.everything.transport, transport);
  const sum = servers.everything.tools.find((t) => t.name === 'everything__get-sum');
  assert.equal(sum.tool, 'get-sum');
  assert.equal(sum.description, 'Returns the sum of two numbers');
  assert.deepEqual(sum.input_schema.properties.a, { type: 'number', description: 'First number' });
  assert.deepEqual(sum.input_schema.required, ['a', 'b']);
  assert.match(servers.crash.error, /exited with code 7/);
  const text = t.run(['mcp-servers']);
  assert.match(text.stdout, /^everything {2}\w+ {2}ready {2}\d+ tools/m);
});

test('cancelling the task mid-call cancels the request; stopping leaves no server process', async () => {
  const id = t.launch('#mock latency=0 tool=slow__hang:{} reply="never"');
  const slowLog = () => (fs.existsSync(logs.slow) ? fs.readFileSync(logs.slow, 'utf8') : '');
  assert.ok(await eventually(() => /tools\/call/.test(slowLog()), 30000),
            'the call never reached the server');
  assert.equal(t.run(['cancel', id]).status, 0);
  assert.ok(await eventually(() => /notifications\/cancelled.*the task was cancelled/.test(slowLog()),
                             30000), 'no notifications/cancelled reached the server');
  const pids = ['slow', 'hang'].map((m) =>
    Number(fs.readFileSync(logs[m], 'utf8').match(/pid (\d+)/)[1]));
  assert.equal(t.run(['stop']).status, 0);
  for (const pid of pids) {
    assert.ok(await processGone(pid), `server process ${pid} outlived the daemon`);
  }
});
