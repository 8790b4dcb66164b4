// troupe's MCP server over Streamable HTTP (the daemon's /mcp on loopback TCP), driven by the
// official MCP TypeScript SDK client: the scenario of scenario.mjs, malformed input sent raw on
// the same daemon, then the first session and a second one still work.
//
//   node mcp_sdk_http.test.mjs <path of the built troupe binary>
import assert from 'node:assert/strict';
import test from 'node:test';

import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { auditingFetch } from './audit.mjs';
import { TroupeSandbox } from './harness.mjs';
import { malformedHttp } from './malformed.mjs';
import { McpUser, checkAudits, checkSessionsAreSeparate, runScenario, stepper } from './scenario.mjs';

const sandbox = new TroupeSandbox('http');

function httpTransport(daemon, audit) {
  return new StreamableHTTPClientTransport(new URL(`${daemon.url}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${daemon.token}` } },
    fetch: auditingFetch(audit),
  });
}

test('MCP over Streamable HTTP with the official SDK client', async (t) => {
  const { step, failed } = stepper(t);
  const users = [];
  let daemon = null;
  try {
    await step('troupe serve starts with a loopback TCP listener', [], async () => {
      daemon = await sandbox.startServe();
    });
    const u = new McpUser('http session 1');
    users.push(u);
    const connected = await step('the SDK client connects (initialize, initialized)',
                                 ['troupe serve starts with a loopback TCP listener'], async () => {
      await u.connect(httpTransport(daemon, u.audit));
      assert.match(u.transport.sessionId, /^[0-9a-f]{32}$/);
    });
    const base = ['the SDK client connects (initialize, initialized)'];
    if (connected) await runScenario(step, u);
    else await t.test('the scenario', (tt) => tt.skip('the client did not connect'));

    await malformedHttp(step, daemon, () => u.transport.sessionId, base);

    await step('after the malformed input the SDK session still works', base, async () => {
      assert.equal(daemon.child.exitCode, null, 'the daemon exited');
      await u.client.ping({ timeout: 30_000 });
      const { data } = await u.ok('background_list', {});
      assert.ok(data.tasks.length > 0, 'the session lost its tasks');
    });

    await step('a second SDK session works and sees only its own tasks', base, async () => {
      const v = new McpUser('http session 2');
      users.push(v);
      await v.connect(httpTransport(daemon, v.audit));
      assert.notEqual(v.transport.sessionId, u.transport.sessionId);
      await checkSessionsAreSeparate(u, v, 'second session');
    });

    await checkAudits(step, base, t, users);

    await step('the daemon stops on SIGTERM with exit code 0', ['troupe serve starts with a loopback TCP listener'],
               async () => {
      const exited = new Promise((resolve) => daemon.child.once('exit', (code, signal) => resolve(signal ?? code)));
      daemon.child.kill('SIGTERM');
      const timer = setTimeout(() => daemon.child.kill('SIGKILL'), 20_000);
      assert.equal(await exited, 0);
      clearTimeout(timer);
    });
  } finally {
    for (const user of users) await user.close();
    if (failed.length) sandbox.dumpLogs();
    await sandbox.stopDaemon().catch(() => {});
    sandbox.cleanupSync();
  }
});
