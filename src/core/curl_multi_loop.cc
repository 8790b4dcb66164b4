#include "core/curl_multi_loop.h"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <mutex>

namespace troupe {

// One fd libcurl asked us to watch. Owned by `watches_` and by the handlers of pending waits,
// which therefore never touch a freed Watch; `closed` tells them libcurl is done with it.
struct CurlMultiLoop::Watch {
  Watch(boost::asio::io_context& io, curl_socket_t fd) : fd(fd), descriptor(io) {}
  ~Watch() { Release(); }

  // Stops waiting without closing the fd, which libcurl owns. Pending waits finish with
  // operation_aborted.
  void Release() {
    closed = true;
    if (descriptor.is_open()) descriptor.release();
  }

  curl_socket_t fd;
  boost::asio::posix::stream_descriptor descriptor;
  int what = 0;  // CURL_POLL_IN / CURL_POLL_OUT / CURL_POLL_INOUT: what libcurl waits for
  bool read_pending = false;
  bool write_pending = false;
  bool closed = false;
};

CurlMultiLoop::CurlMultiLoop(boost::asio::io_context& io, Listener* listener)
    : io_(io), listener_(listener), timer_(io) {
  static std::once_flag global_init;
  std::call_once(global_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  multi_ = curl_multi_init();
  if (multi_ == nullptr) return;
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlMultiLoop::OnSocket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlMultiLoop::OnTimer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
}

CurlMultiLoop::~CurlMultiLoop() {
  // Stop waiting on libcurl's fds before curl_multi_cleanup closes them, so no fd number is
  // deregistered after it may have been reused; ignore the callbacks cleanup makes.
  shutting_down_ = true;
  for (auto& [fd, watch] : watches_) watch->Release();
  watches_.clear();
  timer_.cancel();
  if (multi_ != nullptr) curl_multi_cleanup(multi_);
}

int CurlMultiLoop::OnSocket(CURL* /*easy*/, curl_socket_t fd, int what, void* self, void* socketp) {
  auto* loop = static_cast<CurlMultiLoop*>(self);
  if (loop->shutting_down_) return 0;
  if (what == CURL_POLL_REMOVE) {
    loop->Forget(fd);
  } else {
    loop->UpdateWatch(fd, what, socketp);
  }
  return 0;
}

void CurlMultiLoop::Forget(curl_socket_t fd) {
  auto it = watches_.find(fd);
  if (it == watches_.end()) return;
  it->second->Release();
  watches_.erase(it);
}

void CurlMultiLoop::UpdateWatch(curl_socket_t fd, int what, void* socketp) {
  std::shared_ptr<Watch> watch;
  auto it = watches_.find(fd);
  if (it != watches_.end() && it->second.get() == socketp) {
    watch = it->second;
  } else {
    // A socket libcurl has not told us about yet. If we still hold a Watch for the same fd
    // number, libcurl closed and reused it without CURL_POLL_REMOVE: drop the stale one first.
    if (it != watches_.end()) Forget(fd);
    watch = std::make_shared<Watch>(io_, fd);
    watches_.emplace(fd, watch);
    curl_multi_assign(multi_, fd, watch.get());
    boost::system::error_code ec;
    watch->descriptor.assign(fd, ec);
    if (ec) {
      // Cannot wait on it (should not happen for a socket): let libcurl fail the transfer
      // rather than hang it. Posted: libcurl must not be re-entered from its own callback.
      watch->closed = true;
      std::weak_ptr<bool> alive = alive_;
      boost::asio::post(io_, [this, alive, fd] {
        if (!alive.expired()) Act(fd, CURL_CSELECT_ERR);
      });
      return;
    }
  }
  watch->what = what;
  if (what & CURL_POLL_IN) ArmWait(watch, /*for_write=*/false);
  if (what & CURL_POLL_OUT) ArmWait(watch, /*for_write=*/true);
}

void CurlMultiLoop::ArmWait(const std::shared_ptr<Watch>& watch, bool for_write) {
  bool& pending = for_write ? watch->write_pending : watch->read_pending;
  if (pending || watch->closed) return;
  pending = true;
  using Descriptor = boost::asio::posix::stream_descriptor;
  std::weak_ptr<bool> alive = alive_;
  watch->descriptor.async_wait(
      for_write ? Descriptor::wait_write : Descriptor::wait_read,
      [this, alive, watch, for_write](const boost::system::error_code& ec) {
        (for_write ? watch->write_pending : watch->read_pending) = false;
        if (watch->closed || alive.expired()) return;
        OnReady(watch, for_write, ec);
      });
}

void CurlMultiLoop::OnReady(const std::shared_ptr<Watch>& watch, bool for_write,
                            const boost::system::error_code& ec) {
  if (ec == boost::asio::error::operation_aborted) return;
  const int wanted = for_write ? CURL_POLL_OUT : CURL_POLL_IN;
  // libcurl may have switched direction since this wait began; then this readiness is moot.
  if (!ec && (watch->what & wanted) == 0) return;
  const int event = ec ? CURL_CSELECT_ERR : (for_write ? CURL_CSELECT_OUT : CURL_CSELECT_IN);
  if (!Act(watch->fd, event)) return;
  // Keep waiting while libcurl wants this direction on this very socket (the action may have
  // removed it, or replaced it by a new socket with the same fd number). After an error, wait
  // for libcurl to say again what it wants, so a broken fd cannot spin the loop.
  if (!ec && !watch->closed && (watch->what & wanted) != 0) ArmWait(watch, for_write);
}

int CurlMultiLoop::OnTimer(CURLM* /*multi*/, long timeout_ms, void* self) {
  auto* loop = static_cast<CurlMultiLoop*>(self);
  if (loop->shutting_down_) return 0;
  const uint64_t generation = ++loop->timer_generation_;
  if (timeout_ms < 0) {  // -1: delete the timer
    loop->timer_.cancel();
    return 0;
  }
  // 0 means "as soon as possible": still via the loop, since calling
  // curl_multi_socket_action from inside this callback would re-enter libcurl.
  loop->timer_.expires_after(std::chrono::milliseconds(timeout_ms));
  std::weak_ptr<bool> alive = loop->alive_;
  loop->timer_.async_wait([loop, alive, generation](const boost::system::error_code& ec) {
    if (ec || alive.expired()) return;
    // An expiry already queued when the timer was re-armed is stale.
    if (generation != loop->timer_generation_) return;
    loop->OnTimerExpired();
  });
  return 0;
}

void CurlMultiLoop::OnTimerExpired() { Act(CURL_SOCKET_TIMEOUT, 0); }

bool CurlMultiLoop::Act(curl_socket_t fd, int ev_bitmask) {
  std::weak_ptr<bool> alive = alive_;
  int running = 0;
  curl_multi_socket_action(multi_, fd, ev_bitmask, &running);
  listener_->AfterCurlAction();
  return !alive.expired();
}

}  // namespace troupe
