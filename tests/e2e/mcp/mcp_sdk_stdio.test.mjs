// troupe's MCP server over stdio (`troupe mcp`, which forwards newline-delimited JSON-RPC to the
// daemon's /mcp and starts the daemon when none runs), driven by the official MCP TypeScript SDK
// client: the scenario of scenario.mjs, malformed lines to a second `troupe mcp`, then the first
// session and a third one still work, and `troupe stop` ends the daemon it autostarted.
//
//   node mcp_sdk_stdio.test.mjs <path of the built troupe binary>
import assert from 'node:assert/strict';
import test from 'node:test';

import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

import { auditLines } from './audit.mjs';
import { TroupeSandbox, waitUntil } from './harness.mjs';
import { malformedStdio } from './malformed.mjs';
import { McpUser, checkAudits, checkSessionsAreSeparate, runScenario, stepper } from './scenario.mjs';

const sandbox = new TroupeSandbox('stdio');

// The SDK's stdio transport running `troupe mcp`, with its stdout also shown to the audit and
// its process tracked for cleanup.
class TroupeMcpTransport extends StdioClientTransport {
  constructor(audit, label) {
    super({ command: sandbox.binary, args: ['mcp'], env: sandbox.env(), cwd: sandbox.workspace,
            stderr: 'pipe' });
    this.audit = audit;
    this.label = label;
    this.stderrText = '';
    this.stderr.setEncoding('utf8');
    this.stderr.on('data', (d) => { this.stderrText += d; });
  }

  async start() {
    await super.start();
    // The SDK keeps the child private; it is the one process this transport runs.
    const child = this._process;
    sandbox.track(child);
    auditLines(child.stdout, this.audit);
  }
}

test('MCP over stdio (troupe mcp) with the official SDK client', async (t) => {
  const { step, failed } = stepper(t);
  const users = [];
  const transports = [];
  const connect = async (label) => {
    const u = new McpUser(label);
    users.push(u);
    const transport = new TroupeMcpTransport(u.audit, label);
    transports.push(transport);
    await u.connect(transport);
    return u;
  };
  let daemonPid = null;
  try {
    let u = null;
    const connected = await step('troupe mcp autostarts the daemon; the SDK client connects', [], async () => {
      assert.equal(sandbox.lock(), null, 'a daemon runs already for the fresh data dir');
      u = await connect('stdio session 1');
      const lock = await waitUntil(() => sandbox.lock(), 15_000, 'the autostarted daemon\'s lock file');
      daemonPid = lock.pid;
      process.kill(daemonPid, 0);
    });
    const base = ['troupe mcp autostarts the daemon; the SDK client connects'];
    if (connected) await runScenario(step, u);
    else await t.test('the scenario', (tt) => tt.skip('the client did not connect'));

    await malformedStdio(step, sandbox, base);

    await step('after the malformed input the SDK session still works', base, async () => {
      process.kill(daemonPid, 0);
      await u.client.ping({ timeout: 30_000 });
      const { data } = await u.ok('background_list', {});
      assert.ok(data.tasks.length > 0, 'the session lost its tasks');
    });

    await step('another SDK session (a third troupe mcp) works and sees only its own tasks', base, async () => {
      const v = await connect('stdio session 3');
      assert.equal(sandbox.lock()?.pid, daemonPid, 'the second troupe mcp started another daemon');
      await checkSessionsAreSeparate(u, v, 'third session');
    });

    await checkAudits(step, base, t, users);

    await step('troupe stop ends the autostarted daemon', base, async () => {
      const code = await sandbox.stopDaemon();
      assert.equal(code, 0, 'troupe stop failed');
      assert.throws(() => process.kill(daemonPid, 0), 'the daemon still runs after troupe stop');
    });
  } finally {
    for (const user of users) await user.close();
    if (failed.length) {
      for (const tr of transports) {
        if (tr.stderrText.trim()) console.error(`----- ${tr.label}: troupe mcp stderr -----\n${tr.stderrText.slice(-4000)}`);
      }
      sandbox.dumpLogs();
    }
    await sandbox.stopDaemon().catch(() => {});
    sandbox.cleanupSync();
  }
});
