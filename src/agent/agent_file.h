// User agents as Markdown files, the format Claude Code, OpenCode and Gemini CLI use: a YAML
// front-matter header between two `---` lines, then the system prompt.
//
//   ---
//   name: reviewer                  # optional; defaults to the file name without ".md"
//   description: Reviews a diff for bugs and style problems.       # required; one line
//   model: anthropic/claude-opus-4-5  # optional; "provider/model" or an alias
//   tools: [read, grep, glob]       # or "read, grep, glob"; [] = none; omitted =
//                                   #   DefaultFileAgentTools()
//   max_turns: 30                   # optional; max_tool_calls defaults to 3 × max_turns
//   max_tool_calls: 90
//   temperature: 0.2                # 0 to 2
//   max_output_tokens: 16000        # per reply; narrowed to the model's limit
//   thinking_budget: 8000           # Anthropic extended thinking, 1024 or more
//   reasoning_effort: high          # minimal, low, medium, high (OpenAI reasoning models)
//   prompt_caching: false           # default true
//   max_tokens: 2000000             # per-task budgets (a launch may only lower them)
//   max_cost_usd: 5
//   task_ttl_ms: 600000             # also pending_ttl_ms, stale_timeout_ms
//   ---
//   You review code. ...
//
// Not here, on purpose: `network` and `delegates_to`, which are rights the user's config gives.
// Keys compare without case, '_' or '-' (maxTurns = max_turns). Unknown keys are warnings, so
// files written for other tools (with `color:`, `mode:` ...) still load. Everything else wrong is
// an error that names the file and, where it can, the line.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "agent/agent_definition.h"
#include "core/status.h"

namespace troupe {

// Larger than any sensible prompt; a bigger file is refused unread.
inline constexpr size_t kMaxAgentFileBytes = 256 * 1024;

// The tools of a file agent whose header has no `tools` key: everything but delegation, which
// must be asked for by name.
const std::vector<std::string>& DefaultFileAgentTools();

// A problem with an agent file or a config override, found while loading the catalog.
struct AgentDiagnostic {
  enum class Severity { kWarning, kError };
  Severity severity = Severity::kError;
  std::string file;  // the agent file it is about; empty for a config override
  // Complete and self-locating: "/x/.troupe/agents/foo.md:3: max_turns: expected a positive
  // integer, got \"many\"". May span several lines (one per error of a broken file).
  std::string message;

  bool is_error() const { return severity == Severity::kError; }
};

// A parsed file: the definition and the warnings it produced (unknown keys).
struct AgentFile {
  AgentDefinition definition;
  std::vector<AgentDiagnostic> warnings;
};

// Parses the text of the agent file at `path` (used for the default name and in messages; not
// read). On any error returns InvalidArgument whose message lists every error found, one per
// line, each as "path:line: message" (or "path: message" when no line applies). Never throws.
Result<AgentFile> ParseAgentFile(std::string_view path, std::string_view text, AgentOrigin origin);

// Reads the file at `path` and parses it as ParseAgentFile does. IoError when it cannot be read
// or is not a regular file; ResourceExhausted when it is larger than kMaxAgentFileBytes.
Result<AgentFile> ReadAgentFile(const std::string& path, AgentOrigin origin);

}  // namespace troupe
