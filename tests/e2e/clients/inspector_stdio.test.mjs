// The MCP Inspector's CLI over stdio, as a user's first contact: `troupe mcp` started cold, in
// a minimal environment (HOME, PATH and an existing XDG_RUNTIME_DIR, nothing of troupe's), with
// the default data directory under HOME, so it autostarts the daemon itself. Then tools/list,
// tools/call delegate_task and background_output, each in a fresh session (a new `troupe mcp`)
// as the Inspector's CLI makes one per call, and `troupe stop`.
//
// troupe mcp's stderr is kept (a wrapper script appends it to a file, since the Inspector
// swallows it): a cold start that reports "did not answer … each message will try again" has
// made the client wait for its first answer (15 s before the fix) and fails here.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';

import { checkToolList, delegateAndRead, inspector, prepareInspector } from './inspector.mjs';
import { UserMachine, stepper } from './user_machine.mjs';

const machine = new UserMachine('inspector-stdio');

test('MCP Inspector CLI over stdio: troupe mcp from a cold start in a minimal environment', async (t) => {
  const { step, failed } = stepper(t);
  prepareInspector(machine);
  const stderrFile = path.join(machine.root, 'troupe-mcp.stderr');
  const wrapper = path.join(machine.root, 'troupe-mcp.sh');
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec '${machine.binary}' mcp "$@" 2>>'${stderrFile}'\n`,
                   { mode: 0o755 });
  machine.logs.push(['troupe mcp stderr (every session)', { file: stderrFile }]);
  const target = [wrapper];
  try {
    await step('cold start: tools/list is answered, troupe mcp autostarted the daemon and ' +
               'reported no error', async () => {
      assert.equal(machine.lock(), null, 'a daemon runs already in the fresh HOME');
      const { result, run } = await inspector(machine, 'tools/list', target, ['--method', 'tools/list']);
      console.log(`cold start: initialize + tools/list answered after ${run.ms} ms`);
      const stderr = fs.existsSync(stderrFile) ? fs.readFileSync(stderrFile, 'utf8') : '';
      assert.doesNotMatch(stderr, /did not answer|will try again/i,
                          `troupe mcp reported a problem on its cold start:\n${stderr}`);
      const lock = machine.lock();
      assert.ok(lock?.pid > 0, `no daemon lock file in the default data dir ${machine.dataDir}`);
      process.kill(lock.pid, 0);
      checkToolList(result);
    });

    await step('tools/call delegate_task, then background_output (block=true): the task ' +
               'completed with the scripted result', async () => {
      const taskId = await delegateAndRead(machine, target, 'INSPECTOR-STDIO-RESULT');
      console.log(`task ${taskId} completed`);
    });

    await step('troupe stop, in the same environment, ends the autostarted daemon', async () => {
      const pid = machine.lock()?.pid;
      const stop = await machine.stopDaemon();
      assert.equal(stop.code, 0, `troupe stop failed: ${stop.stderr}`);
      assert.throws(() => process.kill(pid, 0), 'the daemon still runs after troupe stop');
    });
  } finally {
    if (failed()) machine.dumpLogs();
    await machine.shutdown();
  }
});
