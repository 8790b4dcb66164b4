// Gemini CLI (@google/gemini-cli): `gemini mcp list` connects to each configured MCP server
// (initialize, then ping) and says whether it is Connected. Two servers in ~/.gemini/
// settings.json, as README shows them: troupe over stdio (`troupe mcp`, started cold in a
// minimal environment, no `timeout` given, so Gemini's default of 5 s for the connection
// applies) and troupe over HTTP (`httpUrl` to `troupe serve --listen`, the bearer token as a
// header). Gemini CLI's model speaks only Google's API, which mock-llm does not, so no model
// loop runs here.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';

import { UserMachine, modulePath, stepper } from './user_machine.mjs';

const GEMINI = modulePath('@google/gemini-cli/bundle/gemini.js');
const machine = new UserMachine('gemini-cli');

test('gemini mcp list connects to troupe over stdio (cold start) and over HTTP', async (t) => {
  const { step, failed } = stepper(t);
  try {
    const daemon = await machine.startServe('serve-http');
    const gemini = path.join(machine.home, '.gemini');
    fs.mkdirSync(gemini, { recursive: true });
    fs.writeFileSync(path.join(gemini, 'settings.json'), JSON.stringify({
      general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
      mcpServers: {
        troupe: { command: machine.binary, args: ['mcp'] },
        'troupe-http': { httpUrl: `${daemon.url}/mcp`,
                         headers: { Authorization: `Bearer ${daemon.token}` } },
      },
    }, null, 2));
    // MCP servers run only in folders the user trusts.
    fs.writeFileSync(path.join(gemini, 'trustedFolders.json'),
                     JSON.stringify({ [machine.project]: 'TRUST_FOLDER' }));

    await step('gemini mcp list: both troupe servers Connected', async () => {
      assert.equal(machine.lock(), null, 'a daemon runs already in the fresh HOME');
      const run = await machine.run('gemini mcp list', process.execPath, [GEMINI, 'mcp', 'list'],
                                    { env: machine.env({ NO_COLOR: '1' }), timeoutMs: 90_000 });
      assert.equal(run.timedOut, false, 'gemini mcp list did not finish within 90 s');
      assert.equal(run.code, 0, `gemini mcp list exited ${run.code}: ${run.stderr.slice(-3000)}`);
      // Gemini CLI writes the list with its logger, to stderr.
      const listed = `${run.stdout}${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
      console.log(listed.trim());
      assert.match(listed, /troupe: .* \(stdio\) - Connected/, listed);
      assert.match(listed, /troupe-http: .* \(http\) - Connected/, listed);
      assert.ok(machine.lock()?.pid > 0, 'troupe mcp did not autostart the daemon');
    });
  } finally {
    if (failed()) machine.dumpLogs();
    await machine.shutdown();
  }
});
