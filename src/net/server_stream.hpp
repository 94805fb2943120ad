#pragma once
// Internal to net/server.cpp: the connection's socket with lazy deadlines (TimedSocket), the
// ResponseWriter over any stream on top of it (plain TCP or TLS), and the error replies the
// connection loop sends before it closes.

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <memory>

#include "net/server.hpp"

namespace modelmux::net::server_detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
inline constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// A TCP socket with coarse, lazy timeouts for Beast's algorithms. Setting a deadline is a store;
// one watchdog coroutine per connection wakes every `tick` and closes the socket once the
// deadline has passed (the pending operation then fails). Beast's tcp_stream instead arms and
// cancels a timer around every single read and write, a system call each time on a busy loop.
class TimedSocket {
 public:
  using executor_type = tcp::socket::executor_type;
  using lowest_layer_type = tcp::socket::lowest_layer_type;  // for ssl::stream<TimedSocket&>
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
  lowest_layer_type& lowest_layer() { return state_->socket.lowest_layer(); }
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
      co_await st->timer.async_wait(kNoThrow);  // woken early only to finish
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

// Writes responses on `Stream` (the TimedSocket itself, or TLS over it); deadlines and aborts go
// to the TimedSocket underneath.
template <class Stream>
class SessionWriter final : public ResponseWriter {
 public:
  SessionWriter(TimedSocket& timed, Stream& stream, bool keep_alive, unsigned version,
                const ServerOptions& options, bool head_only)
      : timed_(timed),
        stream_(stream),
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
    timed_.expires_after(options_.write_timeout);
    beast::error_code ec;
    if (head_only_) {
      http::response_serializer<http::string_body> sr{res};
      std::tie(ec, std::ignore) = co_await http::async_write_header(stream_, sr, kNoThrow);
    } else {
      std::tie(ec, std::ignore) = co_await http::async_write(stream_, res, kNoThrow);
    }
    timed_.expires_never();
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
    timed_.expires_after(options_.write_timeout);
    auto [ec, n] = co_await http::async_write_header(stream_, sr, kNoThrow);
    timed_.expires_never();
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
    timed_.expires_after(options_.write_timeout);
    if (version_ >= 11) {
      std::tie(ec, std::ignore) = co_await asio::async_write(
          stream_, http::make_chunk(asio::const_buffer(data.data(), data.size())), kNoThrow);
    } else {
      std::tie(ec, std::ignore) = co_await asio::async_write(
          stream_, asio::const_buffer(data.data(), data.size()), kNoThrow);
    }
    timed_.expires_never();
    if (ec) {
      broken_ = true;
      co_return Error{ErrorKind::kCancelled, "client gone: " + ec.message()};
    }
    co_return OkStatus();
  }

  awaitable<Status> Finish() override {
    if (!streaming_ || broken_) co_return Error{ErrorKind::kCancelled, "stream not writable"};
    if (version_ >= 11) {
      timed_.expires_after(options_.write_timeout);
      auto [ec, n] = co_await asio::async_write(stream_, http::make_chunk_last(), kNoThrow);
      timed_.expires_never();
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
    timed_.socket().shutdown(tcp::socket::shutdown_both, ec);
    timed_.socket().close(ec);
  }

  bool complete() const { return complete_; }
  bool broken() const { return broken_; }
  bool keep_alive() const { return keep_alive_; }

 private:
  TimedSocket& timed_;
  Stream& stream_;
  bool keep_alive_;
  unsigned version_;
  const ServerOptions& options_;
  bool head_only_;
  bool started_ = false;
  bool streaming_ = false;
  bool complete_ = false;
  bool broken_ = false;
};

template <class Stream>
awaitable<void> WriteSimpleError(TimedSocket& timed, Stream& stream, http::status status,
                                 std::string_view message, unsigned version) {
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
  timed.expires_after(std::chrono::seconds(5));
  co_await http::async_write(stream, res, kNoThrow);
}

}  // namespace modelmux::net::server_detail
