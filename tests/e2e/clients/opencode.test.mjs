// OpenCode (its native linux-x64 package), non-interactive (`opencode run`, the prompt on
// stdin), with its model a custom OpenAI-compatible provider at `troupe mock-llm` and troupe as a
// local MCP server, all from the project's opencode.json, offline. The scripted model calls
// troupe_delegate_task (background), then troupe_background_wait and troupe_background_list once
// the task finished, then answers. The mock's request log shows what OpenCode put in front of
// the model as each tool result: the launch guidance and the completion notice must be there.
//
// The prompt goes on stdin: `opencode run "<message>"` quotes a message that holds blanks, so
// its `#mock` lines would no longer start a line.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';

import { checkWhatTheModelSaw, childPrompt, finalConversation, mockScript } from './model_view.mjs';
import { UserMachine, modulePath, stepper } from './user_machine.mjs';

const OPENCODE = modulePath('opencode-linux-x64/bin/opencode');
const machine = new UserMachine('opencode');
const tool = (name) => `troupe_${name}`;

test('opencode run drives troupe over MCP; the model sees the guidance and the notice', async (t) => {
  const { step, failed } = stepper(t);
  let log = null;
  try {
    const mock = await machine.startMockLlm();
    // The project config as a user writes it (what README shows), with the mock as provider.
    fs.writeFileSync(path.join(machine.project, 'opencode.json'), JSON.stringify({
      $schema: 'https://opencode.ai/config.json',
      autoupdate: false,
      share: 'disabled',
      provider: {
        mock: {
          npm: '@ai-sdk/openai-compatible',
          name: 'troupe mock-llm',
          options: { baseURL: `${mock.url}/v1`, apiKey: 'dummy' },
          models: { scripted: { name: 'scripted', tool_call: true } },
        },
      },
      model: 'mock/scripted',
      mcp: { troupe: { type: 'local', command: [machine.binary, 'mcp'], enabled: true,
                       timeout: 30000 } },
    }, null, 2));
    const prompt = mockScript([
      [tool('delegate_task'), { description: 'find the answer', agent: 'explore',
                                prompt: childPrompt('CHILD-RESULT-42'), background: true }],
      [tool('background_wait'), { timeout_ms: 30000 }],
      [tool('background_list'), {}],
    ], 'all done', 'Delegate the search to troupe, then tell me when it is done.');

    await step('opencode run finishes with the scripted answer', async () => {
      const run = await machine.run('opencode run', OPENCODE, ['run', '--format', 'json', '--print-logs'], {
        input: `${prompt}\n`,
        env: machine.env({
          OPENCODE_DISABLE_AUTOUPDATE: '1',
          OPENCODE_DISABLE_MODELS_FETCH: '1',
          OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
        }),
        timeoutMs: 150_000,
      });
      log = await mock.requests();
      assert.equal(run.timedOut, false, 'opencode run did not finish within 150 s');
      assert.equal(run.code, 0, `opencode run exited ${run.code}: ${run.stderr.slice(-3000)}`);
      const texts = run.stdout.split('\n').filter(Boolean).map((l) => {
        try { return JSON.parse(l); } catch { return null; }
      }).filter((e) => e?.type === 'text').map((e) => e.part?.text);
      assert.ok(texts.includes('all done'), `the answer was not "all done": ${run.stdout.slice(-3000)}`);
      console.log(`opencode run took ${run.ms} ms (troupe mcp started cold)`);
    });

    await step('every model request OpenCode sent was answered', async () => {
      const chats = log.filter((e) => e.conversation);
      assert.ok(chats.length >= 4, `${chats.length} chat requests`);
      for (const e of chats) {
        assert.equal(e.protocol, 'openai', JSON.stringify(e));
        assert.equal(e.outcome, 'completed', `${e.path}: ${e.outcome} ${e.error}`);
      }
    });

    await step('the model saw the launch guidance in the delegate_task result and the ' +
               'completion notice in a later troupe tool result', async () => {
      const { messages } = finalConversation(log);
      const seen = checkWhatTheModelSaw(messages, tool);
      console.log(`what the model saw as the delegate_task result:\n${seen.launch}\n` +
                  `the completion notice it saw:\n${seen.notice}`);
    });
  } finally {
    if (failed()) {
      machine.dumpLogs();
      if (log) console.error(`----- mock-llm request log -----\n${JSON.stringify(log).slice(-8000)}`);
    }
    await machine.shutdown();
  }
});
