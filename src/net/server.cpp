#include "net/server.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <mutex>
#include <unordered_map>

#include "net/event_loops.hpp"
#include "net/server_head.hpp"
#include "net/server_stream.hpp"
#include "net/server_tls.hpp"

namespace modelmux::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
using server_detail::kNoThrow;
using server_detail::SessionWriter;
using server_detail::TimedSocket;
using server_detail::WriteSimpleError;

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
  std::atomic<uint64_t> tls_handshake_failures{0};
  std::atomic<uint64_t> refused_per_ip{0};
  std::shared_ptr<ssl::context> tls;  // set by Listen() when a certificate is configured
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
      if (te++) return "more than one Transfer-Encoding header";
      if (!TransferEncodingIsChunkedOnly(f.value())) return "unsupported Transfer-Encoding";
    }
    for (char c : f.value()) {
      if (c == '\r' || c == '\n') return "line folding in a header value";
    }
  }
  if (cl && te) return "both Content-Length and Transfer-Encoding";
  return {};
}

// A read error that only means the peer went away (or a deadline cut it): no 400 for it.
bool QuietReadError(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
         ec == asio::error::bad_descriptor || ec == ssl::error::stream_truncated;
}

// The request loop of one connection, the same for plain TCP and TLS: `stream` carries the
// bytes, `timed` holds the deadlines and the socket underneath.
template <class Stream>
awaitable<void> ServeRequests(std::shared_ptr<Server::Impl> impl, TimedSocket& timed,
                              Stream& stream, asio::ip::address peer, bool first) {
  beast::flat_buffer buffer;
  buffer.reserve(16 * 1024);
  const auto& opt = impl->options;

  while (!impl->stopping.load(std::memory_order_relaxed)) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(opt.header_limit));
    parser.body_limit(boost::none);  // set per path once the target is known
    beast::error_code ec;

    // Wait for the first byte of the next request under the idle timeout, then give the whole
    // head the header timeout (slow-header clients are cut there).
    if (buffer.size() == 0) {
      timed.expires_after(first ? opt.header_timeout : opt.idle_timeout);
      size_t n;
      std::tie(ec, n) = co_await stream.async_read_some(buffer.prepare(16 * 1024), kNoThrow);
      if (ec) break;
      buffer.commit(n);
    }
    first = false;
    timed.expires_after(opt.header_timeout);
    // Strict framing first (net/server_head.hpp), then Beast parses the head now buffered.
    HeadScanResult scan;
    HeadScanState scan_state;
    while (true) {
      const auto bytes = buffer.data();
      scan = ScanRequestHead(std::string_view(static_cast<const char*>(bytes.data()), bytes.size()),
                             opt.header_limit, scan_state);
      if (scan.scan != HeadScan::kNeedMore) break;
      size_t n;
      std::tie(ec, n) = co_await stream.async_read_some(buffer.prepare(16 * 1024), kNoThrow);
      if (ec) break;
      buffer.commit(n);
    }
    if (ec) break;  // gone, or cut by the header timeout
    if (scan.scan == HeadScan::kTooLarge) {
      co_await WriteSimpleError(timed, stream, http::status::request_header_fields_too_large,
                                HeadScanProblem(scan.scan), 11);
      break;
    }
    if (scan.scan != HeadScan::kComplete) {
      co_await WriteSimpleError(timed, stream, http::status::bad_request,
                                HeadScanProblem(scan.scan), 11);
      break;
    }
    std::tie(ec, std::ignore) = co_await http::async_read_header(stream, buffer, parser, kNoThrow);
    if (ec) {
      if (ec == http::error::header_limit) {
        co_await WriteSimpleError(timed, stream, http::status::request_header_fields_too_large,
                                  "request header block too large", 11);
      } else if (!timed.timed_out() && !QuietReadError(ec)) {
        co_await WriteSimpleError(timed, stream, http::status::bad_request,
                                  "malformed HTTP request: " + ec.message(), 11);
      }
      break;
    }
    auto& head = parser.get();
    const unsigned version = head.version() >= 11 ? 11 : 10;
    // Beast bounds the head only approximately (by the read that crosses the limit); the limit
    // itself is ours to enforce, exactly.
    if (HeadBytes(head) > opt.header_limit) {
      co_await WriteSimpleError(timed, stream, http::status::request_header_fields_too_large,
                                "request header block too large", version);
      break;
    }
    if (static_cast<size_t>(std::distance(head.begin(), head.end())) > opt.max_header_fields) {
      co_await WriteSimpleError(timed, stream, http::status::request_header_fields_too_large,
                                "too many request header fields", version);
      break;
    }
    if (auto problem = SmugglingProblem(parser); !problem.empty()) {
      co_await WriteSimpleError(timed, stream, http::status::bad_request, problem, version);
      break;
    }
    std::string_view target = head.target();
    std::string_view path = target.substr(0, target.find('?'));
    const size_t limit = opt.body_limit ? opt.body_limit(path) : (1u << 20);
    if (auto len = parser.content_length(); len && *len > limit) {
      co_await WriteSimpleError(timed, stream, http::status::payload_too_large,
                                "request body of " + std::to_string(*len) +
                                    " bytes is over the limit of " + std::to_string(limit),
                                version);
      break;
    }
    parser.body_limit(limit);
    if (beast::iequals(head[http::field::expect], "100-continue") && !parser.is_done()) {
      http::response<http::empty_body> cont{http::status::continue_, version};
      timed.expires_after(opt.write_timeout);
      std::tie(ec, std::ignore) = co_await http::async_write(stream, cont, kNoThrow);
      if (ec) break;
    }
    if (!parser.is_done()) {
      timed.expires_after(opt.body_timeout);
      std::tie(ec, std::ignore) = co_await http::async_read(stream, buffer, parser, kNoThrow);
      if (ec) {
        if (ec == http::error::body_limit) {
          co_await WriteSimpleError(timed, stream, http::status::payload_too_large,
                                    "request body over the limit of " + std::to_string(limit),
                                    version);
        } else if (!timed.timed_out() && !QuietReadError(ec)) {
          co_await WriteSimpleError(timed, stream, http::status::bad_request,
                                    "malformed request body: " + ec.message(), version);
        }
        break;
      }
    }
    timed.expires_never();

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

    SessionWriter<Stream> writer(timed, stream, keep_alive, version, opt, req.method == "HEAD");
    impl->in_flight.fetch_add(1, std::memory_order_relaxed);
    try {
      using namespace asio::experimental::awaitable_operators;
      // The handler is cancelled when the client goes away: the watchdog cancels `gone`.
      asio::steady_timer gone(timed.get_executor(), asio::steady_timer::time_point::max());
      timed.WatchPeer(&gone);
      co_await (impl->handler(req, writer) || gone.async_wait(kNoThrow));
      timed.WatchPeer(nullptr);
    } catch (const std::exception&) {
      // A handler bug must not take the connection's other requests or the process with it.
    }
    impl->in_flight.fetch_sub(1, std::memory_order_relaxed);
    if (!writer.started() && !writer.broken() && timed.socket().is_open()) {
      Headers h;
      h.Add("content-type", "application/json");
      (void)co_await writer.Send(
          500, std::move(h),
          R"({"error":{"message":"the request ended without a response","type":"server_error","param":null,"code":"internal_error"}})");
    }
    if (writer.broken() || !writer.complete() || !writer.keep_alive()) break;
  }
}

awaitable<void> Session(std::shared_ptr<Server::Impl> impl, tcp::socket socket) {
  std::string ip;
  asio::ip::address peer;
  {
    beast::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    if (ec) co_return;
    peer = ep.address();
    ip = peer.to_string();
    if (!impl->AdmitIp(ip)) {
      impl->refused_per_ip.fetch_add(1, std::memory_order_relaxed);
      socket.close(ec);
      co_return;
    }
  }
  impl->connections.fetch_add(1, std::memory_order_relaxed);
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  const auto& opt = impl->options;
  const auto tick = std::clamp(
      std::min({opt.header_timeout, opt.idle_timeout, opt.write_timeout, opt.body_timeout,
                impl->tls ? opt.handshake_timeout : opt.idle_timeout}) /
          4,
      std::chrono::milliseconds(5), std::chrono::milliseconds(500));
  TimedSocket timed(std::move(socket), tick);

  if (!impl->tls) {
    co_await ServeRequests(impl, timed, timed, peer, true);
  } else {
    // The handshake has its own deadline; a failed one is counted and costs only this
    // connection (the loop never blocks on it).
    ssl::stream<TimedSocket&> tls(timed, *impl->tls);
    timed.expires_after(opt.handshake_timeout);
    auto [ec] = co_await tls.async_handshake(ssl::stream_base::server, kNoThrow);
    timed.expires_never();
    if (ec) {
      impl->tls_handshake_failures.fetch_add(1, std::memory_order_relaxed);
    } else {
      co_await ServeRequests(impl, timed, tls, peer, true);
      // close_notify, briefly: a peer that never answers does not hold the slot.
      if (timed.socket().is_open()) {
        timed.expires_after(std::chrono::milliseconds(500));
        co_await tls.async_shutdown(kNoThrow);
      }
    }
  }
  timed.socket().shutdown(tcp::socket::shutdown_send, ignored);
  timed.socket().close(ignored);
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
  if (!impl_->options.tls_cert_file.empty() || !impl_->options.tls_key_file.empty()) {
    auto ctx = MakeServerTlsContext(impl_->options.tls_cert_file, impl_->options.tls_key_file);
    if (!ctx.ok()) return ctx.error();
    impl_->tls = *ctx;
  }
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
bool Server::tls() const {
  return impl_->tls != nullptr;
}
uint64_t Server::tls_handshake_failures() const {
  return impl_->tls_handshake_failures.load();
}
uint64_t Server::refused_per_ip() const {
  return impl_->refused_per_ip.load();
}

}  // namespace modelmux::net
