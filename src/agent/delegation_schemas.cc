#include "agent/delegation_schemas.h"

#include <fmt/format.h>

#include <string>

#include "core/duration_format.h"

namespace troupe {
namespace {

using json = nlohmann::json;

json Prop(const char* type, const std::string& description) {
  return {{"type", type}, {"description", description}};
}

json TimeoutSchema(const DelegationLimits& l, const std::string& what) {
  json s = {{"type", "integer"}, {"minimum", 0}, {"default", l.default_wait_ms}};
  if (l.max_wait_ms >= l.max_timeout_ms) {
    s["maximum"] = l.max_timeout_ms;
    s["description"] = what + ", in milliseconds";
  } else {
    s["description"] = fmt::format(
        "{}, in milliseconds: at most {} (a larger value is lowered to it, as most MCP clients "
        "end a tool call after 60 s); if the wait ends first, the answer says how to wait again",
        what, l.max_wait_ms);
  }
  return s;
}

json Object(json properties, json required) {
  return {{"type", "object"},
          {"properties", std::move(properties)},
          {"required", std::move(required)},
          {"additionalProperties", false}};
}

// `schema` limited to `values`.
json Enum(json schema, std::initializer_list<const char*> values) {
  json list = json::array();
  for (const char* v : values) list.push_back(v);
  schema["enum"] = std::move(list);
  return schema;
}

// delegate_task's `model`: one model, or a list whose first is the task's and the others its
// fallback models (DelegateArguments::fallback_models).
json ModelSchema() {
  json one = {{"type", "string"}};
  json list = {{"type", "array"},
               {"items", {{"type", "string"}}},
               {"minItems", 1},
               {"maxItems", kMaxDelegatedModels}};
  return {{"anyOf", {std::move(one), std::move(list)}},
          {"description",
           fmt::format("Run on this model (provider/model) instead of the agent's; or a list of "
                       "up to {}: the task runs on the first and, when it fails after its retries "
                       "(overloaded, rate-limited, unreachable), continues on the next ones in "
                       "order",
                       kMaxDelegatedModels)}};
}

}  // namespace

json DelegationInputSchema(std::string_view tool, const DelegationServiceOptions& options) {
  const DelegationLimits& l = options.limits;
  if (tool == "delegate_task") {
    json agent = Prop("string", "The agent to run the task (required unless session_id is given)");
    if (!options.agents.empty()) {
      json names = json::array();
      for (const DelegableAgent& a : options.agents) names.push_back(a.name);
      agent["enum"] = std::move(names);
    }
    json background = Prop("boolean",
                           "true (default): return at once; you are told when it "
                           "finishes. false: wait for the task (up to " +
                               FormatDuration(l.foreground_wait_ms) + ") and return its result");
    background["default"] = true;
    return Object(
        {{"description", Prop("string", "A short label for the task, 3-5 words (shown in tables)")},
         {"prompt", Prop("string",
                         "The complete, self-contained instructions for the agent, including "
                         "what to report")},
         {"agent", std::move(agent)},
         {"model", ModelSchema()},
         {"background", std::move(background)},
         {"max_tokens",
          Prop("integer",
               "Optional budget: tokens (input + output) the task may use; it ends in error "
               "when they are spent. Can only lower your own budget")},
         {"max_cost_usd", Prop("number",
                               "Optional budget: USD the task may spend. Can only lower your "
                               "own budget")},
         {"isolation",
          Enum(
              Prop("string",
                   "\"worktree\": the task works in a fresh git worktree of your workspace, on its "
                   "own branch, and its result names the branch and commits (for parallel edits "
                   "that "
                   "must not collide); \"none\": in your workspace. Default: as the agent is set "
                   "up"),
              {"none", "worktree"})},
         {"session_id", Prop("string",
                             "Continue this session (one delegate_task returned) with `prompt` as "
                             "the follow-up, instead of starting a new one")}},
        {"description", "prompt"});
  }
  if (tool == "background_output") {
    json block = Prop("boolean", "Wait for the task to finish (up to timeout_ms) before answering");
    block["default"] = false;
    json full = Prop("boolean", "Also show the task's whole conversation (tool calls and results)");
    full["default"] = false;
    return Object({{"task_id", Prop("string", "The task id (bg_…) to show")},
                   {"block", std::move(block)},
                   {"timeout_ms", TimeoutSchema(l, "With block=true: the longest wait")},
                   {"full_session", std::move(full)}},
                  {"task_id"});
  }
  if (tool == "background_wait") {
    json mode = Prop("string", "all: until every task finished; any: until the first one did");
    mode["enum"] = {"all", "any"};
    mode["default"] = "all";
    return Object(
        {{"task_ids",
          {{"type", "array"},
           {"items", {{"type", "string"}}},
           {"minItems", 1},
           {"maxItems", kMaxWaitIds},
           {"description",
            "The tasks to wait for (default: all of your tasks that are pending or running)"}}},
         {"mode", std::move(mode)},
         {"timeout_ms", TimeoutSchema(l, "The longest wait")}},
        json::array());
  }
  if (tool == "background_cancel") {
    return Object(
        {{"task_id", Prop("string", "The task id (bg_…) to cancel")},
         {"all",
          Prop("boolean", "true: cancel every one of your tasks that is pending or running")}},
        json::array());
  }
  if (tool == "background_list") {
    json status = Prop("string", "Only tasks in this state (active = pending or running)");
    status["enum"] = {"pending",   "running",     "completed", "error",
                      "cancelled", "interrupted", "active"};
    return Object({{"status", std::move(status)}}, json::array());
  }
  return Object(json::object(), json::array());
}

}  // namespace troupe
