#include "core/http_client.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <strings.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <unordered_map>
#include <vector>

#include "core/curl_multi_loop.h"
#include "core/http_head_parser.h"

namespace troupe {
namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct Transfer;

// What a Transfer needs from the client that runs it.
class TransferOwner {
 public:
  // Schedules `t` for delivery of its pending callbacks (from a libcurl callback: only queues).
  virtual void Queue(Transfer& t) = 0;
  virtual void Cancel(Transfer& t) = 0;

 protected:
  ~TransferOwner() = default;
};

// One call: its easy handle, what has arrived and not yet been delivered, and its outcome.
struct Transfer : std::enable_shared_from_this<Transfer> {
  Transfer(boost::asio::io_context& io, TransferOwner* owner, HttpRequest request,
           HttpCallbacks callbacks)
      : owner(owner),
        request(std::move(request)),
        display(this->request.method + " " + UrlForDisplay(this->request.url)),
        callbacks(std::move(callbacks)),
        head_parser(this->request.max_redirects > 0),
        deadline(io) {}

  TransferOwner* owner;  // null once the client is gone
  HttpRequest request;   // owns the body libcurl sends from (CURLOPT_POSTFIELDS)
  std::string display;   // "POST https://host/path", for messages
  HttpCallbacks callbacks;
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  bool in_multi = false;
  char error[CURL_ERROR_SIZE] = {};

  HttpHeadParser head_parser;
  bool head_delivered = false;
  std::string body;     // received, not yet delivered
  std::string scratch;  // the chunk being delivered; keeps its capacity across chunks

  bool finished = false;  // outcome known, on_done pending
  Status status;
  HttpErrorKind kind = HttpErrorKind::kNone;
  bool done = false;    // on_done begun, or cancelled: no callback any more
  bool queued = false;  // in the owner's delivery queue

  SteadyClock::time_point start = SteadyClock::now();
  SteadyClock::time_point last_byte = start;
  boost::asio::steady_timer deadline;  // idle and total timeouts
};

class CallHandle : public HttpCall {
 public:
  explicit CallHandle(const std::shared_ptr<Transfer>& t) : transfer_(t) {}
  ~CallHandle() override { Cancel(); }

  void Cancel() override {
    std::shared_ptr<Transfer> t = transfer_.lock();
    transfer_.reset();
    if (t != nullptr && t->owner != nullptr) t->owner->Cancel(*t);
  }

 private:
  std::weak_ptr<Transfer> transfer_;
};

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && strncasecmp(s.data(), prefix.data(), prefix.size()) == 0;
}

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// Checks what libcurl would send verbatim, so a request cannot smuggle extra header lines.
Status ValidateRequest(const HttpRequest& r) {
  if (!StartsWithNoCase(r.url, "http://") && !StartsWithNoCase(r.url, "https://")) {
    return Status::InvalidArgument("URL '" + UrlForDisplay(r.url) +
                                   "' must start with http:// or https://");
  }
  if (HasLineBreak(r.url)) return Status::InvalidArgument("URL contains a line break");
  if (r.method.empty() || r.method.find_first_of(" \t\r\n") != std::string::npos) {
    return Status::InvalidArgument("HTTP method '" + r.method + "' is not a single token");
  }
  for (const HttpHeader& h : r.headers) {
    if (h.name.empty() || h.name.find_first_of(" \t\r\n:;") != std::string::npos ||
        HasLineBreak(h.value)) {
      return Status::InvalidArgument("header '" + h.name + "' has an invalid name or value");
    }
  }
  return Status::Ok();
}

HttpErrorKind KindOf(CURLcode rc) {
  switch (rc) {
    case CURLE_OK:
      return HttpErrorKind::kNone;
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:  // only connect_timeout_ms is given to libcurl
    case CURLE_PROXY:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED:
      return HttpErrorKind::kConnect;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:  // closed before Content-Length bytes or the last chunk
    case CURLE_GOT_NOTHING:   // closed without a response
    case CURLE_HTTP2_STREAM:  // the server reset the stream
      return HttpErrorKind::kReset;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP3:
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP_RETURNED_ERROR:
      return HttpErrorKind::kProtocol;
    default:
      return HttpErrorKind::kOther;
  }
}

Status StatusOf(const Transfer& t, CURLcode rc, HttpErrorKind kind) {
  const char* what = "failed";
  StatusCode code = StatusCode::kUnavailable;
  switch (kind) {
    case HttpErrorKind::kConnect:
      what = rc == CURLE_OPERATION_TIMEDOUT ? "could not connect in time" : "could not connect";
      break;
    case HttpErrorKind::kReset:
      what = "connection lost before the response ended";
      break;
    case HttpErrorKind::kProtocol:
      what = "invalid response";
      break;
    default:
      if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) {
        code = StatusCode::kInvalidArgument;
        what = "bad URL";
      }
      break;
  }
  const char* detail = t.error[0] != '\0' ? t.error : curl_easy_strerror(rc);
  return Status(code, fmt::format("{}: {} ({})", t.display, what, detail));
}

}  // namespace

const char* HttpErrorKindName(HttpErrorKind kind) {
  switch (kind) {
    case HttpErrorKind::kNone:
      return "none";
    case HttpErrorKind::kConnect:
      return "connect";
    case HttpErrorKind::kTimeout:
      return "timeout";
    case HttpErrorKind::kIdleTimeout:
      return "idle timeout";
    case HttpErrorKind::kReset:
      return "reset";
    case HttpErrorKind::kProtocol:
      return "protocol";
    case HttpErrorKind::kCancelled:
      return "cancelled";
    case HttpErrorKind::kOther:
      return "other";
  }
  return "unknown";
}

// Callbacks are only ever run from DeliverPending, which runs from a loop handler after libcurl
// has returned; libcurl's own callbacks just record what arrived and queue the transfer.
class HttpClient::Impl final : public CurlMultiLoop::Listener, public TransferOwner {
 public:
  Impl(boost::asio::io_context& io, HttpClientOptions options)
      : io_(io), options_(std::move(options)), loop_(io, this) {
    CURLM* multi = loop_.multi();
    if (multi == nullptr) return;
    curl_multi_setopt(multi, CURLMOPT_PIPELINING, long{CURLPIPE_MULTIPLEX});
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, long{options_.max_total_connections});
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                      long{options_.max_connections_per_host});
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, long{options_.max_idle_connections});
  }

  ~Impl() {
    // No callbacks from here on; libcurl needs every easy handle removed before cleanup.
    for (auto& [raw, t] : transfers_) {
      t->owner = nullptr;
      t->done = true;
      Detach(*t);
    }
    transfers_.clear();
    queue_.clear();
  }

  std::unique_ptr<HttpCall> Start(HttpRequest request, HttpCallbacks callbacks) {
    auto t = std::make_shared<Transfer>(io_, this, std::move(request), std::move(callbacks));
    transfers_.emplace(t.get(), t);
    Status status = Configure(*t);
    if (status.ok()) {
      CURLMcode mc = curl_multi_add_handle(loop_.multi(), t->easy);
      if (mc == CURLM_OK) {
        t->in_multi = true;
      } else {
        status = Status::Internal(
            fmt::format("{}: cannot start ({})", t->display, curl_multi_strerror(mc)));
      }
    }
    if (status.ok()) {
      ArmDeadline(*t);
    } else {
      Fail(*t, std::move(status), HttpErrorKind::kOther);
      ScheduleDelivery();
    }
    return std::make_unique<CallHandle>(t);
  }

  size_t active_calls() const { return transfers_.size(); }

  void Queue(Transfer& t) override {
    if (t.queued || t.done) return;
    t.queued = true;
    queue_.push_back(t.shared_from_this());
  }

  void Cancel(Transfer& t) override {
    if (t.done) return;
    t.done = true;
    Detach(t);
    transfers_.erase(&t);  // the caller holds a reference
  }

  void AfterCurlAction() override {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(loop_.multi(), &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      CURLcode rc = msg->data.result;  // copied: Detach invalidates `msg`
      char* priv = nullptr;
      curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
      auto it = transfers_.find(reinterpret_cast<Transfer*>(priv));
      if (it == transfers_.end() || it->second->easy != easy) continue;
      Transfer& t = *it->second;
      HttpErrorKind kind = KindOf(rc);
      Fail(t, kind == HttpErrorKind::kNone ? Status::Ok() : StatusOf(t, rc, kind), kind);
    }
    DeliverPending();
  }

 private:
  Status Configure(Transfer& t);

  // Removes the easy handle from libcurl and frees it; stops the timeouts.
  void Detach(Transfer& t) {
    t.deadline.cancel();
    if (t.easy != nullptr) {
      if (t.in_multi) curl_multi_remove_handle(loop_.multi(), t.easy);
      curl_easy_cleanup(t.easy);
      t.easy = nullptr;
      t.in_multi = false;
    }
    if (t.header_list != nullptr) {
      curl_slist_free_all(t.header_list);
      t.header_list = nullptr;
    }
  }

  // Records the outcome (OK included) and queues on_done behind whatever is undelivered.
  void Fail(Transfer& t, Status status, HttpErrorKind kind) {
    Detach(t);
    t.finished = true;
    t.status = std::move(status);
    t.kind = kind;
    Queue(t);
  }

  void ArmDeadline(Transfer& t) {
    const HttpRequest& r = t.request;
    if (r.idle_timeout_ms <= 0 && r.total_timeout_ms <= 0) return;
    auto at = SteadyClock::time_point::max();
    if (r.total_timeout_ms > 0) at = std::min(at, t.start + milliseconds(r.total_timeout_ms));
    if (r.idle_timeout_ms > 0) at = std::min(at, t.last_byte + milliseconds(r.idle_timeout_ms));
    t.deadline.expires_at(at);
    t.deadline.async_wait([this, weak = t.weak_from_this()](const boost::system::error_code& ec) {
      std::shared_ptr<Transfer> t = weak.lock();
      if (ec || t == nullptr || t->owner == nullptr || t->finished || t->done) return;
      OnDeadline(*t);
    });
  }

  // Bytes move last_byte forward without touching the timer (cheap per chunk); when the timer
  // fires early because of that, it is re-armed for the new deadline.
  void OnDeadline(Transfer& t) {
    const HttpRequest& r = t.request;
    const auto now = SteadyClock::now();
    if (r.total_timeout_ms > 0 && now >= t.start + milliseconds(r.total_timeout_ms)) {
      Fail(t,
           Status::DeadlineExceeded(
               fmt::format("{}: no complete response within {} ms", t.display, r.total_timeout_ms)),
           HttpErrorKind::kTimeout);
    } else if (r.idle_timeout_ms > 0 && now >= t.last_byte + milliseconds(r.idle_timeout_ms)) {
      Fail(t,
           Status::DeadlineExceeded(
               fmt::format("{}: no data from the server for {} ms", t.display, r.idle_timeout_ms)),
           HttpErrorKind::kIdleTimeout);
    } else {
      ArmDeadline(t);
      return;
    }
    DeliverPending();
  }

  void ScheduleDelivery() {
    if (delivery_posted_) return;
    delivery_posted_ = true;
    boost::asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_)] {
      if (alive.expired()) return;
      delivery_posted_ = false;
      DeliverPending();
    });
  }

  // Runs the callbacks of every queued transfer, in order head, data, done. A callback may
  // cancel or start calls (only queueing more work here) or destroy the client (then this
  // returns at once without touching it).
  void DeliverPending() {
    if (delivering_) return;  // the running loop below picks up what was queued
    delivering_ = true;
    std::weak_ptr<bool> alive = alive_;
    while (!queue_.empty()) {
      std::vector<std::shared_ptr<Transfer>> batch;
      batch.swap(queue_);
      for (const std::shared_ptr<Transfer>& t : batch) {
        t->queued = false;
        if (!Deliver(t, alive)) return;
      }
    }
    delivering_ = false;
  }

  // Returns false when a callback destroyed the client.
  bool Deliver(const std::shared_ptr<Transfer>& t, const std::weak_ptr<bool>& alive) {
    if (t->done) return true;
    if (t->head_parser.complete() && !t->head_delivered) {
      t->head_delivered = true;
      if (t->callbacks.on_head) {
        t->callbacks.on_head(t->head_parser.head());
        if (alive.expired()) return false;
        if (t->done) return true;
      }
    }
    if (!t->body.empty()) {
      t->scratch.swap(t->body);
      if (t->callbacks.on_data) {
        t->callbacks.on_data(t->scratch);
        if (alive.expired()) return false;
      }
      t->scratch.clear();
      if (t->done) return true;
    }
    if (t->finished) {
      t->done = true;
      transfers_.erase(t.get());
      if (t->callbacks.on_done) {
        t->callbacks.on_done(std::move(t->status), t->kind);
        if (alive.expired()) return false;
      }
    }
    return true;
  }

  static size_t OnHeaderLine(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t n = size * count;
    t->last_byte = SteadyClock::now();
    if (t->head_parser.AddLine(std::string_view(data, n))) t->owner->Queue(*t);
    return n;
  }

  static size_t OnBody(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t n = size * count;
    t->last_byte = SteadyClock::now();
    // libcurl writes only after the head; a redirect's body is skipped by libcurl itself.
    if (t->head_parser.complete() && n > 0) {
      t->body.append(data, n);
      t->owner->Queue(*t);
    }
    return n;
  }

  boost::asio::io_context& io_;
  HttpClientOptions options_;
  CurlMultiLoop loop_;
  std::unordered_map<Transfer*, std::shared_ptr<Transfer>> transfers_;  // the active calls
  std::vector<std::shared_ptr<Transfer>> queue_;  // transfers with callbacks to deliver
  bool delivery_posted_ = false;
  bool delivering_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // expires with this object
};

Status HttpClient::Impl::Configure(Transfer& t) {
  const HttpRequest& r = t.request;
  TROUPE_RETURN_IF_ERROR(ValidateRequest(r).WithContext(t.display));
  if (loop_.multi() == nullptr || (t.easy = curl_easy_init()) == nullptr) {
    return Status::ResourceExhausted(t.display + ": libcurl could not allocate a handle");
  }
  CURL* easy = t.easy;
  bool has_expect = false, has_content_type = false;
  for (const HttpHeader& h : r.headers) {
    has_expect |= strcasecmp(h.name.c_str(), "expect") == 0;
    has_content_type |= strcasecmp(h.name.c_str(), "content-type") == 0;
    // "Name;" is libcurl's spelling of a header with an empty value.
    std::string line = h.value.empty() ? h.name + ";" : h.name + ": " + h.value;
    t.header_list = curl_slist_append(t.header_list, line.c_str());
  }
  // Without these, libcurl would add "Expect: 100-continue" (a round trip, and a 1 s stall on
  // servers that ignore it) and a form Content-Type the caller never asked for.
  if (!has_expect) t.header_list = curl_slist_append(t.header_list, "Expect:");
  if (!has_content_type) t.header_list = curl_slist_append(t.header_list, "Content-Type:");

  CURLcode rc = CURLE_OK;
  auto set = [&](CURLoption option, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(easy, option, value);
  };
  set(CURLOPT_URL, r.url.c_str());
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  set(CURLOPT_PRIVATE, static_cast<void*>(&t));
  set(CURLOPT_ERRORBUFFER, t.error);
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_HEADERFUNCTION, &Impl::OnHeaderLine);
  set(CURLOPT_HEADERDATA, static_cast<void*>(&t));
  set(CURLOPT_WRITEFUNCTION, &Impl::OnBody);
  set(CURLOPT_WRITEDATA, static_cast<void*>(&t));
  set(CURLOPT_HTTPHEADER, t.header_list);
  set(CURLOPT_USERAGENT, options_.user_agent.c_str());
  set(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);  // a proxy's CONNECT reply is not the response
  set(CURLOPT_TCP_KEEPALIVE, 1L);
  // Over TLS, wait for ALPN on a connection being set up rather than open another one, so calls
  // to an HTTP/2 server share one connection. Not for http://: libcurl would wait for the first
  // response to learn it is HTTP/1.1, serializing every call behind it.
  if (StartsWithNoCase(r.url, "https://")) set(CURLOPT_PIPEWAIT, 1L);
  set(CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
  set(CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
  if (!options_.ca_bundle_path.empty()) set(CURLOPT_CAINFO, options_.ca_bundle_path.c_str());
  // No CURLOPT_PROXY: libcurl then reads the proxy environment variables itself.
  if (options_.proxy) set(CURLOPT_PROXY, options_.proxy->c_str());
  if (r.connect_timeout_ms > 0) set(CURLOPT_CONNECTTIMEOUT_MS, long{r.connect_timeout_ms});
  if (r.max_redirects > 0) {
    set(CURLOPT_FOLLOWLOCATION, 1L);
    set(CURLOPT_MAXREDIRS, long{r.max_redirects});
  }
  if (r.method == "GET" && r.body.empty()) {
    set(CURLOPT_HTTPGET, 1L);
  } else if (r.method == "HEAD") {
    set(CURLOPT_NOBODY, 1L);
  } else {
    if (r.method != "POST") set(CURLOPT_CUSTOMREQUEST, r.method.c_str());
    if (r.method == "POST" || !r.body.empty()) {
      set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
      set(CURLOPT_POSTFIELDS, r.body.data());
    }
  }
  if (rc != CURLE_OK) {
    return Status::InvalidArgument(
        fmt::format("{}: cannot configure request ({})", t.display, curl_easy_strerror(rc)));
  }
  // HTTP/2 via ALPN over TLS; ignored (HTTP/1.1) when libcurl was built without it.
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, long{CURL_HTTP_VERSION_2TLS});
  return Status::Ok();
}

HttpClient::HttpClient(boost::asio::io_context& io, HttpClientOptions options)
    : impl_(std::make_unique<Impl>(io, std::move(options))) {}

HttpClient::~HttpClient() = default;

std::unique_ptr<HttpCall> HttpClient::Start(HttpRequest request, HttpCallbacks callbacks) {
  return impl_->Start(std::move(request), std::move(callbacks));
}

size_t HttpClient::active_calls() const { return impl_->active_calls(); }

}  // namespace troupe
