#pragma once
// Helpers shared by the gateway integration tests (header-only, on top of harness.hpp): request
// bodies, JSON and SSE inspection, temporary config files, a raw blocking HTTP/1.1 client over one
// socket (for keep-alive, oversized heads and mid-stream disconnects), a one-shot fake upstream
// that records what the gateway sent, and loopback socket counts from /proc/net/tcp.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <atomic>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace modelmux::testing {

namespace json = boost::json;

// ---- bodies and JSON ------------------------------------------------------------------------

inline std::string ChatBody(std::string_view model, std::string_view text,
                            std::string_view extra = {}) {
  json::object o{{"model", model},
                 {"messages", json::array{json::object{{"role", "user"}, {"content", text}}}}};
  std::string s = json::serialize(o);
  if (!extra.empty()) {
    s.pop_back();  // '}'
    s += ',';
    s += extra;
    s += '}';
  }
  return s;
}

// The parsed JSON, or null when `text` is not JSON.
inline json::value ParseJson(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return nullptr;
  return v;
}

inline std::string Str(const json::value& v) {
  return v.is_string() ? std::string(v.get_string()) : std::string();
}

// Asserts the OpenAI error shape {"error":{"message","type","param","code"}} (message and type
// strings, param and code present as string or null) and returns the error object (empty when
// the shape is wrong).
inline json::object ExpectOpenAiError(std::string_view body) {
  json::value v = ParseJson(body);
  EXPECT_TRUE(v.is_object()) << "not a JSON object: " << body;
  if (!v.is_object()) return {};
  const json::value* e = v.get_object().if_contains("error");
  EXPECT_TRUE(e != nullptr && e->is_object()) << "no error object: " << body;
  if (e == nullptr || !e->is_object()) return {};
  const json::object& err = e->get_object();
  for (const char* key : {"message", "type"}) {
    EXPECT_TRUE(err.contains(key) && err.at(key).is_string()) << key << " missing: " << body;
  }
  for (const char* key : {"param", "code"}) {
    EXPECT_TRUE(err.contains(key) && (err.at(key).is_string() || err.at(key).is_null()))
        << key << " missing: " << body;
  }
  if (err.contains("message")) {
    EXPECT_FALSE(Str(err.at("message")).empty()) << body;
  }
  return err;
}

// ---- SSE ------------------------------------------------------------------------------------

struct SseLine {
  bool comment = false;
  std::string text;  // the data after "data: ", or the comment after ':'
};

// The `data:` and comment lines of an SSE body, in order.
inline std::vector<SseLine> SseLines(std::string_view body) {
  std::vector<SseLine> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = end + 1;
    if (line.rfind("data:", 0) == 0) {
      line.remove_prefix(5);
      if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
      out.push_back({false, std::string(line)});
    } else if (!line.empty() && line.front() == ':') {
      line.remove_prefix(1);
      if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
      out.push_back({true, std::string(line)});
    }
  }
  return out;
}

inline std::vector<std::string> SseData(std::string_view body) {
  std::vector<std::string> out;
  for (auto& l : SseLines(body)) {
    if (!l.comment) out.push_back(std::move(l.text));
  }
  return out;
}

// ---- files ----------------------------------------------------------------------------------

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "modelmux-itcfg-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

  // Writes `content` to `name` atomically (write then rename) and returns the full path.
  std::string Write(const std::string& name, std::string_view content) const {
    auto target = path_ / name;
    auto tmp = path_ / (name + ".tmp");
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      f << content;
    }
    std::filesystem::rename(tmp, target);
    return target.string();
  }

 private:
  std::filesystem::path path_;
};

// ---- raw HTTP/1.1 over one socket ------------------------------------------------------------

// A blocking loopback TCP connection with deadline-bounded reads.
class RawConn {
 public:
  explicit RawConn(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      connect_errno_ = errno;
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~RawConn() { Close(); }
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  [[nodiscard]] bool connected() const { return fd_ >= 0; }
  [[nodiscard]] int connect_errno() const { return connect_errno_; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  bool SendAll(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Appends what arrives to buffer_ until `done(buffer_)` holds, the peer closes, or the deadline
  // passes. True when `done` held.
  template <typename Pred>
  bool ReadUntil(Pred done, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done(buffer_)) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, static_cast<int>(left.count()));
      if (r <= 0) continue;
      char buf[16384];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        closed_ = true;
        return done(buffer_);
      }
      buffer_.append(buf, static_cast<size_t>(n));
    }
    return true;
  }

  struct Response {
    int status = 0;  // 0: no complete response
    std::string head;
    std::string body;  // de-chunked
  };

  // Reads one response with a Content-Length or chunked body (not a close-delimited one).
  Response ReadResponse(std::chrono::milliseconds timeout = 5s) {
    Response r;
    if (!ReadUntil([](const std::string& b) { return b.find("\r\n\r\n") != std::string::npos; },
                   timeout)) {
      return r;
    }
    size_t head_end = buffer_.find("\r\n\r\n") + 4;
    r.head = buffer_.substr(0, head_end);
    buffer_.erase(0, head_end);
    std::string lower = r.head;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (auto cl = lower.find("\r\ncontent-length:"); cl != std::string::npos) {
      size_t len = std::strtoul(lower.c_str() + cl + 17, nullptr, 10);
      if (!ReadUntil([len](const std::string& b) { return b.size() >= len; }, timeout)) return r;
      r.body = buffer_.substr(0, len);
      buffer_.erase(0, len);
    } else if (lower.find("transfer-encoding: chunked") != std::string::npos) {
      while (true) {
        if (!ReadUntil([](const std::string& b) { return b.find("\r\n") != std::string::npos; },
                       timeout)) {
          return r;
        }
        size_t eol = buffer_.find("\r\n");
        size_t size = std::strtoul(buffer_.c_str(), nullptr, 16);
        size_t need = eol + 2 + size + 2;
        if (!ReadUntil([need](const std::string& b) { return b.size() >= need; }, timeout)) {
          return r;
        }
        r.body += buffer_.substr(eol + 2, size);
        buffer_.erase(0, need);
        if (size == 0) break;
      }
    }
    r.status = std::atoi(r.head.c_str() + 9);  // "HTTP/1.1 200"
    return r;
  }

  [[nodiscard]] const std::string& buffer() const { return buffer_; }
  [[nodiscard]] bool peer_closed() const { return closed_; }

 private:
  int fd_ = -1;
  int connect_errno_ = 0;
  bool closed_ = false;
  std::string buffer_;
};

inline std::string RawPost(std::string_view path, std::string_view body,
                           std::string_view extra_headers = {}) {
  std::string req = "POST " + std::string(path) + " HTTP/1.1\r\nhost: 127.0.0.1\r\n";
  req += "content-type: application/json\r\ncontent-length: " + std::to_string(body.size());
  req += "\r\n";
  req += extra_headers;
  req += "\r\n";
  req += body;
  return req;
}

// ---- loopback sockets -------------------------------------------------------------------------

// TCP connections in state ESTABLISHED with `port` at either end, from /proc/net/tcp{,6} (both
// ends of a loopback connection are listed, so one connection counts twice).
inline int CountEstablished(uint16_t port) {
  int count = 0;
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream f(file);
    std::string line;
    std::getline(f, line);  // header
    while (std::getline(f, line)) {
      std::istringstream in(line);
      std::string sl, local, remote, state;
      in >> sl >> local >> remote >> state;
      if (state != "01") continue;
      auto port_of = [](const std::string& addr) {
        auto colon = addr.rfind(':');
        return colon == std::string::npos
                   ? 0u
                   : static_cast<unsigned>(std::strtoul(addr.c_str() + colon + 1, nullptr, 16));
      };
      if (port_of(local) == port || port_of(remote) == port) ++count;
    }
  }
  return count;
}

// Polls `pred` every 20 ms until it holds or `timeout` passes.
template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

// ---- a one-shot fake upstream -----------------------------------------------------------------

// A listening TCP socket on 127.0.0.1 with a free port (written to `port`), for the tests' own
// fake servers. Throws std::runtime_error naming `what` when it cannot listen.
inline int ListenOnLoopback(int backlog, uint16_t& port, const char* what) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      ::listen(fd, backlog) != 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error(std::string(what) + ": cannot listen");
  }
  port = ntohs(a.sin_port);
  return fd;
}

// Listens on 127.0.0.1:0, accepts one connection, records the request (head and body, by
// Content-Length) and answers with `response` verbatim, then closes.
class OneShotUpstream {
 public:
  explicit OneShotUpstream(std::string response) : response_(std::move(response)) {
    listen_fd_ = ListenOnLoopback(4, port_, "fake upstream");
    thread_ = std::thread([this] { Serve(); });
  }
  ~OneShotUpstream() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }
  OneShotUpstream(const OneShotUpstream&) = delete;
  OneShotUpstream& operator=(const OneShotUpstream&) = delete;

  [[nodiscard]] uint16_t port() const { return port_; }
  // The recorded request; valid once the gateway's call returned.
  [[nodiscard]] std::string head() const { return done_ ? head_ : std::string(); }
  [[nodiscard]] std::string body() const { return done_ ? body_ : std::string(); }

 private:
  void Serve() {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    int fd = -1;
    while (!stop_ && std::chrono::steady_clock::now() < deadline) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) > 0) {
        fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        break;
      }
    }
    if (fd < 0) return;
    std::string in;
    char buf[16384];
    size_t need = std::string::npos;
    while (!stop_ && std::chrono::steady_clock::now() < deadline) {
      if (need == std::string::npos) {
        if (auto end = in.find("\r\n\r\n"); end != std::string::npos) {
          std::string lower = in.substr(0, end + 4);
          for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          auto cl = lower.find("\r\ncontent-length:");
          size_t len =
              cl == std::string::npos ? 0 : std::strtoul(lower.c_str() + cl + 17, nullptr, 10);
          need = end + 4 + len;
          head_ = in.substr(0, end + 4);
        }
      }
      if (need != std::string::npos && in.size() >= need) break;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      in.append(buf, static_cast<size_t>(n));
    }
    if (need != std::string::npos && in.size() >= need) body_ = in.substr(head_.size());
    done_ = true;
    std::string_view out = response_;
    while (!out.empty()) {
      ssize_t n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      if (n <= 0) break;
      out.remove_prefix(static_cast<size_t>(n));
    }
    ::shutdown(fd, SHUT_WR);
    ::close(fd);
  }

  std::string response_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  std::string head_, body_;
};

// ---- services -----------------------------------------------------------------------------------

// How many requests the simulator process `sim` parsed for `model` (its /sim/stats by_model).
inline int64_t SimModelCalls(const Service& sim, std::string_view model) {
  json::value v = ParseJson(Http("GET", sim.base_url + "/sim/stats").body);
  const json::value* by_model = v.is_object() ? v.get_object().if_contains("by_model") : nullptr;
  if (by_model == nullptr || !by_model->is_object()) return 0;
  const json::value* n = by_model->get_object().if_contains(model);
  return n != nullptr && n->is_int64() ? n->get_int64() : 0;
}

// A gateway whose `openai` provider is the simulator process `sim` (model gpt-4o-mini).
inline Service StartGatewayOnSim(const Service& sim, std::vector<std::string> args = {}) {
  return StartGateway(std::move(args),
                      {{"OPENAI_BASE_URL", sim.base_url + "/v1"}, {"OPENAI_API_KEY", "sk-test"}});
}

// The gateway's JSON request-log line (stderr) for `request_id`, or null when none arrives within
// `timeout` (the line is written after the answer has left).
inline json::value RequestLogLine(const Service& gw, const std::string& request_id,
                                  std::chrono::milliseconds timeout = 2s) {
  json::value found;
  Eventually(
      [&] {
        const std::string tail = gw.process->stderr_tail();
        size_t pos = 0;
        while (pos < tail.size()) {
          size_t end = tail.find('\n', pos);
          if (end == std::string::npos) end = tail.size();
          std::string_view line(tail.data() + pos, end - pos);
          pos = end + 1;
          if (line.find(request_id) == std::string_view::npos) continue;
          json::value v = ParseJson(line);
          if (v.is_object() && v.get_object().contains("request_id") &&
              Str(v.at("request_id")) == request_id) {
            found = v;
            return true;
          }
        }
        return false;
      },
      timeout);
  return found;
}

// ---- virtual keys (issue 7) --------------------------------------------------------------------

// `Authorization: Bearer <key>`; no header for an empty key.
inline HeaderList Bearer(const std::string& key) {
  if (key.empty()) return {};
  return {{"authorization", "Bearer " + key}};
}

// The `error.code` of an OpenAI-style error body, or a marker saying what was there instead.
inline std::string ErrorCode(const HttpResult& r) {
  json::value v = ParseJson(r.body);
  if (!v.is_object()) return "<no json>";
  const auto* e = v.as_object().if_contains("error");
  if (!e || !e->is_object()) return "<no error>";
  const auto* c = e->as_object().if_contains("code");
  return c && c->is_string() ? std::string(c->as_string()) : "<no code>";
}

struct NewKey {
  std::string key, id;
};

// POST /admin/keys with `attributes` (a JSON object) under `master`; the secret and the id.
inline NewKey CreateKey(const Service& gw, const std::string& master,
                        const std::string& attributes) {
  HttpResult r = Http("POST", gw.base_url + "/admin/keys", attributes, Bearer(master), 20s);
  EXPECT_EQ(r.status, 201) << r.body;
  json::value v = ParseJson(r.body);
  if (!v.is_object()) return {};
  return {Str(v.at("key")), Str(v.at("id"))};
}

}  // namespace modelmux::testing
