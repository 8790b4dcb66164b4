// `troupe mock-llm`: runs the mock-llm server (mock_llm/mock_llm_server.h) with the scripted mock
// model (llm/mock_model.h) until SIGINT or SIGTERM, so integration tests, benchmarks and demos
// can point any OpenAI- or Anthropic-compatible client at http://127.0.0.1:PORT.
#pragma once

#include <string>
#include <vector>

namespace troupe {

struct MockLlmCommandOptions {
  int port = 0;                     // 0: an ephemeral port
  std::vector<std::string> models;  // names listed by GET /v1/models; empty: {"mock"}
  std::string log_path;             // JSON lines of the request log; "" = none
  bool log_conversations = false;   // the log keeps each request's system prompt and messages
  bool log_bodies = false;          // the log keeps each request's body as sent
  bool no_auth = false;             // accept requests without credentials
  std::string port_file;            // written with the bound port once listening; "" = none
};

// Prints "troupe mock-llm listening on http://127.0.0.1:PORT" once it accepts connections, then
// serves until SIGINT or SIGTERM. Exit code: 0 after a signal, 1 when it cannot start (port in
// use, log or port file not writable).
int RunMockLlm(const MockLlmCommandOptions& options);

}  // namespace troupe
