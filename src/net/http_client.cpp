#include "net/http_client.hpp"

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <cstdlib>
#include <unordered_map>

#include "net/url.hpp"

namespace modelmux::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using Clock = std::chrono::steady_clock;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

namespace {

std::string EnvAny(const char* upper, const char* lower) {
  if (const char* v = std::getenv(upper); v && *v) return v;
  if (const char* v = std::getenv(lower); v && *v) return v;
  return {};
}

Error NetError(ErrorKind kind, std::string message) {
  Error e;
  e.kind = kind;
  e.message = std::move(message);
  e.code = kind == ErrorKind::kTimeout ? "upstream_timeout" : "upstream_connection_error";
  return e;
}

Error FromEc(const beast::error_code& ec, std::string_view what) {
  if (ec == beast::error::timeout)
    return NetError(ErrorKind::kTimeout, std::string(what) + " timed out");
  if (ec == asio::error::operation_aborted) {
    return NetError(ErrorKind::kCancelled, std::string(what) + " cancelled");
  }
  return NetError(ErrorKind::kUpstreamError, std::string(what) + " failed: " + ec.message());
}

bool NoProxyMatches(std::string_view no_proxy, std::string_view host);

// Basic credentials for a proxy URL's userinfo.
std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

}  // namespace

ProxyOptions ProxyOptions::FromEnvironment() {
  ProxyOptions p;
  p.http_proxy = EnvAny("HTTP_PROXY", "http_proxy");
  p.https_proxy = EnvAny("HTTPS_PROXY", "https_proxy");
  p.no_proxy = EnvAny("NO_PROXY", "no_proxy");
  return p;
}

// One connection: plain TCP or TLS over TCP, with its read buffer.
class ClientConnection {
 public:
  ClientConnection(asio::any_io_executor ex, std::string key) : key_(std::move(key)), tcp_(ex) {
    // Beast reads at most the buffer's free capacity per call: without this a streamed answer
    // arrives 512 bytes per system call.
    buffer_.reserve(16 * 1024);
  }

  // Arms the connection's timer for `deadline`. Re-arming costs a system call whenever the
  // timer is the earliest, so a later deadline that is close to the armed one is left as is:
  // the timer then fires at most a tenth of the timeout (and at most 1 s) early.
  void Arm(Clock::time_point deadline) {
    const auto now = Clock::now();
    if (deadline >= armed_ && armed_ > now) {
      const auto slack = std::min<Clock::duration>(std::chrono::seconds(1), (deadline - now) / 10);
      if (deadline - armed_ <= slack) return;
    }
    tcp().expires_at(deadline);
    armed_ = deadline;
  }
  void Disarm() {
    tcp().expires_never();
    armed_ = Clock::time_point::max();
  }

  beast::tcp_stream& tcp() { return tls_ ? beast::get_lowest_layer(*tls_) : tcp_; }
  const std::string& key() const { return key_; }
  beast::flat_buffer& buffer() { return buffer_; }

  void UseTls(ssl::context& ctx) {
    tls_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(tcp_), ctx);
  }
  beast::ssl_stream<beast::tcp_stream>* tls() { return tls_.get(); }

  template <class F>
  auto With(F&& f) {
    if (tls_) return f(*tls_);
    return f(tcp_);
  }

  // True if the peer has closed (or sent unexpected bytes on) an idle pooled connection.
  bool LooksStale() {
    if (buffer_.size() != 0) return true;
    char c;
    ssize_t n = ::recv(tcp().socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return true;
    if (n > 0) return true;  // bytes nobody asked for
    return !(errno == EAGAIN || errno == EWOULDBLOCK);
  }

  void Close() {
    beast::error_code ec;
    tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
    tcp().socket().close(ec);
  }

  Clock::time_point idle_since{};
  bool reused = false;

 private:
  Clock::time_point armed_ = Clock::time_point::max();
  std::string key_;
  beast::tcp_stream tcp_;
  beast::flat_buffer buffer_;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls_;
};

struct HttpClient::Impl {
  asio::any_io_executor executor;
  // The TLS context is built on the first https call: loading the system's CA store costs
  // hundreds of millions of instructions, which a plain-http upstream never needs.
  std::unique_ptr<ssl::context> tls_ctx;
  std::string tls_error;
  TlsOptions tls_options;
  ProxyOptions proxy;
  tcp::resolver resolver;
  std::unordered_map<std::string, std::vector<std::unique_ptr<ClientConnection>>> idle;
  size_t opened = 0;
  static constexpr size_t kMaxIdlePerHost = 256;
  static constexpr auto kMaxIdleAge = std::chrono::seconds(50);
  static constexpr auto kStaleCheckAfter = std::chrono::milliseconds(50);

  Impl(asio::any_io_executor ex, const TlsOptions& tls, ProxyOptions p)
      : executor(ex), tls_options(tls), proxy(std::move(p)), resolver(ex) {}

  ssl::context* Tls() {
    if (tls_ctx) return tls_ctx.get();
    tls_ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    auto& ctx = *tls_ctx;
    const auto& tls = tls_options;
    beast::error_code ec;
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    if (tls.verify_peer) {
      ctx.set_verify_mode(ssl::verify_peer);
      if (!tls.ca_file.empty()) {
        ctx.load_verify_file(tls.ca_file, ec);
      } else {
        ctx.set_default_verify_paths(ec);
      }
      if (ec) tls_error = "cannot load CA bundle: " + ec.message();
    } else {
      ctx.set_verify_mode(ssl::verify_none);
    }
    if (!tls.client_cert_file.empty()) {
      ctx.use_certificate_chain_file(tls.client_cert_file, ec);
      if (!ec) ctx.use_private_key_file(tls.client_key_file, ssl::context::pem, ec);
      if (ec) tls_error = "cannot load client certificate: " + ec.message();
    }
    return tls_ctx.get();
  }

  // A URL split into what a call needs, with its proxy decision and pool key. Upstream calls go
  // to a handful of URLs, so each is parsed once per client, not once per call.
  struct Target {
    Url url;
    std::optional<Url> proxy;
    std::string key;
  };
  std::unordered_map<std::string, std::unique_ptr<Target>> targets;

  Result<const Target*> Resolve(const std::string& text) {
    if (auto it = targets.find(text); it != targets.end()) return it->second.get();
    auto parsed = ParseUrl(text);
    if (!parsed.ok()) return parsed.error();
    auto t = std::make_unique<Target>();
    t->url = std::move(parsed).value();
    const bool https = t->url.scheme == "https";
    const std::string& proxy_url = https ? proxy.https_proxy : proxy.http_proxy;
    if (!proxy_url.empty() && !NoProxyMatches(proxy.no_proxy, t->url.host)) {
      auto p = ParseUrl(proxy_url);
      if (!p.ok()) return InvalidRequest("bad proxy URL in the environment", "proxy");
      t->proxy = std::move(p).value();
    }
    t->key = t->url.scheme + "://" + t->url.host + ":" + t->url.port +
             (t->proxy ? "|" + t->proxy->host + ":" + t->proxy->port : "");
    if (targets.size() >= 1024) targets.clear();  // bounded: URLs with ids in them would grow it
    return targets.emplace(text, std::move(t)).first->second.get();
  }

  std::unique_ptr<ClientConnection> TakeIdle(const std::string& key) {
    auto it = idle.find(key);
    if (it == idle.end()) return nullptr;
    auto& list = it->second;
    const auto now = Clock::now();
    while (!list.empty()) {
      auto conn = std::move(list.back());
      list.pop_back();
      const auto idle_for = now - conn->idle_since;
      // A peer's close is looked for (one recv) only after a real idle period: a connection that
      // was in use a moment ago has not been timed out by its server.
      if (idle_for > kMaxIdleAge || (idle_for > kStaleCheckAfter && conn->LooksStale())) {
        conn->Close();
        continue;
      }
      conn->reused = true;
      return conn;
    }
    return nullptr;
  }

  void PutIdle(std::unique_ptr<ClientConnection> conn) {
    auto& list = idle[conn->key()];
    if (list.size() >= kMaxIdlePerHost) {
      conn->Close();
      return;
    }
    conn->idle_since = Clock::now();
    list.push_back(std::move(conn));
  }
};

struct ClientResponse::Reader {
  http::response_parser<http::buffer_body> parser;
  std::array<char, 16 * 1024> chunk;
  Clock::time_point deadline;
  std::chrono::milliseconds idle_timeout;
  HttpClient::Impl* pool = nullptr;  // connection goes back here when the body is complete
};

namespace {

std::chrono::milliseconds Until(Clock::time_point deadline, std::chrono::milliseconds cap) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left < std::chrono::milliseconds(1)) left = std::chrono::milliseconds(1);
  return std::min(left, cap);
}

bool NoProxyMatches(std::string_view no_proxy, std::string_view host) {
  size_t start = 0;
  while (start <= no_proxy.size()) {
    size_t comma = no_proxy.find(',', start);
    std::string_view item =
        no_proxy.substr(start, comma == std::string_view::npos ? comma : comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (auto colon = item.rfind(':'); colon != std::string_view::npos &&
                                      item.find(']') == std::string_view::npos &&
                                      item.find(':') == colon) {
      item = item.substr(0, colon);  // host:port form: ports are ignored
    }
    if (item == "*") return true;
    if (!item.empty()) {
      if (item.front() == '.') item.remove_prefix(1);
      if (IEquals(host, item)) return true;
      if (host.size() > item.size() && host[host.size() - item.size() - 1] == '.' &&
          IEquals(host.substr(host.size() - item.size()), item)) {
        return true;
      }
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return false;
}

awaitable<Status> Connect(HttpClient::Impl& impl, ClientConnection& conn, const std::string& host,
                          const std::string& port, Clock::time_point deadline,
                          std::chrono::milliseconds connect_timeout) {
  auto [ec, results] = co_await impl.resolver.async_resolve(host, port, kNoThrow);
  if (ec)
    co_return NetError(ErrorKind::kUpstreamError, "cannot resolve " + host + ": " + ec.message());
  conn.tcp().expires_after(Until(deadline, connect_timeout));
  std::tie(ec, std::ignore) = co_await conn.tcp().async_connect(results, kNoThrow);
  if (ec) co_return FromEc(ec, "connect to " + host + ":" + port);
  conn.tcp().socket().set_option(tcp::no_delay(true));
  ++impl.opened;
  co_return OkStatus();
}

// Opens a tunnel through an HTTP proxy with CONNECT.
awaitable<Status> ProxyConnect(ClientConnection& conn, const Url& proxy, const std::string& host,
                               const std::string& port, Clock::time_point deadline,
                               std::chrono::milliseconds timeout) {
  http::request<http::empty_body> req{http::verb::connect, host + ":" + port, 11};
  req.set(http::field::host, host + ":" + port);
  if (!proxy.userinfo.empty()) {
    req.set(http::field::proxy_authorization, "Basic " + Base64(proxy.userinfo));
  }
  conn.tcp().expires_after(Until(deadline, timeout));
  auto [ec, n] = co_await http::async_write(conn.tcp(), req, kNoThrow);
  if (ec) co_return FromEc(ec, "proxy CONNECT");
  http::response_parser<http::empty_body> parser;
  parser.skip(true);  // a CONNECT response has no body
  std::tie(ec, n) = co_await http::async_read_header(conn.tcp(), conn.buffer(), parser, kNoThrow);
  if (ec) co_return FromEc(ec, "proxy CONNECT response");
  if (parser.get().result_int() / 100 != 2) {
    co_return NetError(ErrorKind::kUpstreamError, "proxy refused CONNECT with status " +
                                                      std::to_string(parser.get().result_int()));
  }
  co_return OkStatus();
}

}  // namespace

HttpClient::HttpClient(asio::any_io_executor executor, TlsOptions tls, ProxyOptions proxy)
    : impl_(std::make_unique<Impl>(std::move(executor), tls, std::move(proxy))) {}

HttpClient::~HttpClient() {
  for (auto& [k, list] : impl_->idle) {
    for (auto& c : list) c->Close();
  }
}

size_t HttpClient::idle_connections() const {
  size_t n = 0;
  for (auto& [k, list] : impl_->idle) n += list.size();
  return n;
}
size_t HttpClient::connections_opened() const {
  return impl_->opened;
}

awaitable<Result<std::unique_ptr<ClientResponse>>> HttpClient::Send(ClientRequest request,
                                                                    ClientOptions options) {
  auto& impl = *impl_;
  const auto deadline = Clock::now() + options.total_timeout;
  auto target = impl.Resolve(request.url);
  if (!target.ok()) co_return target.error();
  const Url& url = (*target)->url;
  const std::optional<Url>& proxy = (*target)->proxy;
  const std::string& key = (*target)->key;
  const bool https = url.scheme == "https";
  if (https) {
    impl.Tls();
    if (!impl.tls_error.empty()) co_return NetError(ErrorKind::kUpstreamError, impl.tls_error);
  }

  http::request<http::string_body> req{http::string_to_verb(request.method),
                                       proxy && !https ? request.url : url.target, 11};
  req.set(http::field::host, url.HostHeader());
  for (auto& [k, v] : request.headers) req.insert(k, v);
  req.keep_alive(true);
  req.body() = std::move(request.body);
  req.prepare_payload();

  for (int attempt = 0;; ++attempt) {
    auto conn = impl.TakeIdle(key);
    if (!conn) {
      conn = std::make_unique<ClientConnection>(impl.executor, key);
      const std::string& chost = proxy ? proxy->host : url.host;
      const std::string& cport = proxy ? proxy->port : url.port;
      auto st = co_await Connect(impl, *conn, chost, cport, deadline, options.connect_timeout);
      if (!st.ok()) co_return st.error();
      if (proxy && https) {
        st = co_await ProxyConnect(*conn, *proxy, url.host, url.port, deadline,
                                   options.connect_timeout);
        if (!st.ok()) co_return st.error();
      }
      if (https) {
        conn->UseTls(*impl.Tls());
        auto* tls = conn->tls();
        if (!SSL_set_tlsext_host_name(tls->native_handle(), url.host.c_str())) {
          co_return NetError(ErrorKind::kUpstreamError, "cannot set TLS SNI");
        }
        tls->set_verify_callback(ssl::host_name_verification(url.host));
        conn->tcp().expires_after(Until(deadline, options.connect_timeout));
        auto [ec] = co_await tls->async_handshake(ssl::stream_base::client, kNoThrow);
        if (ec) co_return FromEc(ec, "TLS handshake with " + url.host);
      }
    }

    conn->Arm(Clock::now() + Until(deadline, options.first_byte_timeout));
    auto [wec, wn] =
        co_await conn->With([&](auto& s) { return http::async_write(s, req, kNoThrow); });
    if (wec) {
      conn->Close();
      // A reused connection that fails while we write was closed by the server before it saw
      // this request: try once more on a fresh connection.
      if (conn->reused && attempt == 0 && wec != asio::error::operation_aborted) continue;
      co_return FromEc(wec, "sending the request");
    }

    auto resp = std::unique_ptr<ClientResponse>(new ClientResponse());
    // Default-initialised on purpose: value-initialising would zero the 16 KiB chunk buffer.
    resp->reader_ = std::unique_ptr<ClientResponse::Reader>(new ClientResponse::Reader);
    auto& rd = *resp->reader_;
    rd.parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
    rd.parser.body_limit(boost::none);
    rd.deadline = deadline;
    rd.idle_timeout = options.idle_timeout;
    rd.pool = &impl;
    if (request.method == "HEAD") rd.parser.skip(true);

    conn->Arm(Clock::now() + Until(deadline, options.first_byte_timeout));
    auto [rec, rn] = co_await conn->With(
        [&](auto& s) { return http::async_read_header(s, conn->buffer(), rd.parser, kNoThrow); });
    if (rec) {
      conn->Close();
      co_return FromEc(rec, "reading the response head");
    }
    auto& head = rd.parser.get();
    resp->status_ = static_cast<int>(head.result_int());
    for (const auto& f : head)
      resp->headers_.Add(std::string(f.name_string()), std::string(f.value()));
    resp->conn_ = std::move(conn);
    if (rd.parser.is_done()) {
      resp->done_ = true;
      if (rd.parser.keep_alive()) {
        impl.PutIdle(std::move(resp->conn_));
      } else {
        resp->conn_->Close();
      }
    }
    co_return resp;
  }
}

void ClientResponse::Cancel() {
  if (conn_) conn_->Close();
}

ClientResponse::~ClientResponse() {
  if (conn_) conn_->Close();
}

awaitable<Result<std::string_view>> ClientResponse::ReadSome() {
  if (done_ || !conn_) co_return std::string_view{};
  auto& rd = *reader_;
  auto& body = rd.parser.get().body();
  body.data = rd.chunk.data();
  body.size = rd.chunk.size();
  conn_->Arm(Clock::now() + Until(rd.deadline, rd.idle_timeout));
  auto [ec, n] = co_await conn_->With(
      [&](auto& s) { return http::async_read_some(s, conn_->buffer(), rd.parser, kNoThrow); });
  if (ec && ec != http::error::need_buffer) {
    conn_->Close();
    conn_.reset();
    co_return FromEc(ec, "reading the response body");
  }
  const size_t got = rd.chunk.size() - body.size;
  if (rd.parser.is_done()) {
    done_ = true;
    conn_->Disarm();
    if (rd.parser.keep_alive()) {
      rd.pool->PutIdle(std::move(conn_));
    } else {
      conn_->Close();
      conn_.reset();
    }
    if (got == 0) co_return std::string_view{};
  }
  if (got == 0) {
    // need_buffer with nothing copied (chunk framing only): read again.
    co_return co_await ReadSome();
  }
  co_return std::string_view(rd.chunk.data(), got);
}

awaitable<Result<std::string>> ClientResponse::ReadAll(size_t limit) {
  std::string out;
  while (true) {
    auto piece = co_await ReadSome();
    if (!piece.ok()) co_return std::move(piece).error();
    if (piece->empty()) break;
    if (out.size() + piece->size() > limit) {
      if (conn_) {
        conn_->Close();
        conn_.reset();
      }
      co_return NetError(ErrorKind::kUpstreamError,
                         "response body over " + std::to_string(limit) + " bytes");
    }
    out.append(*piece);
  }
  co_return out;
}

}  // namespace modelmux::net
