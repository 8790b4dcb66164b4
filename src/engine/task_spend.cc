// The TaskManager's spend: charging each model request to its task, tree and UTC day, and the
// budgets checked at launch, before each request (on an estimate) and after it (on the usage the
// provider reported). docs/DESIGN.md "Spend and budgets".
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "engine/model_name.h"
#include "engine/task_manager.h"
#include "engine/task_manager_internal.h"

namespace troupe {

namespace {

nlohmann::json LimitsObject(const std::string& text) {
  if (text.empty()) return nlohmann::json::object();
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_object() ? j : nlohmann::json::object();
}

std::optional<int64_t> PositiveInt(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer() || it->get<int64_t>() <= 0) return std::nullopt;
  return it->get<int64_t>();
}

std::optional<int64_t> Nano(std::optional<double> usd) {
  if (!usd) return std::nullopt;
  return UsdToNano(*usd);
}

// "" unless `model` has no price and a cost budget of the task, its tree or the day applies to
// it (and budgets.allow_unpriced_models is false): then the verdict naming the first of them.
std::string UnpricedModelVerdict(const BudgetConfig& budgets, const PriceTable& prices,
                                 const std::string& model, const TaskBudget& task,
                                 const TreeBudget& tree) {
  if (budgets.allow_unpriced_models || prices.Find(model) != nullptr) return "";
  if (task.max_cost_nano_usd) {
    return UnpricedVerdict("task max_cost_usd", task.max_cost_nano_usd, model);
  }
  if (tree.max_cost_nano_usd) {
    return UnpricedVerdict("tree_max_cost_usd", tree.max_cost_nano_usd, model);
  }
  return UnpricedVerdict("daily_max_cost_usd", Nano(budgets.daily_max_cost_usd), model);
}

}  // namespace

std::string TaskManager::RootSessionOf(const SessionRecord& session) {
  if (session.parent_session_id.empty()) return session.id;
  if (auto busy = busy_sessions_.find(session.id); busy != busy_sessions_.end()) {
    if (auto a = active_.find(busy->second); a != active_.end()) {
      return a->second->rec.root_session_id;
    }
  }
  TaskFilter filter;
  filter.session_id = session.id;
  filter.limit = 1;
  if (auto tasks = store_->ListTasks(filter); tasks.ok() && !tasks->empty()) {
    if (!tasks->front().root_session_id.empty()) return tasks->front().root_session_id;
  }
  return session.id;  // a session with no task (cannot happen but for a damaged store)
}

TaskManager::Tree& TaskManager::TreeOf(const std::string& root) {
  auto it = trees_.find(root);
  if (it != trees_.end()) return *it->second;
  auto tree = std::make_unique<Tree>();
  tree->budget.max_tasks = options_.budgets.tree_max_tasks;
  tree->budget.max_cost_nano_usd = Nano(options_.budgets.tree_max_cost_usd);
  TaskFilter filter;
  filter.root_session_id = root;
  if (auto tasks = store_->ListTasks(filter); tasks.ok()) {
    for (const TaskRecord& t : *tasks) {
      if (tree->tasks == 0) {  // the tree's limits were written on its first task
        const nlohmann::json limits = LimitsObject(t.limits_json);
        if (auto n = PositiveInt(limits, "treeMaxTasks")) tree->budget.max_tasks = int(*n);
        if (limits.contains("treeMaxTasks") && limits["treeMaxTasks"] == 0) {
          tree->budget.max_tasks = 0;
        }
        if (auto n = PositiveInt(limits, "treeMaxCostNanoUsd")) tree->budget.max_cost_nano_usd = n;
      }
      ++tree->tasks;
      if (t.depth > 0) ++tree->delegated;
      tree->usage += UsageOf(t);
    }
  }
  tree->verdict = TreeCostVerdict(tree->budget, root, tree->usage.cost_nano_usd, tree->tasks);
  return *trees_.emplace(root, std::move(tree)).first->second;
}

int64_t TaskManager::SpentTodayNano() {
  const int64_t start = UtcDayStartMs(clock_->WallMs());
  if (start != day_start_ms_) {
    UsageFilter today;
    today.since_ms = start;
    today.until_ms = start + kDayMs;
    Result<UsageTotals> sum = store_->SumUsage(today);
    day_start_ms_ = start;
    day_spent_nano_usd_ = sum.ok() ? sum->cost_nano_usd : 0;
  }
  return day_spent_nano_usd_;
}

Status TaskManager::PlanSpend(const LaunchRequest& request, const SessionRecord& session,
                              const std::optional<SessionRecord>& parent, TaskRecord* t) {
  const int64_t now = clock_->WallMs();
  if (std::string verdict =
          DailyVerdict(Nano(options_.budgets.daily_max_cost_usd), SpentTodayNano(), UtcDay(now));
      !verdict.empty()) {
    return Status::ResourceExhausted(verdict).WithField("budget");
  }
  t->root_session_id = parent ? RootSessionOf(*parent) : RootSessionOf(session);
  const bool new_tree =
      t->root_session_id == session.id && !trees_.count(session.id) && request.session_id.empty();
  Tree& tree = TreeOf(t->root_session_id);
  nlohmann::json limits = LimitsObject(t->limits_json);
  if (new_tree && tree.tasks == 0) {
    if (request.tree_max_tasks) {
      tree.budget.max_tasks = *request.tree_max_tasks;
      if (options_.budgets.tree_max_tasks > 0 &&
          (tree.budget.max_tasks == 0 || tree.budget.max_tasks > options_.budgets.tree_max_tasks)) {
        tree.budget.max_tasks = options_.budgets.tree_max_tasks;
      }
    }
    if (request.tree_max_cost_usd) {
      const int64_t asked = UsdToNano(*request.tree_max_cost_usd);
      tree.budget.max_cost_nano_usd =
          tree.budget.max_cost_nano_usd ? std::min(*tree.budget.max_cost_nano_usd, asked) : asked;
    }
    limits["treeMaxTasks"] = tree.budget.max_tasks;
    if (tree.budget.max_cost_nano_usd)
      limits["treeMaxCostNanoUsd"] = *tree.budget.max_cost_nano_usd;
  }
  if (!tree.verdict.empty()) {
    return Status::ResourceExhausted(tree.verdict + "; no more tasks can be started in it")
        .WithField("budget");
  }
  if (t->depth > 0) {
    if (std::string verdict = SpawnCapVerdict(tree.budget, t->root_session_id, tree.delegated);
        !verdict.empty()) {
      return Status::ResourceExhausted(verdict).WithField("budget");
    }
  }

  // The task's own limits: the narrowest of the config's, the launch's (its agent's were folded
  // in by prepare_launch) and its parent's.
  TaskBudget budget{options_.budgets.task_max_tokens, Nano(options_.budgets.task_max_cost_usd)};
  budget = Narrowest(budget, TaskBudget{request.max_tokens, Nano(request.max_cost_usd)});
  if (!t->parent_session_id.empty()) {
    if (auto busy = busy_sessions_.find(t->parent_session_id); busy != busy_sessions_.end()) {
      if (auto p = active_.find(busy->second); p != active_.end()) {
        budget = Narrowest(budget, p->second->budget);
      }
    }
  }
  // Every model of the launch's list: a fallback to an unpriced one would end the task later.
  std::vector<std::string> models = {t->model};
  models.insert(models.end(), request.fallback_models.begin(), request.fallback_models.end());
  for (const std::string& model : models) {
    if (std::string verdict =
            UnpricedModelVerdict(options_.budgets, options_.prices,
                                 scheduler_.policy().Canonical(model), budget, tree.budget);
        !verdict.empty()) {
      return Status::InvalidArgument(verdict).WithField("model");
    }
  }
  if (budget.max_tokens) limits["maxTokens"] = *budget.max_tokens;
  if (budget.max_cost_nano_usd) limits["maxCostNanoUsd"] = *budget.max_cost_nano_usd;
  t->limits_json = limits.empty() ? std::string() : limits.dump();
  return Status::Ok();
}

void TaskManager::CountLaunch(const TaskRecord& t) {
  Tree& tree = TreeOf(t.root_session_id);
  ++tree.tasks;
  if (t.depth > 0) ++tree.delegated;
}

bool TaskManager::ChargeRequest(Active* a, const ProgressUpdate& u) {
  TaskRecord& t = a->rec;
  UsageTotals request;
  request.requests = u.requests;
  request.input_tokens = u.input_tokens;
  request.output_tokens = u.output_tokens;
  request.cache_write_tokens = u.cache_write_tokens;
  request.cache_read_tokens = u.cache_read_tokens;
  request.reasoning_tokens = u.reasoning_tokens;
  const std::string model = scheduler_.policy().Canonical(t.model);
  request = options_.prices.Charge(model, request);
  AddUsage(&t, request);
  t.updated_at_ms = clock_->WallMs();

  auto row = std::make_shared<ModelRequestRecord>();
  row->task_id = t.id;
  row->session_id = t.session_id;
  row->root_session_id = t.root_session_id;
  row->agent = t.agent;
  row->model = model;
  row->usage = request;
  row->created_at_ms = t.updated_at_ms;
  // Failed writes are kept and retried (engine/store_writes.cc); the run goes on meanwhile.
  (void)Write([row](Store* st) { return st->AppendModelRequest(row.get()); });
  auto task = std::make_shared<const TaskRecord>(t);
  (void)Write([task](Store* st) { return st->UpdateTask(*task); }, task);

  (void)SpentTodayNano();  // rolls the day over first
  day_spent_nano_usd_ += request.cost_nano_usd;
  Tree& tree = TreeOf(t.root_session_id);
  tree.usage += request;

  EngineEvent event;
  event.kind = EngineEvent::Kind::kProgress;
  event.from = TaskState::kRunning;
  event.request = &request;
  Announce(event, t, &u, false);

  if (std::string verdict = TaskBudgetVerdict(a->budget, UsageOf(t)); !verdict.empty()) {
    if (a->run) a->run->Cancel();
    a->run.reset();
    Transition(a, TaskState::kError, verdict, "");
    return true;
  }
  if (tree.verdict.empty()) {
    tree.verdict =
        TreeCostVerdict(tree.budget, t.root_session_id, tree.usage.cost_nano_usd, tree.tasks);
    if (!tree.verdict.empty()) {
      const std::string root = t.root_session_id;
      const std::string verdict = tree.verdict;
      const std::string id = t.id;
      if (a->run) a->run->Cancel();
      a->run.reset();
      Transition(a, TaskState::kError, verdict, "");
      CancelTree(root, verdict, id);
      return true;
    }
  }
  return false;
}

Result<int> TaskManager::AdmitRequest(const std::string& task_id, int attempt,
                                      int64_t estimated_prompt_tokens, int max_output_tokens) {
  auto it = active_.find(task_id);
  if (it == active_.end() || it->second->rec.attempt != attempt) return max_output_tokens;
  const Active& a = *it->second;
  const int64_t now = clock_->WallMs();
  if (std::string verdict =
          DailyVerdict(Nano(options_.budgets.daily_max_cost_usd), SpentTodayNano(), UtcDay(now));
      !verdict.empty()) {
    return Status::ResourceExhausted(verdict);
  }
  const Tree& tree = TreeOf(a.rec.root_session_id);
  if (!tree.verdict.empty()) return Status::ResourceExhausted(tree.verdict);
  // The model may have changed since the launch (a fallback) to one without a price.
  const std::string model = scheduler_.policy().Canonical(a.rec.model);
  if (std::string verdict =
          UnpricedModelVerdict(options_.budgets, options_.prices, model, a.budget, tree.budget);
      !verdict.empty()) {
    return Status::InvalidArgument(verdict);
  }
  RequestAllowance allowance =
      NextRequestAllowance(a.budget, UsageOf(a.rec), estimated_prompt_tokens, max_output_tokens,
                           options_.prices.Find(model));
  if (!allowance.verdict.empty()) return Status::ResourceExhausted(allowance.verdict);
  return allowance.max_output_tokens;
}

void TaskManager::CancelTree(const std::string& root, const std::string& reason,
                             const std::string& except_task_id) {
  // Deepest first, so that each task is cancelled with the tree's verdict rather than with a
  // "parent task was cancelled" of the cascade.
  std::vector<std::pair<int, std::string>> tasks;
  for (const auto& [id, a] : active_) {
    if (a->rec.root_session_id == root && id != except_task_id) {
      tasks.emplace_back(-a->rec.depth, id);
    }
  }
  std::sort(tasks.begin(), tasks.end());
  for (const auto& [depth, id] : tasks) {
    if (active_.count(id)) (void)Cancel(id, reason);
  }
}

void TaskManager::TreeTaskEnded(const std::string& root) {
  auto it = trees_.find(root);
  if (it == trees_.end()) return;
  Tree& tree = *it->second;
  if (tree.active > 0) --tree.active;
  std::erase_if(tree.held, [this](const std::string& id) {  // held tasks that ended meanwhile
    auto found = active_.find(id);
    return found == active_.end() || !found->second->held;
  });
  // Kept while writes wait for a failed store: the store would not give the tree back whole.
  if (tree.active == 0 && tree.held.empty() && unsaved_.empty() && !batch_failed_) {
    trees_.erase(it);
  }
}

TreeSpendView TaskManager::ViewOfTree(const std::string& root, Tree& tree) const {
  TreeSpendView view;
  view.root_session_id = root;
  view.usage = tree.usage;
  view.tasks = tree.tasks;
  view.delegated = tree.delegated;
  view.budget = tree.budget;
  view.verdict = tree.verdict;
  for (const auto& [id, a] : active_) {
    if (a->rec.root_session_id != root) continue;
    if (a->rec.state == TaskState::kRunning) ++view.running;
    if (a->rec.state != TaskState::kPending) continue;
    TaskView task = ViewOf(*a);
    view.waiting.push_back({id, a->rec.agent, a->rec.model, a->held, task.waiting_reason});
  }
  // Launch order: task ids sort by creation time.
  std::sort(view.waiting.begin(), view.waiting.end(),
            [](const auto& x, const auto& y) { return x.task_id < y.task_id; });
  return view;
}

Result<TreeSpendView> TaskManager::TreeSpend(const std::string& root_session_id) {
  if (root_session_id.empty()) return Status::NotFound("no tree: the root session id is empty");
  Tree& tree = TreeOf(root_session_id);
  if (tree.tasks == 0) {
    trees_.erase(root_session_id);
    return Status::NotFound(fmt::format("no task has session {} as its root", root_session_id));
  }
  TreeSpendView view = ViewOfTree(root_session_id, tree);
  if (tree.active == 0 && tree.held.empty()) trees_.erase(root_session_id);  // read, not at work
  return view;
}

Result<SpendOverview> TaskManager::Spend() {
  SpendOverview overview;
  const int64_t now = clock_->WallMs();
  overview.day = UtcDay(now);
  UsageFilter today;
  today.since_ms = UtcDayStartMs(now);
  today.until_ms = today.since_ms + kDayMs;
  TROUPE_ASSIGN_OR_RETURN(overview.today, store_->SumUsage(today));
  overview.budgets = options_.budgets;
  overview.daily_verdict =
      DailyVerdict(Nano(options_.budgets.daily_max_cost_usd), SpentTodayNano(), overview.day);
  std::vector<std::string> roots;
  for (const auto& [id, a] : active_) roots.push_back(a->rec.root_session_id);
  std::sort(roots.begin(), roots.end());
  roots.erase(std::unique(roots.begin(), roots.end()), roots.end());
  for (const std::string& root : roots) {
    overview.active_trees.push_back(ViewOfTree(root, TreeOf(root)));
  }
  return overview;
}

Result<std::vector<ModelRequestRecord>> TaskManager::ModelRequests(const std::string& task_id) {
  return store_->ListModelRequests(task_id);
}

}  // namespace troupe
