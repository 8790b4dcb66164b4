#include "mock_llm/mock_exchange.h"

#include <utility>

namespace troupe {

MockExchange::MockExchange(std::shared_ptr<HttpExchange> exchange,
                           std::weak_ptr<MockExchangeHost> host)
    : exchange_(std::move(exchange)), host_(std::move(host)) {
  const ApiRequest& api = exchange_->request();
  request_.connection = api.connection;
  request_.head_received_us = api.head_received_us;
  request_.method = api.method;
  request_.target = api.target;
  request_.headers.reserve(api.headers.size());
  for (const auto& [name, value] : api.headers) request_.headers.push_back({name, value});
  request_.body = api.body;
}

MockExchange::~MockExchange() {
  if (player_ != nullptr) player_->Stop();
}

void MockExchange::Start() {
  exchange_->OnWriteProgress([weak = weak_from_this()](WriteProgress progress) {
    if (std::shared_ptr<MockExchange> self = weak.lock()) self->OnProgress(progress);
  });
}

void MockExchange::Respond(std::shared_ptr<RequestLogEntry> entry, int status,
                           std::vector<HttpHeader> headers, std::string body) {
  entry_ = std::move(entry);
  SendResponse(status, std::move(headers), std::move(body));
}

void MockExchange::Play(std::shared_ptr<RequestLogEntry> entry,
                        std::unique_ptr<PlanPlayer> player) {
  entry_ = std::move(entry);
  player_ = std::move(player);
  player_->Start();
}

void MockExchange::Stop(const char* outcome) {
  if (ended_) return;
  if (player_ != nullptr) player_->Stop();
  End(/*finished=*/false, outcome);
  exchange_->Abort();
}

// --- ResponseSink ---

void MockExchange::SendResponse(int status, std::vector<HttpHeader> headers, std::string body) {
  if (entry_ != nullptr) entry_->status = status;
  ApiResponse response;
  response.status = status;
  response.content_type = "";  // the Content-Type is among `headers`
  response.body = std::move(body);
  response.headers.reserve(headers.size());
  for (HttpHeader& h : headers) response.headers.emplace_back(std::move(h.name), std::move(h.value));
  exchange_->Respond(std::move(response));
}

void MockExchange::StartStream(int status, std::vector<HttpHeader> headers) {
  if (entry_ != nullptr) entry_->status = status;
  std::vector<std::pair<std::string, std::string>> fields;
  fields.reserve(headers.size() + 1);
  for (HttpHeader& h : headers) fields.emplace_back(std::move(h.name), std::move(h.value));
  fields.emplace_back("Cache-Control", "no-cache");
  exchange_->OpenStream(status, std::move(fields));
}

void MockExchange::SendChunk(std::string data) { exchange_->Write(std::move(data)); }

void MockExchange::EndStream() { exchange_->Close(); }

void MockExchange::Drop() { exchange_->Abort(); }

// --- Progress ---

void MockExchange::OnProgress(WriteProgress progress) {
  std::shared_ptr<MockExchangeHost> host = host_.lock();
  if (host == nullptr || ended_) return;
  switch (progress) {
    case WriteProgress::kStarted:
      if (entry_ != nullptr) {
        const int64_t now_us = host->NowUs();
        if (entry_->first_write_us < 0) entry_->first_write_us = now_us;
        entry_->last_write_us = now_us;
      }
      break;
    case WriteProgress::kWritten:
      if (entry_ != nullptr) {
        const int64_t now_ms = host->clock()->NowMs();
        if (entry_->first_byte_ms < 0) entry_->first_byte_ms = now_ms;
        entry_->last_byte_ms = now_ms;
      }
      break;
    case WriteProgress::kFinished:
      End(/*finished=*/true, "completed");
      break;
    case WriteProgress::kLost:
      End(/*finished=*/false, "client_closed");
      break;
  }
}

void MockExchange::End(bool finished, const char* lost_outcome) {
  if (ended_) return;
  ended_ = true;
  std::shared_ptr<MockExchangeHost> host = host_.lock();
  // The player sets its outcome before its last sink call, which the transport may report at
  // once, from inside that call.
  const bool player_done = player_ != nullptr && player_->done();
  if (player_ != nullptr && !player_done) player_->Stop();
  if (entry_ != nullptr) {
    if (player_ != nullptr) entry_->deltas_sent = player_->deltas_sent();
    if (finished) {
      if (player_ != nullptr) entry_->outcome = player_->outcome();
    } else if (player_done && player_->outcome() == "dropped") {
      entry_->outcome = "dropped";  // the reset it asked for
    } else {
      entry_->outcome = lost_outcome;
    }
    if (host != nullptr) host->log()->Complete(*entry_);
  }
  if (host != nullptr) host->Finished(shared_from_this());
}

}  // namespace troupe
