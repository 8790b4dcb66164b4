// The MCP Inspector's CLI mode (@modelcontextprotocol/inspector-cli): one MCP session per run
// (initialize, one method, close), its answer as JSON on stdout. What both Inspector tests call
// and check.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { modulePath } from './user_machine.mjs';

const CLI = modulePath('@modelcontextprotocol/inspector-cli/build/cli.js');

export const TOOLS = ['background_cancel', 'background_list', 'background_output',
                      'background_wait', 'delegate_task'];

// inspector-cli 1.0.3 run from its own package (not inside @modelcontextprotocol/inspector)
// looks for "../package.json" relative to the *working directory* before it imports its own
// package.json for the client's name; without one it fails with "Cannot find module". The
// project's parent gets an empty one, which is all the check needs.
export function prepareInspector(machine) {
  fs.writeFileSync(path.join(machine.root, 'package.json'), '{ "private": true }\n');
}

// Runs `mcp-inspector-cli --cli <target…> <args…>` on `machine` (its minimal environment, the
// project as working directory). Resolves {result, run}: the parsed JSON answer and the run.
export async function inspector(machine, label, target, args, { expectFailure = false } = {}) {
  const run = await machine.run(`inspector ${label}`, process.execPath,
                                [CLI, '--cli', ...target, ...args], { timeoutMs: 90_000 });
  assert.equal(run.timedOut, false, `the Inspector did not finish ${label} within 90 s`);
  if (expectFailure) {
    assert.notEqual(run.code, 0, `${label} succeeded: ${run.stdout}`);
    return { result: null, run };
  }
  assert.equal(run.code, 0, `the Inspector failed ${label} (exit ${run.code}): ${run.stderr.slice(-3000)}`);
  let result = null;
  try {
    result = JSON.parse(run.stdout);
  } catch {
    assert.fail(`the Inspector's answer to ${label} is not JSON: ${run.stdout.slice(0, 2000)}`);
  }
  return { result, run };
}

// tools/list's answer: the five tools, each with a title, schemas and truthful annotations.
export function checkToolList(result) {
  const tools = result.tools ?? [];
  assert.deepEqual(tools.map((x) => x.name).sort(), TOOLS, JSON.stringify(result).slice(0, 2000));
  const byName = Object.fromEntries(tools.map((x) => [x.name, x]));
  for (const tool of tools) {
    assert.equal(tool.inputSchema?.type, 'object', tool.name);
    assert.equal(tool.outputSchema?.type, 'object', tool.name);
    assert.ok(tool.annotations, `${tool.name} has no annotations`);
    assert.equal(typeof tool.annotations.title, 'string', tool.name);
  }
  // Only reads: clients may run them without asking.
  for (const name of ['background_output', 'background_wait', 'background_list']) {
    const a = byName[name].annotations;
    assert.equal(a.readOnlyHint, true, `${name}: ${JSON.stringify(a)}`);
  }
  // Starts an agent that may edit files and run commands: clients should ask before it.
  assert.equal(byName.delegate_task.annotations.readOnlyHint, false);
  assert.equal(byName.delegate_task.annotations.destructiveHint, true);
  // Ends work that cannot be resumed as it was.
  assert.equal(byName.background_cancel.annotations.readOnlyHint, false);
  assert.equal(byName.background_cancel.annotations.destructiveHint, true);
  return byName;
}

// The arguments of a tools/call: --tool-name and one --tool-arg key=value per argument (the
// Inspector parses each value as JSON when it can, else keeps the string).
export function toolCall(name, args) {
  const out = ['--method', 'tools/call', '--tool-name', name];
  for (const [k, v] of Object.entries(args)) {
    out.push('--tool-arg', `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  return out;
}

// delegate_task in the background, then background_output with block=true: the task completes
// with the scripted reply. Returns the task id.
export async function delegateAndRead(machine, target, reply) {
  const prompt = `#mock latency=0 tps=0 reply=${JSON.stringify(reply)}\nFind where the answer is.`;
  const { result: launched } = await inspector(machine, 'delegate_task', target,
    toolCall('delegate_task', { description: 'inspector probe', agent: 'explore', prompt,
                                background: true }));
  assert.equal(launched.isError, false, JSON.stringify(launched));
  const taskId = launched.structuredContent?.task_id;
  assert.match(taskId ?? '', /^bg_/, JSON.stringify(launched));
  const text = launched.content.map((c) => c.text ?? '').join('\n');
  assert.ok(text.includes(`Task ID: ${taskId}`), text);

  const { result: shown } = await inspector(machine, 'background_output', target,
    toolCall('background_output', { task_id: taskId, block: true, timeout_ms: 30000 }));
  assert.equal(shown.isError, false, JSON.stringify(shown));
  assert.equal(shown.structuredContent?.state, 'completed', JSON.stringify(shown));
  assert.equal(shown.structuredContent?.result, reply, JSON.stringify(shown));
  return taskId;
}
