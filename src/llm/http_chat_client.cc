#include "llm/http_chat_client.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>
#include <variant>

#include "core/text_case.h"
#include "llm/anthropic_codec.h"
#include "llm/openai_codec.h"
#include "llm/openai_responses_codec.h"
#include "llm/rate_limit_headers.h"
#include "wire/sse_parser.h"

namespace troupe {
namespace {

const char* ProviderLabel(WireFormat format) {
  return format == WireFormat::kAnthropic ? "anthropic" : "openai";
}

TransportError TransportErrorOf(HttpErrorKind kind) {
  switch (kind) {
    case HttpErrorKind::kConnect:
      return TransportError::kConnect;
    case HttpErrorKind::kTimeout:
    case HttpErrorKind::kIdleTimeout:
      return TransportError::kTimeout;
    case HttpErrorKind::kReset:
    case HttpErrorKind::kProtocol:
      return TransportError::kReset;
    case HttpErrorKind::kNone:
    case HttpErrorKind::kCancelled:
    case HttpErrorKind::kOther:
      return TransportError::kNone;
  }
  return TransportError::kNone;
}

// A decoder error is worth another attempt when it says the stream broke or the server reported
// a transient failure in it (kUnavailable), not when the reply itself is malformed.
TransportError TransportErrorOf(const Status& decoder_error) {
  return decoder_error.code() == StatusCode::kUnavailable ? TransportError::kReset
                                                          : TransportError::kNone;
}

// Either wire format's stream decoder behind one face.
class StreamDecoder {
 public:
  explicit StreamDecoder(WireFormat format) {
    if (format == WireFormat::kAnthropic) {
      decoder_.emplace<AnthropicStreamDecoder>();
    } else if (format == WireFormat::kOpenAiResponses) {
      decoder_.emplace<OpenAiResponsesStreamDecoder>();
    } else {
      decoder_.emplace<OpenAiStreamDecoder>();
    }
  }
  Status OnEvent(const SseEvent& e, std::vector<StreamDelta>* d) {
    return std::visit([&](auto& dec) { return dec.OnEvent(e, d); }, decoder_);
  }
  Result<ChatResult> Finish() const {
    return std::visit([](const auto& dec) { return dec.Finish(); }, decoder_);
  }

 private:
  std::variant<OpenAiStreamDecoder, AnthropicStreamDecoder, OpenAiResponsesStreamDecoder> decoder_;
};

// One HTTP request of a chat: feeds the body to the decoder and reports how it ended.
class HttpChatAttempt : public std::enable_shared_from_this<HttpChatAttempt> {
 public:
  HttpChatAttempt(Clock* clock, const HttpChatOptions& options, RateLimitObserver* observer,
                  bool stream, AttemptCallbacks callbacks)
      : clock_(clock),
        format_(options.format),
        provider_(options.provider),
        max_body_bytes_(options.max_body_bytes),
        observer_(observer),
        stream_(stream),
        decoder_(options.format),
        callbacks_(std::move(callbacks)) {}

  void Start(HttpClient* http, HttpRequest request) {
    std::weak_ptr<HttpChatAttempt> weak = weak_from_this();
    HttpCallbacks cb;
    cb.on_head = [weak](const HttpResponseHead& head) {
      if (auto self = weak.lock()) self->OnHead(head);
    };
    cb.on_data = [weak](std::string_view chunk) {
      if (auto self = weak.lock()) self->OnData(chunk);
    };
    cb.on_done = [weak](Status status, HttpErrorKind kind) {
      if (auto self = weak.lock()) self->OnDone(std::move(status), kind);
    };
    call_ = http->Start(std::move(request), std::move(cb));
  }

  void Cancel() {
    finished_ = true;
    if (call_) call_->Cancel();
  }

 private:
  bool streaming_reply() const { return stream_ && http_status_ / 100 == 2; }

  void OnHead(const HttpResponseHead& head) {
    if (finished_) return;
    http_status_ = head.status;
    headers_ = head.headers;
    if (observer_) {
      RateLimitInfo info = ParseRateLimitHeaders(headers_, clock_->WallMs());
      if (!info.empty()) observer_->OnRateLimitInfo(provider_, info);
    }
  }

  void OnData(std::string_view chunk) {
    if (finished_) return;
    bytes_ += int64_t(chunk.size());
    if (callbacks_.on_bytes) {
      auto keep = shared_from_this();
      callbacks_.on_bytes(int64_t(chunk.size()));
      if (finished_) return;
    }
    if (!streaming_reply()) {
      // An error body or a non-streamed reply: keep it whole (an error body only up to 64 KiB,
      // enough for any provider's message).
      const size_t cap = http_status_ / 100 == 2 ? max_body_bytes_ : size_t{64} << 10;
      if (body_.size() + chunk.size() > cap) {
        if (http_status_ / 100 == 2) return FailNow(ReplyTooLarge(), TransportError::kNone);
        body_.append(chunk.substr(0, cap - std::min(cap, body_.size())));
        return;
      }
      body_.append(chunk);
      return;
    }
    if (static_cast<uint64_t>(bytes_) > max_body_bytes_) {
      // A stream that never ends (or ends too late) costs memory all the way down to the store.
      return FailNow(ReplyTooLarge(), TransportError::kNone);
    }
    events_.clear();
    parser_.Feed(chunk, &events_);
    DeliverEvents();
    if (!finished_ && !parser_.status().ok()) {
      FailNow(parser_.status().WithContext(fmt::format("{} stream", provider_)),
              TransportError::kNone);
    }
  }

  Status ReplyTooLarge() const {
    return Status::ResourceExhausted(
        fmt::format("{}: the reply exceeds {} bytes (the provider's max_reply_bytes); the attempt "
                    "is abandoned",
                    provider_, max_body_bytes_));
  }

  void DeliverEvents() {
    auto keep = shared_from_this();
    for (const SseEvent& event : events_) {
      deltas_.clear();
      Status s = decoder_.OnEvent(event, &deltas_);
      for (const StreamDelta& d : deltas_) {
        streamed_deltas_ = true;
        if (callbacks_.on_delta) callbacks_.on_delta(d);
        if (finished_) return;
      }
      if (!s.ok()) return FailNow(s, TransportErrorOf(s));
    }
  }

  void OnDone(Status status, HttpErrorKind kind) {
    if (finished_) return;
    if (!status.ok()) {
      // Nothing or part of a reply arrived. The HttpClient's message names method and URL.
      std::string what = status.message();
      if (http_status_ != 0 && bytes_ > 0)
        what += fmt::format(" after {} bytes of the reply", bytes_);
      AttemptError error;
      error.transport = TransportErrorOf(kind);
      StatusCode code = StatusCode::kUnavailable;
      if (error.transport == TransportError::kTimeout) code = StatusCode::kDeadlineExceeded;
      if (error.transport == TransportError::kNone) code = StatusCode::kInvalidArgument;
      error.status = Status(code, fmt::format("{}: {}", provider_, what));
      // An error status whose body broke off is still that error status for the policy.
      if (http_status_ / 100 != 2 && http_status_ != 0) {
        error.http_status = http_status_;
        error.headers = headers_;
      }
      return Report(std::nullopt, std::move(error));
    }
    if (http_status_ / 100 != 2) {
      AttemptError error;
      error.status = format_ == WireFormat::kAnthropic ? DecodeAnthropicError(http_status_, body_)
                                                       : DecodeOpenAiError(http_status_, body_);
      if (provider_ != ProviderLabel(format_)) {
        error.status = error.status.WithContext(provider_);
      }
      error.http_status = http_status_;
      error.headers = headers_;
      return Report(std::nullopt, std::move(error));
    }
    Result<ChatResult> result = Status::Internal("unset");
    if (streaming_reply()) {
      events_.clear();
      parser_.Finish(&events_);
      DeliverEvents();
      if (finished_) return;
      result = decoder_.Finish();
    } else {
      result = format_ == WireFormat::kAnthropic         ? DecodeAnthropicResponse(body_)
               : format_ == WireFormat::kOpenAiResponses ? DecodeOpenAiResponsesResponse(body_)
                                                         : DecodeOpenAiResponse(body_);
    }
    if (!result.ok()) {
      AttemptError error;
      error.status = result.status();
      error.transport = TransportErrorOf(result.status());
      return Report(std::nullopt, std::move(error));
    }
    Report(std::move(result).value(), {});
  }

  // Ends the attempt from inside a body callback: the connection is closed at once.
  void FailNow(Status status, TransportError transport) {
    if (call_) call_->Cancel();
    AttemptError error;
    error.status = std::move(status);
    error.transport = transport;
    Report(std::nullopt, std::move(error));
  }

  void Report(std::optional<ChatResult> result, AttemptError error) {
    finished_ = true;
    AttemptOutcome outcome;
    outcome.result = std::move(result);
    outcome.error = std::move(error);
    outcome.streamed_deltas = streamed_deltas_;
    auto on_done = std::move(callbacks_.on_done);
    auto keep = shared_from_this();
    if (on_done) on_done(std::move(outcome));
  }

  Clock* clock_;
  WireFormat format_;
  std::string provider_;
  size_t max_body_bytes_;
  RateLimitObserver* observer_;
  bool stream_;
  SseParser parser_;
  StreamDecoder decoder_;
  AttemptCallbacks callbacks_;
  std::unique_ptr<HttpCall> call_;

  int http_status_ = 0;
  std::vector<HttpHeader> headers_;
  std::string body_;
  int64_t bytes_ = 0;
  bool streamed_deltas_ = false;
  bool finished_ = false;
  std::vector<SseEvent> events_;     // scratch
  std::vector<StreamDelta> deltas_;  // scratch
};

class HttpChatAttemptHandle : public ChatCall {
 public:
  explicit HttpChatAttemptHandle(std::shared_ptr<HttpChatAttempt> attempt)
      : attempt_(std::move(attempt)) {}
  ~HttpChatAttemptHandle() override { Cancel(); }
  void Cancel() override {
    if (attempt_) attempt_->Cancel();
  }

 private:
  std::shared_ptr<HttpChatAttempt> attempt_;
};

class HttpChatProvider : public Provider {
 public:
  HttpChatProvider(HttpClient* http, Clock* clock, RateLimitObserver* observer,
                   HttpChatOptions options)
      : http_(http), clock_(clock), observer_(observer), options_(std::move(options)) {}

  const std::string& name() const override { return options_.provider; }

  std::unique_ptr<ChatCall> Chat(ChatRequest request, ChatCallbacks callbacks) override {
    AttemptStarter start = [this, request = std::move(request)](AttemptCallbacks cb) {
      return StartHttpChatAttempt(http_, clock_, options_, observer_, request, std::move(cb),
                                  &text_cache_);
    };
    return StartWithRetries(clock_, options_.provider, observer_, options_.retry, std::move(start),
                            std::move(callbacks));
  }

 private:
  HttpClient* http_;
  Clock* clock_;
  RateLimitObserver* observer_;
  HttpChatOptions options_;
  RequestTextCache text_cache_;  // the loop thread's, as every call of a provider
};

}  // namespace

std::string ChatEndpointUrl(const HttpChatOptions& options) {
  std::string base = options.base_url;
  if (base.empty()) {
    base =
        options.format == WireFormat::kAnthropic ? kDefaultAnthropicBaseUrl : kDefaultOpenAiBaseUrl;
  }
  std::string query;  // "?…", kept for the end
  if (const size_t q = base.find_first_of("?#"); q != std::string::npos) {
    query = base.substr(q);
    base.resize(q);
  }
  if (const size_t fragment = query.find('#'); fragment != std::string::npos) {
    query.resize(fragment);  // a fragment is never sent
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  const char* path = "/chat/completions";
  if (options.format == WireFormat::kAnthropic) path = "/v1/messages";
  if (options.format == WireFormat::kOpenAiResponses) path = "/responses";
  return base + path + query;
}

std::string DefaultApiKeyHeader(WireFormat format, std::string_view base_url) {
  if (format == WireFormat::kAnthropic) return "x-api-key";
  std::string_view host = base_url.substr(std::min(base_url.size(), base_url.find("://") + 3));
  host = host.substr(0, host.find_first_of("/?#:"));
  const std::string lower = AsciiLowercase(host);
  for (std::string_view suffix : {".openai.azure.com", ".cognitiveservices.azure.com"}) {
    if (lower.ends_with(suffix)) return "api-key";
  }
  return "Authorization";
}

HttpRequest BuildChatHttpRequest(const HttpChatOptions& options, const ChatRequest& request,
                                 RequestTextCache* cache) {
  HttpRequest http;
  http.method = "POST";
  http.url = ChatEndpointUrl(options);
  http.connect_timeout_ms = options.connect_timeout_ms;
  http.idle_timeout_ms = options.idle_timeout_ms;
  http.total_timeout_ms = options.total_timeout_ms;
  http.headers.push_back({"Content-Type", "application/json"});
  http.headers.push_back({"Accept", request.stream ? "text/event-stream" : "application/json"});
  // Invalid UTF-8 from a tool's output must not make the whole request unsendable: the
  // encoders replace it.
  if (!options.api_key.empty()) {
    std::string header = options.api_key_header;
    if (header.empty()) header = DefaultApiKeyHeader(options.format, options.base_url);
    const bool bearer = AsciiLowercase(header) == "authorization";
    http.headers.push_back({header, bearer ? "Bearer " + options.api_key : options.api_key});
  }
  if (options.format == WireFormat::kAnthropic) {
    http.headers.push_back({"anthropic-version", kAnthropicVersion});
    http.body = EncodeAnthropicRequestText(request, cache);
  } else if (options.format == WireFormat::kOpenAiResponses) {
    http.body = EncodeOpenAiResponsesRequestText(request, cache);
  } else {
    http.body = EncodeOpenAiRequestText(request, /*max_completion_tokens=*/false, cache);
  }
  for (const HttpHeader& h : options.extra_headers) http.headers.push_back(h);
  return http;
}

std::unique_ptr<ChatCall> StartHttpChatAttempt(
    HttpClient* http, Clock* clock, const HttpChatOptions& options, RateLimitObserver* observer,
    const ChatRequest& request, AttemptCallbacks callbacks, RequestTextCache* cache) {
  auto attempt = std::make_shared<HttpChatAttempt>(clock, options, observer, request.stream,
                                                   std::move(callbacks));
  attempt->Start(http, BuildChatHttpRequest(options, request, cache));
  return std::make_unique<HttpChatAttemptHandle>(std::move(attempt));
}

std::unique_ptr<Provider> MakeHttpChatProvider(HttpClient* http, Clock* clock,
                                               RateLimitObserver* observer,
                                               HttpChatOptions options) {
  return std::make_unique<HttpChatProvider>(http, clock, observer, std::move(options));
}

}  // namespace troupe
