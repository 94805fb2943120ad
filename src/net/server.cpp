#include "net/server.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <mutex>
#include <unordered_map>

#include "net/event_loops.hpp"

namespace modelmux::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto kNoThrow = asio::as_tuple(use_awaitable);

std::string_view ServerRequest::path() const {
  std::string_view t = target;
  return t.substr(0, t.find('?'));
}

std::string_view ServerRequest::query() const {
  std::string_view t = target;
  auto q = t.find('?');
  return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  EventLoops& loops;
  ServerOptions options;
  Handler handler;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::atomic<uint16_t> bound_port{0};
  std::atomic<bool> stopping{false};
  std::atomic<size_t> in_flight{0};
  std::atomic<size_t> connections{0};
  std::mutex ip_mu;
  std::unordered_map<std::string, size_t> per_ip;

  Impl(EventLoops& l, ServerOptions o, Handler h)
      : loops(l), options(std::move(o)), handler(std::move(h)) {}

  bool AdmitIp(const std::string& ip) {
    std::lock_guard lock(ip_mu);
    auto& n = per_ip[ip];
    if (n >= options.max_connections_per_ip) return false;
    ++n;
    return true;
  }
  void ReleaseIp(const std::string& ip) {
    std::lock_guard lock(ip_mu);
    auto it = per_ip.find(ip);
    if (it != per_ip.end() && --it->second == 0) per_ip.erase(it);
  }
};

namespace {

// A TCP socket with coarse, lazy timeouts for Beast's algorithms. Setting a deadline is a store;
// one watchdog coroutine per connection wakes every `tick` and closes the socket once the
// deadline has passed (the pending operation then fails). Beast's tcp_stream instead arms and
// cancels a timer around every single read and write, a system call each time on a busy loop.
class TimedSocket {
 public:
  using executor_type = tcp::socket::executor_type;
  using Clock = std::chrono::steady_clock;

  TimedSocket(tcp::socket socket, std::chrono::milliseconds tick)
      : state_(std::make_shared<State>(std::move(socket), tick)) {
    asio::co_spawn(state_->socket.get_executor(), Watch(state_), asio::detached);
  }
  ~TimedSocket() {
    state_->finished = true;
    state_->timer.cancel();
  }
  TimedSocket(const TimedSocket&) = delete;
  TimedSocket& operator=(const TimedSocket&) = delete;

  executor_type get_executor() { return state_->socket.get_executor(); }
  tcp::socket& socket() { return state_->socket; }
  void expires_after(std::chrono::milliseconds d) { state_->deadline = Clock::now() + d; }
  void expires_never() { state_->deadline = Clock::time_point::max(); }
  [[nodiscard]] bool timed_out() const { return state_->timed_out; }
  // While a handler runs, the watchdog also looks for a peer close at each tick (one
  // non-blocking peek per tick, not per request) and cancels `gone` when it sees one.
  void WatchPeer(asio::steady_timer* gone) { state_->peer_gone = gone; }

  template <class Buffers, class Token>
  auto async_read_some(const Buffers& b, Token&& token) {
    return state_->socket.async_read_some(b, std::forward<Token>(token));
  }
  template <class Buffers, class Token>
  auto async_write_some(const Buffers& b, Token&& token) {
    return state_->socket.async_write_some(b, std::forward<Token>(token));
  }

 private:
  struct State {
    State(tcp::socket s, std::chrono::milliseconds t)
        : socket(std::move(s)), timer(socket.get_executor()), tick(t) {}
    tcp::socket socket;
    asio::steady_timer timer;
    std::chrono::milliseconds tick;
    Clock::time_point deadline = Clock::time_point::max();
    bool finished = false;
    bool timed_out = false;
    asio::steady_timer* peer_gone = nullptr;
  };

  // True if the peer has closed or reset the connection. Pipelined bytes do not count: they
  // stay in the socket for the next request.
  static bool PeerClosed(tcp::socket& socket) {
    char c;
    const ssize_t n = ::recv(socket.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
  }

  static awaitable<void> Watch(std::shared_ptr<State> st) {
    while (!st->finished) {
      st->timer.expires_after(st->tick);
      auto [ec] = co_await st->timer.async_wait(kNoThrow);
      if (st->finished) break;
      if (st->peer_gone && PeerClosed(st->socket)) {
        st->peer_gone->cancel();
        st->peer_gone = nullptr;
      }
      if (Clock::now() >= st->deadline) {
        st->timed_out = true;
        beast::error_code ignored;
        st->socket.shutdown(tcp::socket::shutdown_both, ignored);
        st->socket.close(ignored);
        break;
      }
    }
  }

  std::shared_ptr<State> state_;
};

class SessionWriter final : public ResponseWriter {
 public:
  SessionWriter(TimedSocket& stream, bool keep_alive, unsigned version,
                const ServerOptions& options, bool head_only)
      : stream_(stream),
        keep_alive_(keep_alive),
        version_(version),
        options_(options),
        head_only_(head_only) {}

  awaitable<Status> Send(int status, Headers headers, std::string body) override {
    if (started_) co_return Internal("response already started");
    started_ = true;
    http::response<http::string_body> res{static_cast<http::status>(status), version_};
    res.set(http::field::server, options_.server_name);
    for (auto& [k, v] : headers) res.insert(k, v);
    res.keep_alive(keep_alive_);
    res.body() = std::move(body);
    res.prepare_payload();
    stream_.expires_after(options_.write_timeout);
    beast::error_code ec;
    if (head_only_) {
      http::response_serializer<http::string_body> sr{res};
      std::tie(ec, std::ignore) = co_await http::async_write_header(stream_, sr, kNoThrow);
    } else {
      std::tie(ec, std::ignore) = co_await http::async_write(stream_, res, kNoThrow);
    }
    stream_.expires_never();
    if (ec) {
      broken_ = true;
      co_return Error{ErrorKind::kCancelled, "client gone: " + ec.message()};
    }
    complete_ = true;
    co_return OkStatus();
  }

  awaitable<Status> StartStream(int status, Headers headers) override {
    if (started_) co_return Internal("response already started");
    started_ = true;
    streaming_ = true;
    http::response<http::empty_body> res{static_cast<http::status>(status), version_};
    res.set(http::field::server, options_.server_name);
    for (auto& [k, v] : headers) res.insert(k, v);
    res.keep_alive(keep_alive_);
    if (version_ >= 11) {
      res.chunked(true);
    } else {
      keep_alive_ = false;  // HTTP/1.0: the body ends at close
      res.keep_alive(false);
    }
    http::response_serializer<http::empty_body> sr{res};
    stream_.expires_after(options_.write_timeout);
    auto [ec, n] = co_await http::async_write_header(stream_, sr, kNoThrow);
    stream_.expires_never();
    if (ec) {
      broken_ = true;
      co_return Error{ErrorKind::kCancelled, "client gone: " + ec.message()};
    }
    co_return OkStatus();
  }

  awaitable<Status> Write(std::string_view data) override {
    if (!streaming_ || broken_) co_return Error{ErrorKind::kCancelled, "stream not writable"};
    if (data.empty()) co_return OkStatus();
    beast::error_code ec;
    stream_.expires_after(options_.write_timeout);
    if (version_ >= 11) {
      std::tie(ec, std::ignore) = co_await asio::async_write(
          stream_, http::make_chunk(asio::const_buffer(data.data(), data.size())), kNoThrow);
    } else {
      std::tie(ec, std::ignore) = co_await asio::async_write(
          stream_, asio::const_buffer(data.data(), data.size()), kNoThrow);
    }
    stream_.expires_never();
    if (ec) {
      broken_ = true;
      co_return Error{ErrorKind::kCancelled, "client gone: " + ec.message()};
    }
    co_return OkStatus();
  }

  awaitable<Status> Finish() override {
    if (!streaming_ || broken_) co_return Error{ErrorKind::kCancelled, "stream not writable"};
    if (version_ >= 11) {
      stream_.expires_after(options_.write_timeout);
      auto [ec, n] = co_await asio::async_write(stream_, http::make_chunk_last(), kNoThrow);
      stream_.expires_never();
      if (ec) {
        broken_ = true;
        co_return Error{ErrorKind::kCancelled, "client gone: " + ec.message()};
      }
    }
    complete_ = true;
    co_return OkStatus();
  }

  bool started() const override { return started_; }

  void Abort() override {
    broken_ = true;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  bool complete() const { return complete_; }
  bool broken() const { return broken_; }
  bool keep_alive() const { return keep_alive_; }

 private:
  TimedSocket& stream_;
  bool keep_alive_;
  unsigned version_;
  const ServerOptions& options_;
  bool head_only_;
  bool started_ = false;
  bool streaming_ = false;
  bool complete_ = false;
  bool broken_ = false;
};

awaitable<void> WriteSimpleError(TimedSocket& stream, http::status status, std::string_view message,
                                 unsigned version) {
  http::response<http::string_body> res{status, version};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::connection, "close");
  res.keep_alive(false);
  std::string body = R"({"error":{"message":")";
  body += message;
  body += R"(","type":"invalid_request_error","param":null,"code":")";
  switch (status) {
    case http::status::payload_too_large:
      body += "payload_too_large";
      break;
    case http::status::request_header_fields_too_large:
      body += "headers_too_large";
      break;
    default:
      body += "invalid_request";
      break;
  }
  body += R"("}})";
  res.body() = std::move(body);
  res.prepare_payload();
  stream.expires_after(std::chrono::seconds(5));
  co_await http::async_write(stream, res, kNoThrow);
}

// Size of a request head as it arrived on the wire (request line, fields, CRLFs).
size_t HeadBytes(const http::request<http::string_body>& head) {
  size_t n = head.method_string().size() + head.target().size() + 12;  // " ", " HTTP/1.1\r\n"
  for (const auto& f : head) n += f.name_string().size() + f.value().size() + 4;  // ": ", CRLF
  return n + 2;
}

// A request head that could smuggle a second request past a proxy is refused.
std::string_view SmugglingProblem(const http::request_parser<http::string_body>& parser) {
  const auto& h = parser.get();
  size_t cl = 0, te = 0;
  std::string_view first_cl;
  for (const auto& f : h) {
    if (f.name() == http::field::content_length) {
      if (cl++ && f.value() != first_cl) return "conflicting Content-Length headers";
      first_cl = f.value();
    } else if (f.name() == http::field::transfer_encoding) {
      ++te;
    }
    for (char c : f.value()) {
      if (c == '\r' || c == '\n') return "line folding in a header value";
    }
  }
  if (cl && te) return "both Content-Length and Transfer-Encoding";
  return {};
}

awaitable<void> Session(std::shared_ptr<Server::Impl> impl, tcp::socket socket) {
  std::string ip;
  {
    beast::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    if (ec) co_return;
    ip = ep.address().to_string();
    if (!impl->AdmitIp(ip)) {
      socket.close(ec);
      co_return;
    }
  }
  impl->connections.fetch_add(1, std::memory_order_relaxed);
  socket.set_option(tcp::no_delay(true));
  const auto peer = socket.remote_endpoint().address();
  const auto tick = std::clamp(std::min({impl->options.header_timeout, impl->options.idle_timeout,
                                         impl->options.write_timeout, impl->options.body_timeout}) /
                                   4,
                               std::chrono::milliseconds(5), std::chrono::milliseconds(500));
  TimedSocket stream(std::move(socket), tick);
  beast::flat_buffer buffer;
  buffer.reserve(16 * 1024);
  const auto& opt = impl->options;
  bool first = true;

  while (!impl->stopping.load(std::memory_order_relaxed)) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(opt.header_limit));
    parser.body_limit(boost::none);  // set per path once the target is known
    beast::error_code ec;

    // Wait for the first byte of the next request under the idle timeout, then give the whole
    // head the header timeout (slow-header clients are cut there).
    if (buffer.size() == 0) {
      stream.expires_after(first ? opt.header_timeout : opt.idle_timeout);
      size_t n;
      std::tie(ec, n) = co_await stream.async_read_some(buffer.prepare(16 * 1024), kNoThrow);
      if (ec) break;
      buffer.commit(n);
    }
    first = false;
    stream.expires_after(opt.header_timeout);
    std::tie(ec, std::ignore) = co_await http::async_read_header(stream, buffer, parser, kNoThrow);
    if (ec) {
      if (ec == http::error::header_limit) {
        co_await WriteSimpleError(stream, http::status::request_header_fields_too_large,
                                  "request header block too large", 11);
      } else if (!stream.timed_out() && ec != http::error::end_of_stream &&
                 ec != asio::error::eof && ec != asio::error::connection_reset &&
                 ec != asio::error::operation_aborted) {
        co_await WriteSimpleError(stream, http::status::bad_request,
                                  "malformed HTTP request: " + ec.message(), 11);
      }
      break;
    }
    auto& head = parser.get();
    const unsigned version = head.version() >= 11 ? 11 : 10;
    // Beast bounds the head only approximately (by the read that crosses the limit); the limit
    // itself is ours to enforce, exactly.
    if (HeadBytes(head) > opt.header_limit) {
      co_await WriteSimpleError(stream, http::status::request_header_fields_too_large,
                                "request header block too large", version);
      break;
    }
    if (auto problem = SmugglingProblem(parser); !problem.empty()) {
      co_await WriteSimpleError(stream, http::status::bad_request, problem, version);
      break;
    }
    std::string_view target = head.target();
    std::string_view path = target.substr(0, target.find('?'));
    const size_t limit = opt.body_limit ? opt.body_limit(path) : (1u << 20);
    if (auto len = parser.content_length(); len && *len > limit) {
      co_await WriteSimpleError(stream, http::status::payload_too_large,
                                "request body of " + std::to_string(*len) +
                                    " bytes is over the limit of " + std::to_string(limit),
                                version);
      break;
    }
    parser.body_limit(limit);
    if (beast::iequals(head[http::field::expect], "100-continue") && !parser.is_done()) {
      http::response<http::empty_body> cont{http::status::continue_, version};
      stream.expires_after(opt.write_timeout);
      std::tie(ec, std::ignore) = co_await http::async_write(stream, cont, kNoThrow);
      if (ec) break;
    }
    if (!parser.is_done()) {
      stream.expires_after(opt.body_timeout);
      std::tie(ec, std::ignore) = co_await http::async_read(stream, buffer, parser, kNoThrow);
      if (ec) {
        if (ec == http::error::body_limit) {
          co_await WriteSimpleError(stream, http::status::payload_too_large,
                                    "request body over the limit of " + std::to_string(limit),
                                    version);
        } else if (!stream.timed_out() && ec != http::error::end_of_stream &&
                   ec != asio::error::eof && ec != asio::error::operation_aborted) {
          co_await WriteSimpleError(stream, http::status::bad_request,
                                    "malformed request body: " + ec.message(), version);
        }
        break;
      }
    }
    stream.expires_never();

    ServerRequest req;
    req.received = std::chrono::steady_clock::now();
    req.method = std::string(head.method_string());
    req.target = std::string(target);
    req.version = version;
    req.peer = peer;
    for (const auto& f : head)
      req.headers.Add(std::string(f.name_string()), std::string(f.value()));
    const bool keep_alive = head.keep_alive() && !impl->stopping.load(std::memory_order_relaxed);
    req.body = std::move(head.body());

    SessionWriter writer(stream, keep_alive, version, opt, req.method == "HEAD");
    impl->in_flight.fetch_add(1, std::memory_order_relaxed);
    try {
      using namespace asio::experimental::awaitable_operators;
      // The handler is cancelled when the client goes away: the watchdog cancels `gone`.
      asio::steady_timer gone(stream.get_executor(), asio::steady_timer::time_point::max());
      stream.WatchPeer(&gone);
      co_await (impl->handler(req, writer) || gone.async_wait(kNoThrow));
      stream.WatchPeer(nullptr);
    } catch (const std::exception&) {
      // A handler bug must not take the connection's other requests or the process with it.
    }
    impl->in_flight.fetch_sub(1, std::memory_order_relaxed);
    if (!writer.started() && !writer.broken() && stream.socket().is_open()) {
      Headers h;
      h.Add("content-type", "application/json");
      (void)co_await writer.Send(
          500, std::move(h),
          R"({"error":{"message":"the request ended without a response","type":"server_error","param":null,"code":"internal_error"}})");
    }
    if (writer.broken() || !writer.complete() || !writer.keep_alive()) break;
  }
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.socket().close(ec);
  impl->connections.fetch_sub(1, std::memory_order_relaxed);
  impl->ReleaseIp(ip);
}

awaitable<void> AcceptLoop(std::shared_ptr<Server::Impl> impl, tcp::acceptor* acceptor) {
  while (!impl->stopping.load()) {
    auto [ec, socket] = co_await acceptor->async_accept(kNoThrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) break;
      // EMFILE and friends: back off briefly instead of spinning.
      asio::steady_timer t(acceptor->get_executor(), std::chrono::milliseconds(50));
      co_await t.async_wait(kNoThrow);
      continue;
    }
    if (impl->connections.load(std::memory_order_relaxed) >= impl->options.max_connections) {
      beast::error_code ignored;
      socket.close(ignored);
      continue;
    }
    asio::co_spawn(acceptor->get_executor(), Session(impl, std::move(socket)), asio::detached);
  }
}

}  // namespace

Server::Server(EventLoops& loops, ServerOptions options, Handler handler)
    : impl_(std::make_shared<Impl>(loops, std::move(options), std::move(handler))) {}

Server::~Server() {
  StopAccepting();
}

Status Server::Listen() {
  beast::error_code ec;
  auto addr = asio::ip::make_address(impl_->options.host, ec);
  if (ec) return InvalidRequest("bad listen address '" + impl_->options.host + "'", "host");
  uint16_t port = impl_->options.port;
  for (size_t i = 0; i < impl_->loops.size(); ++i) {
    auto acc = std::make_unique<tcp::acceptor>(impl_->loops.loop(i));
    tcp::endpoint ep(addr, port);
    acc->open(ep.protocol(), ec);
    if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) {
      int one = 1;
      if (::setsockopt(acc->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
        ec = beast::error_code(errno, boost::system::system_category());
      }
    }
    if (!ec) acc->bind(ep, ec);
    if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      Error e;
      e.kind = ErrorKind::kUnavailable;
      e.message = "cannot listen on " + impl_->options.host + ":" + std::to_string(port) + ": " +
                  ec.message();
      e.code = "listen_failed";
      return e;
    }
    if (port == 0) port = acc->local_endpoint().port();
    impl_->acceptors.push_back(std::move(acc));
  }
  impl_->bound_port = port;
  for (auto& acc : impl_->acceptors) {
    asio::co_spawn(acc->get_executor(), AcceptLoop(impl_, acc.get()), asio::detached);
  }
  return OkStatus();
}

uint16_t Server::port() const {
  return impl_->bound_port.load();
}
std::string Server::host() const {
  return impl_->options.host;
}

void Server::StopAccepting() {
  if (impl_->stopping.exchange(true)) return;
  for (auto& acc : impl_->acceptors) {
    asio::post(acc->get_executor(), [impl = impl_, a = acc.get()] {
      beast::error_code ec;
      a->close(ec);
    });
  }
}

size_t Server::in_flight() const {
  return impl_->in_flight.load();
}
size_t Server::connections() const {
  return impl_->connections.load();
}

}  // namespace modelmux::net
