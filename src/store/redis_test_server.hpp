#pragma once
// Test helper (header-only, used by store_test and cache_test): a real redis-server process on a
// free loopback port, started with posix_spawn and stopped by its own PID only.

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace modelmux::store::testing {

inline constexpr const char* kRedisServer = "/usr/bin/redis-server";
inline constexpr const char* kRedisCli = "/usr/bin/redis-cli";

inline bool RedisAvailable() {
  return ::access(kRedisServer, X_OK) == 0;
}

inline uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

inline bool PortFree(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// A cluster node also listens on port + 10000 (its bus port): both must be free.
inline uint16_t FreeClusterPort() {
  for (int i = 0; i < 1000; ++i) {
    const uint16_t p = FreePort();
    if (p < 55000 && PortFree(static_cast<uint16_t>(p + 10000))) return p;
  }
  return 0;
}

inline bool PortAccepts(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// Runs a shell command and returns its stdout.
inline std::string Shell(const std::string& cmd) {
  std::string out;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  ::pclose(f);
  return out;
}

inline std::filesystem::path MakeTempDir(const std::string& tag) {
  std::string tmpl = (std::filesystem::temp_directory_path() / ("mm-" + tag + "-XXXXXX")).string();
  char* made = ::mkdtemp(tmpl.data());
  return made ? std::filesystem::path(made) : std::filesystem::temp_directory_path();
}

// An event loop on its own thread; Run() awaits a coroutine from the test thread.
struct Loop {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{io.get_executor()};
  std::thread thread{[this] { io.run(); }};
  ~Loop() {
    guard.reset();
    io.stop();
    thread.join();
  }
  template <class T>
  T Run(boost::asio::awaitable<T> a) {
    return boost::asio::co_spawn(io, std::move(a), boost::asio::use_future).get();
  }
};

class RedisServer {
 public:
  // Starts redis-server with `extra` arguments on `port` (0: a free one), listening on the plain
  // port unless `tls_port` is set (then the plain port is 0 and `port` is the TLS port). Returns
  // null if it does not accept connections within 5 s.
  static std::unique_ptr<RedisServer> Start(std::vector<std::string> extra = {}, uint16_t port = 0,
                                            bool tls_port = false) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      auto s = std::unique_ptr<RedisServer>(new RedisServer());
      s->port_ = port ? port : FreePort();
      s->dir_ = MakeTempDir("redis");
      std::vector<std::string> args{kRedisServer};
      if (tls_port) {
        args.insert(args.end(), {"--port", "0", "--tls-port", std::to_string(s->port_)});
      } else {
        args.insert(args.end(), {"--port", std::to_string(s->port_)});
      }
      args.insert(args.end(),
                  {"--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no",
                   "--dir", s->dir_.string(), "--logfile", (s->dir_ / "redis.log").string()});
      args.insert(args.end(), extra.begin(), extra.end());
      if (s->Spawn(args) && s->WaitReady()) return s;
      if (port) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return nullptr;
  }

  ~RedisServer() {
    Stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // SIGTERM (after SIGCONT, in case it was paused), then SIGKILL after 3 s.
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 300; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    Kill();
  }
  // A crash: SIGKILL and reap.
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  void Pause() { ::kill(pid_, SIGSTOP); }
  void Resume() { ::kill(pid_, SIGCONT); }

  // redis-cli against this server, e.g. Cli("CLUSTER INFO").
  std::string Cli(const std::string& args) const {
    return Shell(std::string(kRedisCli) + " -h 127.0.0.1 -p " + std::to_string(port_) + " " + args +
                 " 2>/dev/null");
  }

 private:
  RedisServer() = default;
  bool Spawn(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    const int rc = ::posix_spawn(&pid_, kRedisServer, &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) pid_ = -1;
    return rc == 0;
  }
  bool WaitReady() {
    for (int i = 0; i < 500; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return false;  // exited (port taken?)
      }
      if (PortAccepts(port_)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    Kill();
    return false;
  }

  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::filesystem::path dir_;
};

// Three masters, no replicas, slots 0-5460 / 5461-10922 / 10923-16383 (redis-cli's split).
class RedisCluster {
 public:
  static std::unique_ptr<RedisCluster> Start() {
    auto c = std::unique_ptr<RedisCluster>(new RedisCluster());
    for (int i = 0; i < 3; ++i) {
      auto s = RedisServer::Start({"--cluster-enabled", "yes", "--cluster-config-file",
                                   "nodes.conf", "--cluster-node-timeout", "5000"},
                                  FreeClusterPort());
      if (!s) return nullptr;
      c->nodes.push_back(std::move(s));
    }
    std::string cmd = std::string(kRedisCli) + " --cluster create";
    for (const auto& n : c->nodes) cmd += " " + n->address();
    cmd += " --cluster-replicas 0 --cluster-yes >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) return nullptr;
    for (int i = 0; i < 500; ++i) {
      bool ok = true;
      for (const auto& n : c->nodes) {
        ok = ok && n->Cli("CLUSTER INFO").find("cluster_state:ok") != std::string::npos;
      }
      if (ok) return c;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return nullptr;
  }
  std::vector<std::unique_ptr<RedisServer>> nodes;

 private:
  RedisCluster() = default;
};

}  // namespace modelmux::store::testing
