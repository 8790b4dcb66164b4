// The request bodies troupe sends, checked against the official SDKs' request types.
//
// A `troupe serve` daemon runs tasks on the three wire formats — OpenAI Chat Completions,
// OpenAI Responses, Anthropic Messages — against `troupe mock-llm --log-bodies`, with agents
// (project agent files) that use tools, extended thinking with Anthropic's signed and redacted
// blocks sent back, reasoning effort, reasoning replay and prompt caching. Every body mock-llm
// recorded becomes an object literal typed as the SDK's create-params type
// (Anthropic.MessageCreateParams, OpenAI.ChatCompletionCreateParams,
// OpenAI.Responses.ResponseCreateParams) in a TypeScript file that tsc compiles: a field the SDK
// does not know (excess property), a missing required one or a wrong type is a compile error,
// reported with the body it came from. A deliberately wrong body proves the check can fail.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';

import ts from 'typescript';

import { UserMachine } from '../clients/user_machine.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);

// A user's machine whose daemon has the providers' keys (mock-llm checks that one is sent).
class Machine extends UserMachine {
  env(extra = {}) {
    return super.env({ E2E_KEY: 'sk-e2e-key', ...extra });
  }
}

const machine = new Machine('sdk-types');
after(() => machine.shutdown());

function writeSetup(mockUrl) {
  const config = {
    default_model: 'oc/scripted',
    providers: {
      oc: { type: 'openai', base_url: `${mockUrl}/v1`, api_key_env: 'E2E_KEY' },
      rs: { type: 'openai-responses', base_url: `${mockUrl}/v1`, api_key_env: 'E2E_KEY' },
      an: { type: 'anthropic', base_url: mockUrl, api_key_env: 'E2E_KEY',
            max_output_tokens: { 'claude-sonnet-4-5': 8192 } },
    },
  };
  fs.writeFileSync(path.join(machine.home, '.config', 'troupe', 'troupe.jsonc'), JSON.stringify(config));
  const agents = path.join(machine.project, '.troupe', 'agents');
  fs.mkdirSync(agents, { recursive: true });
  fs.writeFileSync(path.join(agents, 'thinker.md'),
    '---\ndescription: Thinks before it searches.\ntools: [read, grep, glob]\n' +
    'thinking_budget: 2048\nmax_output_tokens: 4096\ntemperature: 0.5\n---\nYou search the project.\n');
  fs.writeFileSync(path.join(agents, 'reasoner.md'),
    '---\ndescription: Reasons a little, then searches.\ntools: [read, grep, glob]\n' +
    'reasoning_effort: low\ntemperature: 0.3\n---\nYou search the project.\n');
  fs.writeFileSync(path.join(machine.project, 'notes.md'), '# Notes\nThe project keeps its notes here.\n');
}

async function runTask(daemon, agent, model, prompt) {
  const r = await fetch(`${daemon.url}/v1/tasks`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${daemon.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ agent, model, prompt, wait_ms: 60_000 }),
  });
  const answer = await r.json();
  assert.ok(r.ok, `POST /v1/tasks (${agent} on ${model}): ${r.status} ${JSON.stringify(answer)}`);
  const task = answer.task;
  assert.equal(task.state, 'completed', `${agent} on ${model}: ${task.state}: ${task.error}`);
  return task;
}

const TYPES = {
  anthropic: 'Anthropic.MessageCreateParams',
  openai: 'OpenAI.ChatCompletionCreateParams',
  'openai-responses': 'OpenAI.Responses.ResponseCreateParams',
};

// tsc's errors for `bodies` ([{protocol, body, label}]), each with the label of its body.
function typeErrors(bodies) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'troupe-sdk-types-'));
  try {
    fs.symlinkSync(path.join(here, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    const lines = ["import type Anthropic from '@anthropic-ai/sdk';", "import type OpenAI from 'openai';"];
    const owner = [];  // line number -> label
    bodies.forEach(({ protocol, body, label }, i) => {
      const text = `export const body${i}: ${TYPES[protocol]} = ${JSON.stringify(body, null, 1)};`;
      for (const _ of text.split('\n')) owner.push(label);
      lines.push(text);
    });
    const file = path.join(dir, 'bodies.ts');
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const program = ts.createProgram([file], {
      strict: true, noEmit: true, skipLibCheck: true, types: [],
      target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
    });
    return ts.getPreEmitDiagnostics(program).map((d) => {
      const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      if (!d.file || d.file.fileName !== file) return `${d.file?.fileName ?? ''}: ${text}`;
      const { line } = d.file.getLineAndCharacterOfPosition(d.start);
      const where = line >= 2 ? owner[line - 2] : 'imports';
      return `${where}, line ${line + 1}: ${text}\n  ${lines.join('\n').split('\n')[line].trim()}`;
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('every request body troupe sent matches the official SDKs\' request types', { timeout: 180_000 }, async () => {
  try {
    const mock = await machine.startMockLlm(['--log-bodies']);
    const mockUrl = mock.url;
    writeSetup(mockUrl);
    const daemon = await machine.startServe();
    const quick = '#mock latency=0 tps=0';
    await runTask(daemon, 'explore', 'oc/scripted', `Where are the notes kept?\n${quick}`);
    await runTask(daemon, 'reasoner', 'oc/o3',
                  `${quick} tool=glob:{"pattern":"*.md"} reply=done\nList the notes.`);
    await runTask(daemon, 'reasoner', 'rs/gpt-5',
                  `${quick} reasoning="Looking for notes." tool=grep:{"pattern":"notes"} reply=done\nFind the notes.`);
    await runTask(daemon, 'thinker', 'an/claude-sonnet-4-5',
                  `${quick} signed_thinking tool=grep:{"pattern":"notes"} tool=glob:{"pattern":"*"} ` +
                  `tool@2=read:{"path":"notes.md"} reply=done\nRead the notes.`);

    const log = await mock.requests();
    const bodies = log.filter((e) => TYPES[e.protocol] && e.body)
      .map((e) => ({ protocol: e.protocol, body: e.body, label: `request ${e.id} (${e.protocol} ${e.model})` }));
    const count = (p) => bodies.filter((b) => b.protocol === p).length;
    assert.ok(count('openai') >= 4, `${count('openai')} Chat Completions bodies`);
    assert.ok(count('openai-responses') >= 2, `${count('openai-responses')} Responses bodies`);
    assert.ok(count('anthropic') >= 3, `${count('anthropic')} Messages bodies`);
    // What the bodies must contain for the check to mean something.
    const all = JSON.stringify(bodies);
    for (const needle of ['"redacted_thinking"', '"signature"', '"budget_tokens"', '"cache_control"',
                          '"tool_result"', '"function_call_output"', '"reasoning_effort"',
                          '"max_completion_tokens"', '"role":"tool"']) {
      assert.ok(all.includes(needle), `no body has ${needle}`);
    }

    const errors = typeErrors(bodies);
    assert.deepEqual(errors, [], `bodies that do not match the SDK types:\n${errors.join('\n')}`);

    // The check itself: an unknown field, a wrong type and a missing field are caught.
    const anthropic = bodies.find((b) => b.protocol === 'anthropic');
    const bad = [
      { ...anthropic, label: 'unknown field', body: { ...anthropic.body, max_token: 5 } },
      { ...anthropic, label: 'wrong type', body: { ...anthropic.body, max_tokens: '5' } },
      { protocol: 'openai', label: 'missing field', body: { model: 'x' } },
    ];
    const caught = typeErrors(bad);
    for (const label of ['unknown field', 'wrong type', 'missing field']) {
      assert.ok(caught.some((e) => e.startsWith(label)), `tsc did not catch the ${label}: ${caught.join('\n')}`);
    }
    console.log(`${bodies.length} request bodies checked against @anthropic-ai/sdk and openai types`);
  } catch (e) {
    machine.dumpLogs();
    throw e;
  }
});
