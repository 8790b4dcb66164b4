// The mock model's default behaviour when no directive scripts a turn: a small, deterministic
// search agent, so that an offline demo does what a real explore agent would.
//  1. It picks keywords out of the prompt (the last user message without its `#mock` lines).
//  2. If the request offers search tools and no tool result has arrived since the prompt, it
//     calls them in parallel: `grep` for up to three keywords and `glob` for file names
//     (`list` when neither is offered).
//  3. After their results, if `read` is offered and nothing was read yet, it reads the first file
//     those results named.
//  4. Then it answers with a summary of what the tool results contained: counts, paths with line
//     numbers, quoted matching lines, what a read file defines, and the errors.
// Without usable tools it answers with a restatement of the request and its keywords. Every
// answer says it comes from the offline mock model.
//
// Tool names are matched case-insensitively; arguments use only properties the offered
// input_schema declares (all of grep {pattern, path?, glob?, case-insensitive flag?},
// glob {pattern, path?}, read {path, offset?, limit?}, list {path?} when it declares none).
// Pure functions of the request.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "llm/chat_types.h"

namespace troupe {

// A user message that is only a <system-reminder> block: something the host added (child
// notifications, todo reminders), not the user's prompt.
bool IsSystemReminder(const ChatMessage& message);

// Index of the first message after the last user message that is not a system reminder (0 when
// there is none): the prompt the mock answers is the one before it.
size_t MockFirstMessageAfterPrompt(const ChatRequest& request);

// The keywords of `prompt`, best first, at most eight: quoted phrases, then identifiers
// (`TaskManager`, `sse_parser`, a file name without its extension), then other words; stop
// words, numbers and words under three characters are left out.
std::vector<std::string> MockKeywords(std::string_view prompt);

// The agent's next turn: tool calls (their ids left empty for the caller to assign), or when
// `tool_calls` is empty the final answer in `text`.
struct MockAgentTurn {
  std::vector<ToolCall> tool_calls;
  std::string text;
};

// Steps 2-4 above for `request`, whose prompt without `#mock` lines is `prompt`.
MockAgentTurn MockAgentNextTurn(const ChatRequest& request, std::string_view prompt);

// Step 4 alone: the summary of the tool results since the prompt, or the restatement when there
// are none. Used as the final answer after scripted tool calls too.
std::string MockAgentAnswer(const ChatRequest& request, std::string_view prompt);

}  // namespace troupe
