#include "agent/delegation_arguments.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>

namespace troupe {
namespace {

using json = nlohmann::json;

// `model`: "provider/model", or a list of 1 to kMaxDelegatedModels of them — the first the
// task's model, the others its fallback models in order (as REST's `model` and `--model a,b`).
// Whether each is a known model is the engine's check, at launch.
Status ParseModels(const ToolArgs& args, DelegateArguments* out) {
  const json* models = args.Find("model");
  if (models == nullptr || !models->is_array()) {
    TROUPE_ASSIGN_OR_RETURN(out->model,
                            args.OptionalText("model", "a model name (provider/model)"));
    return Status::Ok();
  }
  if (models->empty() || models->size() > kMaxDelegatedModels) {
    return args.Error(fmt::format(
        "`model` must be a model name (provider/model) or a list of 1 to {} of them (got {})",
        kMaxDelegatedModels, DescribeArgumentValue(*models)));
  }
  for (size_t i = 0; i < models->size(); ++i) {
    const json& m = (*models)[i];
    if (!m.is_string() ||
        m.get_ref<const std::string&>().find_first_not_of(" \t\r\n") == std::string::npos) {
      return args.Error(fmt::format("`model[{}]` must be a model name (provider/model) (got {})", i,
                                    DescribeArgumentValue(m)));
    }
    const std::string& name = m.get_ref<const std::string&>();
    if (i == 0) {
      out->model = name;
    } else {
      out->fallback_models.push_back(name);
    }
  }
  return Status::Ok();
}

}  // namespace

Result<DelegateArguments> ParseDelegateArguments(const ToolArgs& args,
                                                 std::string_view available_agents) {
  TROUPE_RETURN_IF_ERROR(
      args.CheckObject({"description", "prompt", "agent", "model", "background", "session_id",
                        "max_tokens", "max_cost_usd", "isolation"}));
  DelegateArguments out;
  TROUPE_ASSIGN_OR_RETURN(
      out.description, args.RequiredString("description", "a short label for the task, 3-5 words"));
  TROUPE_ASSIGN_OR_RETURN(out.prompt,
                          args.RequiredString("prompt", "the complete instructions for the agent"));
  TROUPE_ASSIGN_OR_RETURN(out.session_id, args.OptionalText("session_id", "a session id (ses_…)"));
  TROUPE_ASSIGN_OR_RETURN(out.agent, args.OptionalText("agent", "an agent name"));
  TROUPE_RETURN_IF_ERROR(ParseModels(args, &out));
  TROUPE_ASSIGN_OR_RETURN(out.background, args.OptionalBool("background", true));
  TROUPE_ASSIGN_OR_RETURN(out.isolation,
                          args.OptionalText("isolation", "\"none\" or \"worktree\""));
  if (!out.isolation.empty() && out.isolation != "none" && out.isolation != "worktree") {
    return args.Error("`isolation` must be \"none\" or \"worktree\" (got " +
                      DescribeArgumentValue(*args.Find("isolation")) + ")");
  }
  if (args.Find("max_tokens") != nullptr) {
    TROUPE_ASSIGN_OR_RETURN(int64_t tokens,
                            args.OptionalInt("max_tokens", 0, 1, kMaxDelegatedTokens));
    out.max_tokens = tokens;
  }
  if (const json* cost = args.Find("max_cost_usd")) {
    if (!cost->is_number() || !(cost->get<double>() > 0) || cost->get<double>() > 1e9) {
      return args.Error("`max_cost_usd` must be an amount of USD above 0 (got " +
                        DescribeArgumentValue(*cost) + ")");
    }
    out.max_cost_usd = cost->get<double>();
  }
  if (out.agent.empty() && out.session_id.empty()) {
    const std::string hint =
        available_agents.empty() ? "" : "; available agents: " + std::string(available_agents);
    return args.Error(
        "`agent` is required (the agent to run the task) unless `session_id` continues an "
        "earlier session" +
        hint);
  }
  return out;
}

Result<WaitArguments> ParseWaitArguments(const ToolArgs& args, const DelegationLimits& limits) {
  TROUPE_RETURN_IF_ERROR(args.CheckObject({"task_ids", "mode", "timeout_ms"}));
  WaitArguments out;
  if (const json* ids = args.Find("task_ids")) {
    if (!ids->is_array() || ids->empty() || ids->size() > kMaxWaitIds) {
      return args.Error("`task_ids` must be an array of 1 to " + std::to_string(kMaxWaitIds) +
                        " task ids (got " + DescribeArgumentValue(*ids) +
                        "); leave it out to wait for all of your active tasks");
    }
    std::set<std::string> seen;
    for (size_t i = 0; i < ids->size(); ++i) {
      const json& id = (*ids)[i];
      if (!id.is_string() || id.get_ref<const std::string&>().empty()) {
        return args.Error("`task_ids[" + std::to_string(i) + "]` must be a task id (bg_…) (got " +
                          DescribeArgumentValue(id) + ")");
      }
      if (seen.insert(id.get<std::string>()).second) out.task_ids.push_back(id.get<std::string>());
    }
  }
  Result<std::string> mode = args.OptionalText("mode", "\"all\" or \"any\"");
  if (!mode.ok()) return mode.status();
  if (!mode->empty() && *mode != "all" && *mode != "any") {
    return args.Error("`mode` must be \"all\" or \"any\" (got " +
                      DescribeArgumentValue(*args.Find("mode")) + ")");
  }
  out.any = *mode == "any";
  TROUPE_ASSIGN_OR_RETURN(out.timeout_ms, args.OptionalInt("timeout_ms", limits.default_wait_ms, 0,
                                                           limits.max_timeout_ms));
  out.timeout_given = args.Find("timeout_ms") != nullptr;
  return out;
}

}  // namespace troupe
