// libFuzzer target for the HTTP API's request validation: every parser of rest/request_parsing.h
// on the whole input (as a body, a query string, a Content-Type, a prompt), then the REST API
// (rest/rest_api.h, with its event stream and metrics) over FakeExchanges on a scripted in-memory
// engine (engine/testing/scripted_engine.h). For the REST API the input is blocks separated by a
// line "---"; a block is
//   METHOD TARGET        e.g. "POST /v1/tasks" or "GET /v1/tasks?status=active&limit=2"
//   name: value          headers, up to a blank line (optional)
//   body                 everything after the blank line
// or "@<ms>", which advances the fake clock by up to an hour. Seeds: src/rest/fuzz_corpus/http_api.
// Beyond "no crash, no sanitizer report" it checks that:
//  - a refused request's error has a status, a code and a one-line message, names its field
//    (the message starting with "<field>:", or the field quoted) when it has one, quotes at most
//    a short piece of the input, and serializes to the documented error JSON;
//  - what the parsers accept respects their ranges (wait_ms, timeout_ms, limit, task ids, prompt);
//  - the REST API answers every request (at once, when its long poll ends, or at Shutdown), never
//    with 500 (Handle answers 500 to an exception), with a JSON body or the documented error.
// TROUPE_FUZZ_VERBOSE=1 prints each request's answer.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/text_case.h"
#include "engine/testing/scripted_engine.h"
#include "http/testing/fake_exchange.h"
#include "rest/event_stream.h"
#include "rest/metrics.h"
#include "rest/request_parsing.h"
#include "rest/rest_api.h"

namespace {

using nlohmann::json;
using troupe::ApiError;

const bool kVerbose = std::getenv("TROUPE_FUZZ_VERBOSE") != nullptr;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

size_t CodePoints(std::string_view s) {
  return std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; });
}

// The body of an error response: {"error":{"status","code","message",...}} matching `status`.
void CheckErrorBody(const std::string& body, int status) {
  const json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  Check(parsed.is_object() && parsed.contains("error"));
  const json& e = parsed["error"];
  Check(e.value("status", 0) == status);
  Check(!e.value("code", "").empty() && !e.value("message", "").empty());
}

// An error of the request parsers.
void CheckParserError(const ApiError& e) {
  Check(e.status == 400 || e.status == 415);
  Check(!e.code.empty() && !e.message.empty());
  Check(e.message.find_first_of("\r\n") == std::string::npos);
  // Short quotes: 40 bytes of input escaped (at most 6 bytes each) and quoted, never it all.
  Check(e.got.size() <= 260 && e.field.size() <= 64 && e.message.size() <= 1024);
  // Named by its field: as sent, or quoted when the name holds control characters.
  if (!e.field.empty()) Check(StartsWith(e.message, e.field + ":") || e.message[0] == '"');
  CheckErrorBody(troupe::ApiErrorResponse(e).body, e.status);
}

template <typename T>
bool Accepted(const troupe::Parsed<T>& parsed) {
  if (!parsed.ok()) CheckParserError(parsed.error());
  return parsed.ok();
}

// "k=v&k2=v2" as the server's decoded query map.
troupe::QueryMap QueryOf(std::string_view text) {
  troupe::QueryMap query;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t amp = std::min(text.find('&', start), text.size());
    const std::string_view pair = text.substr(start, amp - start);
    if (!pair.empty()) {
      const size_t eq = pair.find('=');
      query[std::string(pair.substr(0, eq))] =
          eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1));
    }
    start = amp + 1;
  }
  return query;
}

void FuzzParsers(std::string_view input) {
  constexpr int64_t kMaxWait = 5000;
  troupe::LaunchDefaults defaults;
  defaults.max_wait_ms = kMaxWait;
  if (auto launch = troupe::ParseLaunchBody(input, defaults); Accepted(launch)) {
    const troupe::LaunchRequest& r = launch->request;
    Check(r.prompt.find_first_not_of(" \t\r\n\f\v") != std::string::npos);
    Check(!r.owner.empty());
    Check(!r.agent.empty() || !r.session_id.empty());
    Check(r.workspace.empty() || r.session_id.empty());
    if (launch->wait_ms) Check(*launch->wait_ms >= 0 && *launch->wait_ms <= kMaxWait);
  }
  if (auto wait = troupe::ParseWaitBody(input, kMaxWait); Accepted(wait)) {
    Check(!wait->task_ids.empty());
    for (const std::string& id : wait->task_ids) Check(!id.empty());
    Check(wait->timeout_ms >= 0 && wait->timeout_ms <= kMaxWait);
  }
  (void)Accepted(troupe::ParseCancelBody(input));
  (void)Accepted(troupe::ParseCancelAllBody(input));
  (void)Accepted(troupe::ParseEmptyBody(input));
  for (bool required : {false, true}) {
    if (auto object = troupe::ParseJsonObject(input, required); Accepted(object)) {
      Check(object.value().is_object());
    }
  }

  const troupe::QueryMap query = QueryOf(input);
  if (auto filter = troupe::ParseTaskQuery(query); Accepted(filter)) {
    Check(filter->limit >= 0 && filter->limit <= troupe::kMaxListLimit);
  }
  if (auto wait_ms = troupe::ParseWaitMs(query, kMaxWait); Accepted(wait_ms)) {
    if (wait_ms.value()) Check(*wait_ms.value() >= 0 && *wait_ms.value() <= kMaxWait);
  }
  if (auto after = troupe::ParseMessagesQuery(query); Accepted(after)) Check(after.value() >= 0);

  if (auto e = troupe::CheckJsonContentType(input)) CheckParserError(*e);
  const std::string description = troupe::DefaultDescription(input);
  Check(CodePoints(description) <= 60);
  Check(description.find('\n') == std::string::npos);
  const std::string quoted = troupe::QuoteForError(input);
  Check(quoted.size() <= 260 && !quoted.empty() && quoted[0] == '"');
}

// One block of the REST API part, as a request.
std::shared_ptr<troupe::testing::FakeExchange> ExchangeOf(std::string_view block) {
  const size_t eol = std::min(block.find('\n'), block.size());
  const std::string_view first = block.substr(0, eol);
  const size_t space = first.find(' ');
  if (space == std::string_view::npos) return nullptr;
  std::string_view rest = eol < block.size() ? block.substr(eol + 1) : std::string_view();
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;
  while (!rest.empty()) {
    const size_t end = std::min(rest.find('\n'), rest.size());
    const std::string_view line = rest.substr(0, end);
    rest = end < rest.size() ? rest.substr(end + 1) : std::string_view();
    if (line.empty()) {
      body = rest;
      break;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name = troupe::AsciiLowercase(line.substr(0, colon));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value[0] == ' ') value.remove_prefix(1);
    headers.emplace_back(std::move(name), std::string(value));
  }
  auto ex = troupe::testing::FakeExchange::Make(
      std::string(first.substr(0, space)), std::string(first.substr(space + 1)), std::string(body));
  for (auto& [name, value] : headers) ex->mutable_request().headers[name] = std::move(value);
  return ex;
}

void CheckAnswer(const troupe::testing::FakeExchange& ex) {
  if (kVerbose) {
    std::printf("%s %s -> %d %s%s\n", ex.request().method.c_str(), ex.request().target.c_str(),
                ex.status(), ex.response() ? ex.response()->body.c_str() : "",
                ex.streamed().c_str());
  }
  Check(ex.answered() || ex.closed());
  if (ex.streaming() || !ex.response()) return;
  const troupe::ApiResponse& r = *ex.response();
  Check(r.status >= 200 && r.status <= 599 && r.status != 500);
  if (r.status >= 400) return CheckErrorBody(r.body, r.status);
  if (r.content_type == "application/json") {
    Check(json::accept(r.body));
  }
}

void FuzzRestApi(std::string_view input) {
  troupe::testing::ScriptedEngine engine;
  troupe::EventStream events(&engine.clock(), engine.store(), &engine.manager()->events());
  troupe::Metrics metrics(&engine.clock(), engine.manager(), engine.store());
  troupe::RestApiDeps deps;
  deps.clock = &engine.clock();
  deps.manager = engine.manager();
  deps.store = engine.store();
  deps.agents = engine.catalog();
  deps.events = &events;
  deps.metrics = &metrics;
  deps.info.version = "0.1.0";
  deps.request_shutdown = [] {};
  deps.max_wait_ms = 60'000;
  std::vector<std::shared_ptr<troupe::testing::FakeExchange>> exchanges;
  {
    troupe::RestApi api(std::move(deps));
    size_t pos = 0;
    while (pos < input.size()) {
      size_t end = input.find("\n---\n", pos);
      if (end == std::string_view::npos) end = input.size();
      const std::string_view block = input.substr(pos, end - pos);
      pos = end + 5;
      if (!block.empty() && block[0] == '@') {
        engine.AdvanceClock(block.substr(1));
        continue;
      }
      if (auto ex = ExchangeOf(block)) {
        api.Handle(ex);
        exchanges.push_back(std::move(ex));
      }
    }
    // Long polls end by the largest wait_ms; tasks by then too.
    engine.clock().AdvanceMs(61'000);
    api.Shutdown();
    for (const auto& ex : exchanges) CheckAnswer(*ex);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  FuzzParsers(input);
  FuzzRestApi(input);
  return 0;
}
