// What a client showed the model, read from `troupe mock-llm --log-conversations`'s request log
// (GET /v1/mock/requests): each chat request's decoded system prompt and messages, in one shape
// for the OpenAI and Anthropic protocols (src/mock_llm/request_log.h, ConversationJson).
import assert from 'node:assert/strict';

// The `#mock` script of a client's model: tool calls turn by turn, then a final answer. Each
// call is [tool name, arguments object]; turn K makes calls[K-1] (src/llm/mock_directives.h).
export function mockScript(calls, reply, text) {
  const lines = ['#mock latency=0 tps=0'];
  calls.forEach(([name, args], i) => lines.push(`#mock tool@${i + 1}=${name}:${JSON.stringify(args)}`));
  lines.push(`#mock reply=${JSON.stringify(reply)}`);
  lines.push(text);
  return lines.join('\n');
}

// The prompt of the task the client's model delegates to troupe: the daemon's mock model
// answers `reply` at once.
export function childPrompt(reply) {
  return `#mock latency=0 tps=0 reply=${JSON.stringify(reply)}\nFind where the answer is.`;
}

// The chat requests of the log, in order, each {entry, messages, system}.
export function chatRequests(log) {
  return log.filter((e) => e.conversation).map((e) => ({
    entry: e, messages: e.conversation.messages, system: e.conversation.system,
  }));
}

// The tool results of a conversation as the model saw them: [{name, args, text}] in order,
// each paired with the call it answers.
export function toolResults(messages) {
  const calls = new Map();
  const results = [];
  for (const m of messages) {
    if (m.role === 'assistant') {
      for (const c of m.tool_calls ?? []) calls.set(c.id, c);
    } else if (m.role === 'tool') {
      const call = calls.get(m.tool_call_id);
      results.push({ name: call?.name ?? m.tool_name, args: call?.arguments ?? '', text: m.text,
                     is_error: m.is_error });
    }
  }
  return results;
}

// The request whose conversation is the longest: the client's last turn, which holds every tool
// result it showed the model.
export function finalConversation(log) {
  const chats = chatRequests(log);
  assert.ok(chats.length > 0, 'the client sent the model no chat request');
  return chats.reduce((a, b) => (b.messages.length > a.messages.length ? b : a));
}

const GUIDANCE = [/notified automatically/i, /no need to poll/i];

// Whether a tool result the model saw carries troupe's launch guidance ("You will be notified
// automatically when it finishes, so there is no need to poll").
export function hasLaunchGuidance(text) {
  return GUIDANCE.every((re) => re.test(text));
}

// Where a tool result the model saw tells it that `taskId` completed, or null: a
// `<system-reminder>` block naming the task as completed (the text content), or a notice of the
// task in a JSON answer (`notices` of structuredContent, which some clients show instead).
export function completionNotice(text, taskId) {
  const reminder = /<system-reminder>([\s\S]*?)<\/system-reminder>/.exec(text);
  if (reminder && new RegExp(`${taskId}\\b[^\\n]*\\bcompleted\\b`).test(reminder[1])) {
    return `<system-reminder>${reminder[1]}</system-reminder>`;
  }
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const notice = json?.notices?.find?.((n) => n.task_id === taskId && n.state === 'completed');
  return notice ? JSON.stringify({ notices: json.notices, reminder: json.reminder }) : null;
}

// The checks every model-driven client test makes on the final conversation: the delegate_task
// result showed the launch guidance and a task id; a later troupe tool result showed its
// completion notice. `toolName(base)` maps troupe's tool name to the client's
// (mcp__troupe__delegate_task, troupe_delegate_task). Returns {taskId, launch, notice} for the
// report.
export function checkWhatTheModelSaw(messages, toolName) {
  const results = toolResults(messages);
  const describe = () => JSON.stringify(results, null, 1).slice(0, 6000);
  const launchIndex = results.findIndex((r) => r.name === toolName('delegate_task'));
  assert.ok(launchIndex >= 0, `the model never saw a ${toolName('delegate_task')} result: ${describe()}`);
  const launch = results[launchIndex];
  assert.equal(launch.is_error, false, `delegate_task failed: ${launch.text}`);
  const taskId = /\bbg_[0-9a-z]+/.exec(launch.text)?.[0];
  assert.ok(taskId, `the delegate_task result the model saw names no task id: ${launch.text}`);
  assert.ok(hasLaunchGuidance(launch.text),
            'the model was not shown the launch guidance ("you will be notified automatically … ' +
            `no need to poll") in the delegate_task result; it saw:\n${launch.text}`);
  const later = results.slice(launchIndex + 1).filter((r) => r.name.includes('background_'));
  assert.ok(later.length > 0, `the model saw no troupe tool result after the launch: ${describe()}`);
  let notice = null;
  for (const r of later) {
    notice = completionNotice(r.text, taskId);
    if (notice) break;
  }
  assert.ok(notice, `no troupe tool result after the launch showed the model that ${taskId} ` +
            `completed (a <system-reminder> or a notice); it saw:\n` +
            later.map((r) => `${r.name}: ${r.text}`).join('\n---\n'));
  return { taskId, launch: launch.text, notice };
}
