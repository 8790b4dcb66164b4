// The MCP Inspector's CLI over Streamable HTTP: `troupe serve --listen 127.0.0.1:PORT`, the
// Inspector with `--transport http` and the bearer token as a header. tools/list, delegate_task
// then background_output, and a call without the token refused.
import assert from 'node:assert/strict';
import test from 'node:test';

import { checkToolList, delegateAndRead, inspector, prepareInspector } from './inspector.mjs';
import { UserMachine, stepper } from './user_machine.mjs';

const machine = new UserMachine('inspector-http');

test('MCP Inspector CLI over Streamable HTTP with the bearer token', async (t) => {
  const { step, failed } = stepper(t);
  prepareInspector(machine);
  let target = null;
  try {
    await step('troupe serve --listen 127.0.0.1:0 answers; tools/list over HTTP', async () => {
      const daemon = await machine.startServe();
      target = [`${daemon.url}/mcp`, '--transport', 'http',
                '--header', `Authorization: Bearer ${daemon.token}`];
      const { result } = await inspector(machine, 'tools/list', target, ['--method', 'tools/list']);
      checkToolList(result);
    });

    await step('tools/call delegate_task, then background_output (block=true)', async () => {
      await delegateAndRead(machine, target, 'INSPECTOR-HTTP-RESULT');
    });

    await step('without the token the Inspector is refused', async () => {
      const { run } = await inspector(machine, 'tools/list without a token', target.slice(0, 3),
                                      ['--method', 'tools/list'], { expectFailure: true });
      assert.match(run.stderr, /401|unauthori[sz]ed/i, run.stderr.slice(-2000));
    });
  } finally {
    if (failed()) machine.dumpLogs();
    await machine.shutdown();
  }
});
