#pragma once
// Test harness for integration tests: child processes (the gateway, the simulator, anything else)
// with their output captured, and blocking HTTP helpers over modelmux::net::HttpClient.
//
// Errors: harness set-up failures (cannot start, no "listening on" line in time, early exit)
// throw std::runtime_error carrying the last lines of the child's stderr; gtest reports them as
// a failure of the test. HTTP transport failures are values (HttpResult::error), since tests
// assert on them (e.g. the simulator's `reset` control).
//
// Threading: a Process may be used from any one thread; its output is read by a private thread.

#include <sys/types.h>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "net/headers.hpp"

namespace modelmux::testing {

using namespace std::chrono_literals;

using EnvList = std::vector<std::pair<std::string, std::string>>;
using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct ListenAddress {
  std::string host;  // as printed, e.g. "127.0.0.1" or "::1"
  uint16_t port = 0;
};

// Parses "listening on HOST:PORT" (HOST may be "[v6]" or bare v6); nullopt for any other line.
[[nodiscard]] std::optional<ListenAddress> ParseListeningLine(std::string_view line);
// "http://HOST:PORT" with IPv6 hosts in brackets and a wildcard host replaced by loopback.
[[nodiscard]] std::string BaseUrl(const ListenAddress& address);

struct ProcessOptions {
  // Added to the environment, replacing variables of the same name.
  EnvList env;
  // Start from an environment holding only PATH and HOME (plus `env`), so that no provider key
  // or proxy setting of the developer's shell leaks into the child.
  bool clean_env = true;
  std::string working_dir;  // empty: the current one
  size_t stderr_tail_lines = 100;
  std::chrono::milliseconds stop_timeout = 5s;  // SIGTERM -> SIGKILL
};

class Process {
 public:
  // Starts `path` (a path, or a name looked up in PATH) with `args` (without argv[0]).
  // Throws std::runtime_error when the program cannot be executed.
  static std::unique_ptr<Process> Start(const std::string& path, std::vector<std::string> args,
                                        ProcessOptions options = {});
  ~Process();  // Stop()s the child
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }

  // Waits for a stdout line starting with `prefix` (searching the lines seen so far first) and
  // returns it. Throws on timeout or when the child's output ends first.
  std::string WaitForLine(std::string_view prefix, std::chrono::milliseconds timeout = 20s);
  // WaitForLine("listening on ") parsed.
  ListenAddress WaitForListening(std::chrono::milliseconds timeout = 20s);

  // Waits for the child to exit by itself; its exit code (128 + signal when killed), or nullopt
  // on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // SIGTERM to this child's pid only, SIGKILL after options.stop_timeout; returns the exit code
  // (128 + signal when killed). Idempotent.
  int Stop();
  [[nodiscard]] bool running();

  [[nodiscard]] std::vector<std::string> stdout_lines() const;
  // The last lines of stderr, joined with '\n' (for failure messages).
  [[nodiscard]] std::string stderr_tail() const;
  // A description for failure messages: command line, pid, exit state, stderr tail.
  [[nodiscard]] std::string Describe() const;

 private:
  Process() = default;
  void ReadLoop();
  void Consume(int which, std::string_view data);
  void Reaped(int status);

  pid_t pid_ = -1;
  std::string command_;
  ProcessOptions options_;
  int out_fd_ = -1;
  int err_fd_ = -1;
  int wake_fd_[2] = {-1, -1};  // wakes the reader once the child is reaped
  std::thread reader_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> out_lines_;
  std::deque<std::string> err_lines_;
  std::string partial_[2];
  bool output_closed_ = false;
  std::optional<int> exit_code_;
};

// The modelmux CLI under test: $MODELMUX_BIN, else the build's bin/modelmux. Throws if missing.
[[nodiscard]] std::string ModelmuxBin();

// A started `modelmux serve` or `modelmux sim`, stopped on destruction.
struct Service {
  std::unique_ptr<Process> process;
  ListenAddress address;
  std::string base_url;            // http://HOST:PORT (append "/v1/...")
  std::filesystem::path data_dir;  // removed on destruction; empty if none was made
  Service() = default;
  Service(Service&&) = default;
  Service& operator=(Service&&) = default;
  ~Service();
};

// `modelmux sim --port 0 ARGS...` in a clean environment plus `env`.
Service StartSim(std::vector<std::string> args = {}, EnvList env = {});
// `modelmux serve --host 127.0.0.1 --port 0 ARGS...` in a clean environment (no provider keys)
// plus `env`; MODELMUX_DATA_DIR is a fresh temporary folder unless `env` sets it.
Service StartGateway(std::vector<std::string> args = {}, EnvList env = {});

// ---- HTTP ----------------------------------------------------------------------------------

struct HttpResult {
  int status = 0;  // 0 when the request failed before a response head
  net::Headers headers;
  std::string body;
  std::optional<Error> error;  // transport failure (connect, reset, timeout, cut body)
};

struct StreamResult {
  int status = 0;
  net::Headers headers;
  std::vector<std::string> chunks;  // body pieces in arrival order
  std::optional<Error> error;
  [[nodiscard]] std::string Body() const;  // the chunks joined
};

// Blocking request on a private io_context. No proxy from the environment is used.
HttpResult Http(std::string method, std::string url, std::string body = {}, HeaderList headers = {},
                std::chrono::milliseconds timeout = 30s);
// As Http, but keeps the body pieces as they arrived (for SSE framing and stream timing tests).
StreamResult HttpStream(std::string method, std::string url, std::string body = {},
                        HeaderList headers = {}, std::chrono::milliseconds timeout = 30s);

}  // namespace modelmux::testing
