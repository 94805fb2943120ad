#include "harness.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <system_error>

extern char** environ;

namespace modelmux::testing {
namespace {

constexpr int kStdout = 0;
constexpr int kStderr = 1;

int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string Quote(const std::string& s) {
  if (!s.empty() && s.find_first_of(" \t\"'\\$") == std::string::npos) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::vector<std::string> BuildEnvironment(const ProcessOptions& options) {
  std::vector<std::string> env;
  auto name_of = [](std::string_view entry) { return entry.substr(0, entry.find('=')); };
  auto overridden = [&](std::string_view name) {
    for (const auto& [k, v] : options.env) {
      if (k == name) return true;
    }
    return false;
  };
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view name = name_of(entry);
    if (options.clean_env && name != "PATH" && name != "HOME") continue;
    if (overridden(name)) continue;
    env.emplace_back(entry);
  }
  for (const auto& [k, v] : options.env) env.push_back(k + "=" + v);
  return env;
}

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

[[noreturn]] void Fail(const std::string& what) {
  throw std::runtime_error(what);
}

}  // namespace

std::optional<ListenAddress> ParseListeningLine(std::string_view line) {
  constexpr std::string_view kPrefix = "listening on ";
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  if (line.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  line.remove_prefix(kPrefix.size());
  size_t colon = line.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == line.size())
    return std::nullopt;
  std::string_view host = line.substr(0, colon);
  std::string_view port = line.substr(colon + 1);
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > 65535) return std::nullopt;
  }
  if (value == 0) return std::nullopt;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return ListenAddress{std::string(host), static_cast<uint16_t>(value)};
}

std::string BaseUrl(const ListenAddress& address) {
  std::string host = address.host;
  if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
  if (host == "::") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(address.port);
}

// ---- Process --------------------------------------------------------------------------------

std::unique_ptr<Process> Process::Start(const std::string& path, std::vector<std::string> args,
                                        ProcessOptions options) {
  std::unique_ptr<Process> p(new Process());
  p->options_ = std::move(options);
  p->command_ = Quote(path);
  for (const auto& a : args) p->command_ += " " + Quote(a);

  // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
  std::vector<std::string> env = BuildEnvironment(p->options_);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string argv0 = path;
  std::vector<char*> argv{argv0.data()};
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int out[2], err[2], exec_err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0 ||
      ::pipe2(exec_err, O_CLOEXEC) != 0 || ::pipe2(p->wake_fd_, O_CLOEXEC) != 0) {
    Fail("pipe2: " + std::string(std::strerror(errno)));
  }
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const char* cwd = p->options_.working_dir.empty() ? nullptr : p->options_.working_dir.c_str();
  pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) Fail("fork: " + std::string(std::strerror(errno)));
  if (pid == 0) {
    // Child. The kernel kills it if the test process dies first (no orphans left on loopback).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(devnull, 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    // Close inherited descriptors (sockets of the test process), except the exec error pipe.
    auto keep = static_cast<unsigned>(exec_err[1]);
    if (keep > 3) ::syscall(SYS_close_range, 3U, keep - 1, 0U);
    ::syscall(SYS_close_range, keep + 1, ~0U, 0U);
    if (cwd != nullptr && ::chdir(cwd) != 0) {
      int e = errno;
      (void)!::write(exec_err[1], &e, sizeof e);
      ::_exit(127);
    }
    ::execvpe(argv[0], argv.data(), envp.data());
    int e = errno;
    (void)!::write(exec_err[1], &e, sizeof e);
    ::_exit(127);
  }
  p->pid_ = pid;
  ::close(out[1]);
  ::close(err[1]);
  ::close(exec_err[1]);
  if (devnull >= 0) ::close(devnull);
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(exec_err[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(exec_err[0]);
  p->out_fd_ = out[0];
  p->err_fd_ = err[0];
  p->reader_ = std::thread([raw = p.get()] { raw->ReadLoop(); });
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    p->Stop();
    Fail("cannot execute " + p->command_ + ": " + std::strerror(child_errno));
  }
  return p;
}

Process::~Process() {
  Stop();
  CloseFd(wake_fd_[0]);
  CloseFd(wake_fd_[1]);
}

void Process::ReadLoop() {
  char buf[16 * 1024];
  bool open[2] = {true, true};
  int fds[2] = {out_fd_, err_fd_};
  bool reaped = false;
  while (open[kStdout] || open[kStderr]) {
    pollfd pfd[3];
    nfds_t n = 0;
    int which_of[3];
    for (int w = 0; w < 2; ++w) {
      if (!open[w]) continue;
      pfd[n] = {fds[w], POLLIN, 0};
      which_of[n++] = w;
    }
    // Once the child is reaped, drain what is buffered and stop: a grandchild may still hold
    // the pipes open, and that must not block Stop().
    if (!reaped) {
      pfd[n] = {wake_fd_[0], POLLIN, 0};
      which_of[n++] = -1;
    }
    int r = ::poll(pfd, n, reaped ? 0 : -1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;  // reaped and nothing more buffered
    for (nfds_t i = 0; i < n; ++i) {
      if (pfd[i].revents == 0) continue;
      int w = which_of[i];
      if (w < 0) {
        reaped = true;
        continue;
      }
      ssize_t got = ::read(fds[w], buf, sizeof buf);
      if (got > 0) {
        std::lock_guard lock(mu_);
        Consume(w, std::string_view(buf, static_cast<size_t>(got)));
        cv_.notify_all();
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        open[w] = false;
      }
    }
  }
  std::lock_guard lock(mu_);
  for (int w = 0; w < 2; ++w) {
    if (!partial_[w].empty()) Consume(w, "\n");
  }
  output_closed_ = true;
  cv_.notify_all();
}

void Process::Consume(int which, std::string_view data) {
  // Called with mu_ held.
  std::string& part = partial_[which];
  size_t start = 0;
  for (size_t nl = data.find('\n'); nl != std::string_view::npos; nl = data.find('\n', start)) {
    part.append(data.substr(start, nl - start));
    if (!part.empty() && part.back() == '\r') part.pop_back();
    if (which == kStdout) {
      out_lines_.push_back(std::move(part));
    } else {
      err_lines_.push_back(std::move(part));
      while (err_lines_.size() > options_.stderr_tail_lines) err_lines_.pop_front();
    }
    part.clear();
    start = nl + 1;
  }
  part.append(data.substr(start));
}

std::string Process::WaitForLine(std::string_view prefix, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mu_);
  size_t seen = 0;
  while (true) {
    for (; seen < out_lines_.size(); ++seen) {
      if (out_lines_[seen].substr(0, prefix.size()) == prefix) return out_lines_[seen];
    }
    if (output_closed_) break;
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      for (; seen < out_lines_.size(); ++seen) {
        if (out_lines_[seen].substr(0, prefix.size()) == prefix) return out_lines_[seen];
      }
      lock.unlock();
      Fail("no stdout line starting with \"" + std::string(prefix) + "\" within " +
           std::to_string(timeout.count()) + " ms\n" + Describe());
    }
  }
  lock.unlock();
  Fail("stdout of the child ended before a line starting with \"" + std::string(prefix) + "\"\n" +
       Describe());
}

ListenAddress Process::WaitForListening(std::chrono::milliseconds timeout) {
  std::string line = WaitForLine("listening on ", timeout);
  auto address = ParseListeningLine(line);
  if (!address) Fail("cannot parse \"" + line + "\"\n" + Describe());
  return *address;
}

void Process::Reaped(int status) {
  {
    std::lock_guard lock(mu_);
    exit_code_ = ExitCodeOf(status);
  }
  char one = 1;
  (void)!::write(wake_fd_[1], &one, 1);
  if (reader_.joinable()) reader_.join();
  CloseFd(out_fd_);
  CloseFd(err_fd_);
}

std::optional<int> Process::Wait(std::chrono::milliseconds timeout) {
  if (exit_code_) return exit_code_;
  if (pid_ <= 0) return std::nullopt;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      Reaped(status);
      return exit_code_;
    }
    if (r < 0 && errno != EINTR) {
      Reaped(0);
      return exit_code_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
}

int Process::Stop() {
  if (exit_code_) return *exit_code_;
  if (pid_ <= 0) return -1;
  // The child is not reaped yet, so its pid cannot have been reused: the signal reaches it only.
  ::kill(pid_, SIGTERM);
  if (auto code = Wait(options_.stop_timeout)) return *code;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  Reaped(status);
  return *exit_code_;
}

bool Process::running() {
  return !Wait(0ms).has_value();
}

std::vector<std::string> Process::stdout_lines() const {
  std::lock_guard lock(mu_);
  return out_lines_;
}

std::string Process::stderr_tail() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& l : err_lines_) out += l + "\n";
  return out;
}

std::string Process::Describe() const {
  std::string state;
  {
    std::lock_guard lock(mu_);
    state = exit_code_ ? "exited with " + std::to_string(*exit_code_) : "running";
  }
  return "process: " + command_ + " (pid " + std::to_string(pid_) + ", " + state +
         ")\n--- last stderr lines:\n" + stderr_tail() + "---";
}

// ---- services -------------------------------------------------------------------------------

std::string ModelmuxBin() {
  const char* env = std::getenv("MODELMUX_BIN");
  std::string path = env != nullptr && *env != '\0' ? env : std::string(MODELMUX_DEFAULT_BIN);
  if (::access(path.c_str(), X_OK) != 0) {
    Fail("modelmux binary not found at " + path + " (set MODELMUX_BIN or build the CLI)");
  }
  return path;
}

Service::~Service() {
  if (process) process->Stop();
  process.reset();
  if (!data_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(data_dir, ec);
  }
}

namespace {

Service StartService(std::vector<std::string> args, EnvList env, bool with_data_dir) {
  Service s;
  bool has_data_dir = false;
  for (const auto& [k, v] : env) has_data_dir = has_data_dir || k == "MODELMUX_DATA_DIR";
  if (with_data_dir && !has_data_dir) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "modelmux-it-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) Fail("mkdtemp: " + std::string(std::strerror(errno)));
    s.data_dir = tmpl;
    env.emplace_back("MODELMUX_DATA_DIR", tmpl);
  }
  ProcessOptions options;
  options.env = std::move(env);
  s.process = Process::Start(ModelmuxBin(), std::move(args), std::move(options));
  s.address = s.process->WaitForListening();
  s.base_url = BaseUrl(s.address);
  return s;
}

}  // namespace

Service StartSim(std::vector<std::string> args, EnvList env) {
  std::vector<std::string> full{"sim", "--port", "0"};
  full.insert(full.end(), args.begin(), args.end());
  return StartService(std::move(full), std::move(env), /*with_data_dir=*/false);
}

Service StartGateway(std::vector<std::string> args, EnvList env) {
  std::vector<std::string> full{"serve", "--host", "127.0.0.1", "--port", "0"};
  full.insert(full.end(), args.begin(), args.end());
  return StartService(std::move(full), std::move(env), /*with_data_dir=*/true);
}

}  // namespace modelmux::testing
