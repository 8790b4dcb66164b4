#include "mcp/mcp_tool_schemas.h"

#include <fmt/format.h>

#include <string>
#include <utility>

#include "agent/delegation_schemas.h"

namespace troupe {
namespace {

using json = nlohmann::json;

const char* const kStates[] = {"pending", "running",   "completed",
                               "error",   "cancelled", "interrupted"};

// --- schemas -------------------------------------------------------------------------------

json Prop(const char* type, const std::string& description) {
  return {{"type", type}, {"description", description}};
}

// "50000" → "50 s" for descriptions.
std::string Seconds(int64_t ms) { return fmt::format("{:g} s", static_cast<double>(ms) / 1000); }

json TaskSchema() {
  json states = json::array();
  for (const char* s : kStates) states.push_back(s);
  json state = Prop("string", "pending (queued for a slot), running, or how it ended");
  state["enum"] = states;
  return {
      {"type", "object"},
      {"properties",
       {{"task_id", Prop("string", "The task id (bg_…)")},
        {"session_id", Prop("string", "The session; continue it with delegate_task(session_id)")},
        {"agent", Prop("string", "The agent running the task")},
        {"model", Prop("string", "The model (provider/model)")},
        {"description", Prop("string", "The task's short label")},
        {"state", std::move(state)},
        {"queue_position", Prop("integer", "1-based place in the queue while pending, else 0")},
        {"waiting_reason", Prop("string", "Why it is pending")},
        {"duration_ms", Prop("integer", "Queued for (pending), running for, or ran for")},
        {"last_tool", Prop("string", "The tool it used last")},
        {"result", Prop("string", "The final answer (completed)")},
        {"error", Prop("string", "Why it ended without a result")},
        {"usage",
         {{"type", "object"},
          {"description",
           "Tokens and cost so far. cost_usd is null when a model has no price (cost unknown)"},
          {"properties",
           {{"requests", Prop("integer", "Model requests made")},
            {"input_tokens", Prop("integer", "Prompt tokens, cached ones included")},
            {"output_tokens", Prop("integer", "Output tokens, reasoning included")},
            {"cache_write_tokens", Prop("integer", "Prompt tokens written to the cache")},
            {"cache_read_tokens", Prop("integer", "Prompt tokens read from the cache")},
            {"reasoning_tokens", Prop("integer", "Output tokens spent reasoning")},
            {"cost_usd", {{"type", json::array({"number", "null"})},
                          {"description", "USD; null when unknown"}}},
            {"cost", Prop("string", "The cost as text, or \"cost unknown\"")}}}}}}},
      {"required", {"task_id", "session_id", "agent", "state"}}};
}

json TaskListSchema(json extra_properties, json required) {
  json props = {{"tasks", {{"type", "array"}, {"items", TaskSchema()}}}};
  for (auto& [k, v] : extra_properties.items()) props[k] = v;
  return {{"type", "object"}, {"properties", std::move(props)}, {"required", std::move(required)}};
}

// What every answer may carry besides its own fields (mcp/mcp_answers.h): written for the model,
// since some clients show it structuredContent and not the text.
void AddAnswerFields(json* output) {
  json notice = {
      {"type", "object"},
      {"properties",
       {{"task_id", Prop("string", "The task that finished")},
        {"state", Prop("string", "How it ended: completed, error or cancelled")},
        {"summary",
         Prop("string", "One line: the task, its agent and description, and the outcome")}}},
      {"required", {"task_id", "state", "summary"}}};
  json& props = (*output)["properties"];
  props["notices"] = {
      {"type", "array"},
      {"items", std::move(notice)},
      {"description",
       "Completion notices: background tasks you launched earlier that have finished since your "
       "last call (each is told once). Read their results with background_output(task_id)."}};
  props["reminder"] =
      Prop("string", "The completion notices as one message to read, when there are any");
  props["guidance"] = Prop("string",
                           "What to do next: e.g. that you will be notified when a task finishes "
                           "(no need to poll), how to read a result or continue a session, how to "
                           "wait again");
}

// What the answers of the waiting tools carry when a wait stopped at its time limit; the tools
// whose output has no `timed_out` of its own get `declare_timed_out`.
void AddWaitFields(json* output, bool declare_timed_out) {
  json& props = (*output)["properties"];
  if (declare_timed_out) {
    props["timed_out"] = Prop("boolean",
                              "true: the wait stopped at its time limit while the task still "
                              "runs; wait_again says how to wait more");
  }
  props["wait_again"] = {
      {"type", "object"},
      {"properties",
       {{"tool", Prop("string", "The tool to call")},
        {"arguments", Prop("object", "Its arguments")}}},
      {"required", {"tool", "arguments"}},
      {"description",
       "Present when the wait stopped at its time limit: the call that goes on waiting"}};
}

json CancelSchema() {
  json out = {{"type", "object"},
              {"properties",
               {{"cancelled", {{"type", "array"}, {"items", TaskSchema()}}},
                {"already_finished", {{"type", "array"}, {"items", TaskSchema()}}}}},
              {"required", {"cancelled", "already_finished"}}};
  AddAnswerFields(&out);
  return out;
}

json ListSchema() {
  json out = TaskListSchema(json::object(), {"tasks"});
  AddAnswerFields(&out);
  return out;
}

json Annotations(const char* title, bool read_only, bool destructive, bool idempotent,
                 bool open_world) {
  return {{"title", title},
          {"readOnlyHint", read_only},
          {"destructiveHint", destructive},
          {"idempotentHint", idempotent},
          {"openWorldHint", open_world}};
}

json ToolDefinition(const char* name, const char* title, std::string description, json input,
                    json output, json annotations) {
  return {{"name", name},
          {"title", title},
          {"description", std::move(description)},
          {"inputSchema", std::move(input)},
          {"outputSchema", std::move(output)},
          {"annotations", std::move(annotations)}};
}

}  // namespace

json McpToolDefinitions(const EngineMcpToolsOptions& o, const AgentCatalog* agents) {
  const DelegationServiceOptions service = McpDelegationOptions(o, agents);
  json tools = json::array();
  const std::string limit = Seconds(o.max_wait_ms);

  std::string delegate_description =
      "Start a task on a troupe agent. It runs in its own session, in the background, while you "
      "keep working. Delegate work a specialist does better, and work that can run in parallel: "
      "launch every independent part at once (one call each) so they run at the same time. The "
      "agent does not see your conversation, so the prompt must stand alone: the goal, the "
      "context and paths you already know, the constraints, and exactly what to report back.\n"
      "Returns at once with the task id and session id. When a task finishes, a notice is "
      "attached to your next call of any of these tools (`notices` in the result), so do not "
      "poll background_output; keep working, or call background_wait when you have nothing else "
      "to do, then read the result with background_output.\n"
      "To follow up on a task (after it finished, failed or was cancelled), call delegate_task "
      "with its session_id and a new prompt: the agent keeps its whole conversation.\n"
      "Set background=false only when you cannot do anything else until the answer is there; "
      "the call then waits (up to " +
      limit +
      ") and returns the result itself, or, if the task runs longer, its status and how to wait "
      "for it.";
  if (agents != nullptr && !agents->List().empty()) {
    delegate_description += "\n\nAgents:";
    for (const AgentDefinition& a : agents->List()) {
      delegate_description += "\n- " + a.name + ": " + a.description;
    }
  }
  json delegate =
      ToolDefinition("delegate_task", "Delegate a task", std::move(delegate_description),
                     DelegationInputSchema("delegate_task", service), TaskSchema(),
                     // Not read-only and destructive: the agents it starts may edit and delete
                     // files and run commands (general). Not idempotent: each call starts a task.
                     // Open world: they call an LLM provider, and may fetch from the web.
                     Annotations("Delegate a task", false, true, false, true));
  AddAnswerFields(&delegate["outputSchema"]);
  AddWaitFields(&delegate["outputSchema"], true);
  delegate["execution"] = {{"taskSupport", "optional"}};
  tools.push_back(std::move(delegate));

  json output_schema = TaskSchema();
  output_schema["properties"]["transcript"] =
      Prop("string", "With full_session=true: the task's whole conversation");
  AddAnswerFields(&output_schema);
  AddWaitFields(&output_schema, true);
  tools.push_back(ToolDefinition(
      "background_output", "Show a task",
      "Show a task: while it is pending or running, a status table (state, time, last tool, "
      "original prompt); once completed, its result; if it failed or was cancelled, the reason. "
      "A result reads the same every time you ask.\n"
      "Finished tasks are reported to you automatically, so do not call this in a loop to watch "
      "a task. To wait for it, pass block=true (waits up to timeout_ms) or use background_wait. "
      "full_session=true adds the task's whole conversation, to check how it reached its answer.",
      DelegationInputSchema("background_output", service), std::move(output_schema),
      // Read-only: it reads task state. Closed world: troupe's own tasks.
      Annotations("Show a task", true, false, true, false)));

  json wait_output =
      TaskListSchema({{"timed_out", Prop("boolean", "The wait ended because timeout_ms passed")}},
                     {"tasks", "timed_out"});
  AddAnswerFields(&wait_output);
  AddWaitFields(&wait_output, false);
  tools.push_back(ToolDefinition(
      "background_wait", "Wait for tasks",
      "Block until tasks finish: all of them (mode \"all\", the default) or the first one (mode "
      "\"any\"), or until timeout_ms passes (at most " +
          limit +
          "; then the answer says how to wait again). Without task_ids it waits for every task "
          "you launched that is still pending or running. Returns which tasks finished and which "
          "still run; read the results with background_output.\n"
          "Use it only when you have nothing useful to do until results arrive.",
      DelegationInputSchema("background_wait", service), std::move(wait_output),
      // Read-only: it waits and reads task state.
      Annotations("Wait for tasks", true, false, true, false)));

  tools.push_back(ToolDefinition(
      "background_cancel", "Cancel tasks",
      "Cancel a task you launched that is no longer needed (task_id), or every task you launched "
      "that is still pending or running (all=true). What a cancelled task delegated is cancelled "
      "with it. Returns the cancelled tasks and the sessions you can continue later with "
      "delegate_task(session_id=…, prompt=…).",
      DelegationInputSchema("background_cancel", service), CancelSchema(),
      // Destructive: it stops work in progress. Idempotent: cancelling again changes nothing.
      Annotations("Cancel tasks", false, true, true, false)));

  tools.push_back(ToolDefinition(
      "background_list", "List your tasks",
      "List the tasks you launched (through this connection), oldest first: id, description, "
      "agent, status, duration, last tool and session.",
      DelegationInputSchema("background_list", service), ListSchema(),
      Annotations("List your tasks", true, false, true, false)));
  return tools;
}

}  // namespace troupe
