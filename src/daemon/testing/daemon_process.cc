#include "daemon/testing/daemon_process.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "core/testing/test_dir.h"

extern char** environ;

namespace troupe::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

size_t AppendTo(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

}  // namespace

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

bool WaitUntil(const std::function<bool()>& done, int timeout_ms) {
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done()) {
    if (SteadyClock::now() >= deadline) return false;
    SleepMs(20);
  }
  return true;
}

int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -1000;
}

std::optional<int> WaitPid(pid_t pid, int timeout_ms) {
  std::optional<int> code;
  WaitUntil(
      [&] {
        int status = 0;
        const pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) code = ExitCodeOf(status);
        if (r < 0) code = -2000;  // not our child (any more)
        return code.has_value();
      },
      timeout_ms);
  return code;
}

std::map<std::string, std::optional<std::string>> HermeticEnv(const std::string& config_home) {
  return {{"XDG_CONFIG_HOME", config_home},  {"TROUPE_SOCKET", std::nullopt},
          {"TROUPE_DATA_DIR", std::nullopt}, {"http_proxy", std::nullopt},
          {"HTTP_PROXY", std::nullopt},      {"https_proxy", std::nullopt},
          {"HTTPS_PROXY", std::nullopt},     {"all_proxy", std::nullopt},
          {"ALL_PROXY", std::nullopt},       {"ANTHROPIC_API_KEY", std::nullopt},
          {"OPENAI_API_KEY", std::nullopt},  {"ANTHROPIC_BASE_URL", std::nullopt},
          {"OPENAI_BASE_URL", std::nullopt}};
}

Process::Process(const std::string& binary, const std::vector<std::string>& args,
                 const std::string& output_prefix,
                 const std::map<std::string, std::optional<std::string>>& env)
    : out_path_(output_prefix + ".out"), err_path_(output_prefix + ".err") {
  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::vector<std::string> arg_storage = {binary};
  arg_storage.insert(arg_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : arg_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    if (env.count(name) == 0) env_storage.push_back(entry);
  }
  for (const auto& [name, value] : env) {
    if (value) env_storage.push_back(name + "=" + *value);
  }
  std::vector<char*> envp;
  for (std::string& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  const int out = open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int err = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  EXPECT_GE(out, 0);
  EXPECT_GE(err, 0);
  const char* path = arg_storage[0].c_str();
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    const int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, STDIN_FILENO);
    execve(path, argv.data(), envp.data());
    _exit(127);
  }
  close(out);
  close(err);
  EXPECT_GT(pid_, 0);
}

Process::~Process() {
  if (pid_ > 0 && !exit_code_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

bool Process::Running() {
  if (exit_code_) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    exit_code_ = ExitCodeOf(status);
    return false;
  }
  return true;
}

void Process::Signal(int signo) {
  if (pid_ > 0 && !exit_code_) kill(pid_, signo);
}

std::optional<int> Process::Wait(int timeout_ms) {
  if (!exit_code_) exit_code_ = WaitPid(pid_, timeout_ms);
  return exit_code_;
}

std::string Process::Stdout() const { return ReadFileBytes(out_path_); }
std::string Process::Stderr() const { return ReadFileBytes(err_path_); }

nlohmann::json Reply::Json() const {
  return nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
}

std::string Describe(const Reply& r) {
  return r.error.empty() ? "HTTP " + std::to_string(r.status) + " " + r.body : "error " + r.error;
}

Client Client::Unix(const std::string& socket) {
  Client c;
  c.socket_ = socket;
  c.base_ = "http://troupe";
  return c;
}

Client Client::Tcp(int port, std::string token) {
  Client c;
  c.base_ = "http://127.0.0.1:" + std::to_string(port);
  c.token_ = std::move(token);
  return c;
}

Reply Client::Send(const std::string& method, const std::string& path, const std::string& body,
                   const std::vector<std::string>& extra_headers, long timeout_ms) {
  Reply reply;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    reply.error = "curl_easy_init failed";
    return reply;
  }
  const std::string url = base_ + path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  if (!socket_.empty()) curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, socket_.c_str());
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  // HEAD: the answer says a Content-Length but has no body; curl must not wait for one.
  if (method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendTo);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, AppendTo);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply.headers);
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Expect:");
  if (!body.empty()) {
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  } else if (method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(0));
  }
  const std::string auth = "Authorization: Bearer " + token_;
  if (!token_.empty()) headers = curl_slist_append(headers, auth.c_str());
  for (const std::string& h : extra_headers) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  const CURLcode code = curl_easy_perform(curl);
  if (code == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  } else {
    reply.error = curl_easy_strerror(code);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return reply;
}

std::unique_ptr<Process> AwaitHealthy(std::unique_ptr<Process> process, Client& client,
                                      int timeout_ms) {
  const bool up = WaitUntil(
      [&] {
        if (!process->Running()) return true;
        return client.Send("GET", "/v1/health", "", {}, 1'000).status == 200;
      },
      timeout_ms);
  if (!up || !process->Running()) {
    ADD_FAILURE() << "troupe serve did not start (" << (up ? "exited" : "timed out")
                  << "); stderr:\n"
                  << process->Stderr();
    return nullptr;
  }
  return process;
}

}  // namespace troupe::testing
