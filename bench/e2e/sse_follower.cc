#include "e2e/sse_follower.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include "e2e/processes.h"

namespace troupe::bench {

Result<std::unique_ptr<SseFollower>> SseFollower::Open(const std::string& socket,
                                                       const std::string& target,
                                                       std::vector<std::string> headers,
                                                       OnEvent on_event) {
  std::unique_ptr<SseFollower> f(new SseFollower());
  f->on_event_ = std::move(on_event);
  f->thread_ = std::thread(&SseFollower::Run, f.get(), fmt::format("http://localhost{}", target),
                           socket, std::move(headers));
  std::unique_lock lock(f->mu_);
  f->cv_.wait(lock, [&] { return f->opened_ || f->ended_; });
  if (!f->opened_ || f->http_status_ != 200) {
    const std::string error =
        f->error_.empty() ? fmt::format("HTTP {}", f->http_status_) : f->error_;
    lock.unlock();
    f.reset();
    return Status::Unavailable(fmt::format("cannot follow {}: {}", target, error));
  }
  return f;
}

SseFollower::~SseFollower() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void SseFollower::Run(std::string url, std::string socket, std::vector<std::string> headers) {
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  headers.push_back("Accept: text/event-stream");
  for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, socket.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &SseFollower::OnHeaderLine);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, this);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &SseFollower::OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &SseFollower::OnProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, this);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  std::lock_guard lock(mu_);
  if (rc != CURLE_OK && !stop_) error_ = curl_easy_strerror(rc);
  ended_ = true;
  cv_.notify_all();
}

size_t SseFollower::OnHeaderLine(char* data, size_t size, size_t n, void* self) {
  auto* f = static_cast<SseFollower*>(self);
  const std::string line(data, size * n);
  std::lock_guard lock(f->mu_);
  if (line.rfind("HTTP/", 0) == 0) {
    const size_t space = line.find(' ');
    if (space != std::string::npos) f->http_status_ = std::atoi(line.c_str() + space + 1);
  } else if (line == "\r\n" || line == "\n") {
    f->opened_ = true;
    f->cv_.notify_all();
  }
  return size * n;
}

size_t SseFollower::OnBody(char* data, size_t size, size_t n, void* self) {
  auto* f = static_cast<SseFollower*>(self);
  const int64_t arrival_us = NowUs();
  f->parsed_.clear();
  f->parser_.Feed(std::string_view(data, size * n), &f->parsed_);
  for (const SseEvent& e : f->parsed_) f->on_event_(e, arrival_us);
  return f->stop_ ? 0 : size * n;
}

int SseFollower::OnProgress(void* self, int64_t, int64_t, int64_t, int64_t) {
  return static_cast<SseFollower*>(self)->stop_ ? 1 : 0;
}

}  // namespace troupe::bench
