#include "http/server_exchange.h"

#include <boost/asio/post.hpp>

namespace troupe {

void ExchangeNotifier::Post(uint64_t id, const std::shared_ptr<ServerExchange>& exchange) {
  pending_[id] = exchange;
  boost::asio::post(io_, [exchange] { exchange->RunNotify(); });
}

void ExchangeNotifier::RunPendingNow() {
  while (!pending_.empty()) {
    auto it = pending_.begin();
    std::shared_ptr<ServerExchange> exchange = it->second.lock();
    pending_.erase(it);
    if (exchange != nullptr) exchange->RunNotify();
  }
}

ServerExchange::ServerExchange(std::shared_ptr<ExchangeNotifier> notifier,
                               std::shared_ptr<ExchangeChannel> channel, uint64_t seq,
                               ApiRequest request)
    : notifier_(std::move(notifier)),
      channel_(std::move(channel)),
      seq_(seq),
      id_(notifier_->NextId()),
      request_(std::move(request)) {}

ServerExchange::~ServerExchange() {
  std::shared_ptr<ExchangeChannel> channel = std::move(channel_);
  if (channel == nullptr) return;
  if (state_ == State::kPending) channel->Abandoned(seq_);
  if (state_ == State::kStreaming) channel->EndStream(seq_);
}

void ServerExchange::Respond(ApiResponse response) {
  if (state_ != State::kPending) return;
  state_ = State::kResponded;
  on_close_ = nullptr;
  std::shared_ptr<ExchangeChannel> channel = std::move(channel_);
  if (channel != nullptr) channel->Respond(seq_, std::move(response));
}

bool ServerExchange::OpenStream(int status,
                                std::vector<std::pair<std::string, std::string>> headers) {
  if (state_ != State::kPending) return false;
  std::shared_ptr<ExchangeChannel> channel = channel_;
  if (channel == nullptr || !channel->OpenStream(seq_, status, std::move(headers))) return false;
  state_ = State::kStreaming;
  return true;
}

bool ServerExchange::Write(std::string bytes) {
  if (state_ != State::kStreaming) return false;
  std::shared_ptr<ExchangeChannel> channel = channel_;
  if (channel != nullptr && channel->StreamWrite(seq_, std::move(bytes))) return true;
  Ended();  // usually done already by the connection closing
  return false;
}

size_t ServerExchange::buffered() const {
  return state_ == State::kStreaming && channel_ != nullptr ? channel_->buffered(seq_) : 0;
}

void ServerExchange::Close() {
  if (state_ != State::kPending && state_ != State::kStreaming) return;
  const bool was_streaming = state_ == State::kStreaming;
  state_ = State::kClosed;
  std::shared_ptr<ExchangeChannel> channel = std::move(channel_);
  Notify();
  if (channel == nullptr) return;
  if (was_streaming) {
    channel->EndStream(seq_);
  } else {
    channel->Drop(seq_);
  }
}

void ServerExchange::Abort() {
  if (state_ != State::kPending && state_ != State::kStreaming) return;
  state_ = State::kClosed;
  std::shared_ptr<ExchangeChannel> channel = std::move(channel_);
  Notify();
  if (channel != nullptr) channel->Abort(seq_);
}

void ServerExchange::OnWriteProgress(std::function<void(WriteProgress)> observer) {
  if (channel_ != nullptr) channel_->ObserveWrites(seq_, std::move(observer));
}

void ServerExchange::OnClose(std::function<void()> callback) {
  if (state_ == State::kResponded || notified_) return;
  on_close_ = std::move(callback);
  if (state_ == State::kClosed) Notify();
}

void ServerExchange::Ended() {
  if (state_ != State::kPending && state_ != State::kStreaming) return;
  state_ = State::kClosed;
  channel_.reset();
  Notify();
}

void ServerExchange::Notify() {
  if (notified_ || post_pending_ || !on_close_) return;
  post_pending_ = true;
  notifier_->Post(id_, shared_from_this());
}

void ServerExchange::RunNotify() {
  if (post_pending_) {
    post_pending_ = false;
    notifier_->Done(id_);
  }
  if (notified_ || !on_close_) return;
  notified_ = true;
  std::function<void()> callback = std::move(on_close_);
  on_close_ = nullptr;
  try {
    callback();
  } catch (...) {
  }
}

}  // namespace troupe
