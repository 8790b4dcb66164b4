// A small stdio MCP server whose one tool misbehaves on purpose, for the fault rows of the MCP
// client e2e test:  node scripted_server.mjs <crash|hang|flood|pid> <log file>
// ("pid" behaves: its tool answers "pid <its pid>" after 1.5 s, so two tasks' calls overlap.)
// It logs every line it reads (and its pid, first) to the log file, so the test can see the
// notifications/cancelled troupe sends and check that the process is gone.
import fs from 'node:fs';
import readline from 'node:readline';

const [mode, log] = process.argv.slice(2);
fs.appendFileSync(log, `pid ${process.pid}\n`);
const send = (m) => process.stdout.write(JSON.stringify(m) + '\n');
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  fs.appendFileSync(log, line + '\n');
  const m = JSON.parse(line);
  if (m.method === 'initialize') {
    send({ jsonrpc: '2.0', id: m.id, result: {
      protocolVersion: '2025-06-18', capabilities: { tools: {} },
      serverInfo: { name: `scripted-${mode}`, version: '1' } } });
  } else if (m.method === 'tools/list') {
    send({ jsonrpc: '2.0', id: m.id, result: { tools: [{
      name: mode, description: `misbehaves: ${mode}`,
      inputSchema: { type: 'object', properties: {} } }] } });
  } else if (m.method === 'tools/call') {
    if (mode === 'crash') {
      process.stderr.write('scripted server: crashing on purpose\n');
      process.exit(7);
    } else if (mode === 'flood') {
      process.stdout.write('x'.repeat(6 * 1024 * 1024));
    } else if (mode === 'pid') {
      setTimeout(() => send({ jsonrpc: '2.0', id: m.id, result: {
        content: [{ type: 'text', text: `pid ${process.pid}` }] } }), 1500);
    }
    // hang: never answers
  } else if (m.id !== undefined && m.method) {
    // As SDK servers answer a method they do not have (troupe's server/discover probe first).
    send({ jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'Method not found' } });
  }
});
rl.on('close', () => process.exit(0));
