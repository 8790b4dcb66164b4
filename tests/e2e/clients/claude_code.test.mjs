// Claude Code (@anthropic-ai/claude-code), non-interactive (`claude -p`), with troupe as a stdio
// MCP server and its model pointed at `troupe mock-llm` (ANTHROPIC_BASE_URL), all offline. The
// scripted model calls mcp__troupe__delegate_task (background), then background_wait and
// background_list once the task finished, then answers. The mock's request log then shows what
// Claude Code put in front of the model as each tool_result: the launch guidance and the
// completion notice must be there. (Claude Code shows the model structuredContent, not the text
// content, when a tool has an outputSchema; so they must be in structuredContent too.)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';

import { checkWhatTheModelSaw, childPrompt, finalConversation, mockScript } from './model_view.mjs';
import { UserMachine, modulePath, stepper } from './user_machine.mjs';

const CLAUDE = modulePath('@anthropic-ai/claude-code/bin/claude.exe');
const machine = new UserMachine('claude-code');
const tool = (name) => `mcp__troupe__${name}`;

test('Claude Code -p drives troupe over MCP; the model sees the guidance and the notice', async (t) => {
  const { step, failed } = stepper(t);
  let mock = null;
  let log = null;
  try {
    mock = await machine.startMockLlm();
    // The MCP config as a user writes it: troupe mcp, nothing else (no env, no data dir).
    const mcpConfig = path.join(machine.root, 'claude-mcp.json');
    fs.writeFileSync(mcpConfig, JSON.stringify({
      mcpServers: { troupe: { command: machine.binary, args: ['mcp'] } },
    }, null, 2));
    const prompt = mockScript([
      [tool('delegate_task'), { description: 'find the answer', agent: 'explore',
                                prompt: childPrompt('CHILD-RESULT-42'), background: true }],
      [tool('background_wait'), { timeout_ms: 30000 }],
      [tool('background_list'), {}],
    ], 'all done', 'Delegate the search to troupe, then tell me when it is done.');

    let run = null;
    await step('claude -p --mcp-config … --allowedTools mcp__troupe finishes with the scripted ' +
               'answer after four model turns', async () => {
      run = await machine.run('claude -p', CLAUDE, [
        '-p', prompt, '--mcp-config', mcpConfig, '--strict-mcp-config',
        '--allowedTools', 'mcp__troupe', '--output-format', 'json',
      ], {
        env: machine.env({
          ANTHROPIC_BASE_URL: mock.url,
          ANTHROPIC_API_KEY: 'dummy',
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
          DISABLE_TELEMETRY: '1',
          DISABLE_AUTOUPDATER: '1',
          DISABLE_ERROR_REPORTING: '1',
        }),
        timeoutMs: 150_000,
      });
      log = await mock.requests();
      assert.equal(run.timedOut, false, 'claude -p did not finish within 150 s');
      assert.equal(run.code, 0, `claude -p exited ${run.code}: ${run.stdout.slice(0, 2000)} ${run.stderr.slice(-2000)}`);
      const out = JSON.parse(run.stdout);
      assert.equal(out.is_error, false, run.stdout.slice(0, 2000));
      assert.deepEqual(out.permission_denials ?? [], [], 'Claude Code denied a troupe tool');
      assert.equal(out.result, 'all done', run.stdout.slice(0, 2000));
      assert.equal(out.num_turns, 4, run.stdout.slice(0, 2000));
      console.log(`claude -p took ${run.ms} ms (troupe mcp started cold)`);
    });

    await step('every model request Claude Code sent was answered', async () => {
      const chats = log.filter((e) => e.conversation);
      assert.ok(chats.length >= 4, `${chats.length} chat requests`);
      for (const e of chats) {
        assert.equal(e.protocol, 'anthropic', JSON.stringify(e));
        assert.equal(e.outcome, 'completed', `${e.path}: ${e.outcome} ${e.error}`);
      }
      const others = log.filter((e) => !e.conversation).map((e) => `${e.method} ${e.path} ${e.status}`);
      console.log(`other requests to the model's base URL: ${others.join(', ') || 'none'}`);
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
