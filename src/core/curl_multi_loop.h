// Drives a libcurl multi handle from an Asio io_context: libcurl says which sockets to watch
// (CURLMOPT_SOCKETFUNCTION) and when to wake it (CURLMOPT_TIMERFUNCTION); this class waits on
// those sockets with Asio descriptors and on one steady_timer, and calls
// curl_multi_socket_action when they are ready. No threads; every call happens on the loop.
//
// The fds belong to libcurl: they are wrapped in posix::stream_descriptor only to wait on them
// and are released, never closed, when libcurl stops watching them (CURL_POLL_REMOVE). An fd
// number libcurl closes and reuses gets a fresh descriptor; waits pending on the old one finish
// as no-ops.
#pragma once

#include <curl/curl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <unordered_map>

namespace troupe {

class CurlMultiLoop {
 public:
  class Listener {
   public:
    // Runs after every curl_multi_socket_action, outside any libcurl callback, so it may call
    // curl_multi_info_read and add or remove easy handles. It may destroy the CurlMultiLoop.
    virtual void AfterCurlAction() = 0;

   protected:
    ~Listener() = default;
  };

  // Calls curl_global_init once per process. `listener` must outlive this object.
  CurlMultiLoop(boost::asio::io_context& io, Listener* listener);
  // Every easy handle must have been removed. Closes libcurl's cached connections.
  ~CurlMultiLoop();
  CurlMultiLoop(const CurlMultiLoop&) = delete;
  CurlMultiLoop& operator=(const CurlMultiLoop&) = delete;

  // Null when libcurl could not allocate a multi handle.
  CURLM* multi() const { return multi_; }

  // Number of sockets being watched; for tests.
  size_t watched_sockets() const { return watches_.size(); }

 private:
  struct Watch;

  static int OnSocket(CURL* easy, curl_socket_t fd, int what, void* self, void* socketp);
  static int OnTimer(CURLM* multi, long timeout_ms, void* self);
  void UpdateWatch(curl_socket_t fd, int what, void* socketp);
  void ArmWait(const std::shared_ptr<Watch>& watch, bool for_write);
  void OnReady(const std::shared_ptr<Watch>& watch, bool for_write,
               const boost::system::error_code& ec);
  void OnTimerExpired();
  // Calls curl_multi_socket_action, then the listener. Returns false when that destroyed this
  // object.
  bool Act(curl_socket_t fd, int ev_bitmask);
  void Forget(curl_socket_t fd);

  boost::asio::io_context& io_;
  Listener* listener_;
  CURLM* multi_ = nullptr;
  boost::asio::steady_timer timer_;
  uint64_t timer_generation_ = 0;  // bumped on every re-arm; a stale expiry is ignored
  bool shutting_down_ = false;
  std::unordered_map<curl_socket_t, std::shared_ptr<Watch>> watches_;
  // Handlers hold a weak_ptr to this; expired means the loop is gone.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace troupe
