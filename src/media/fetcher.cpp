#include "media/fetcher.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <map>
#include <optional>

namespace modelmux::media {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using asio::awaitable;
using asio::ip::address;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

struct Fetcher::Impl {
  asio::any_io_executor executor;
  AddressPolicy policy;
  ResolveFn resolve;
  // TLS contexts by their options: loading a CA store is expensive, so each is built once.
  std::map<std::string, std::unique_ptr<ssl::context>> tls_contexts;
};

namespace {

Error Make(ErrorKind kind, std::string code, std::string message, const std::string& param) {
  Error e;
  e.kind = kind;
  e.code = std::move(code);
  e.message = std::move(message);
  e.param = param;
  return e;
}
Error Forbidden(std::string message, const std::string& param) {
  return Make(ErrorKind::kInvalidRequest, "url_forbidden", std::move(message), param);
}
Error FetchFailed(std::string message, const std::string& param, int status = 0) {
  Error e = Make(ErrorKind::kInvalidRequest, "media_fetch_failed", std::move(message), param);
  e.upstream_status = status;
  return e;
}
Error Timeout(const std::string& host, const std::string& param) {
  return Make(ErrorKind::kTimeout, "media_fetch_timeout",
              "fetching media from " + host + " timed out", param);
}
Error TooLarge(size_t cap, const std::string& param) {
  return Make(ErrorKind::kPayloadTooLarge, "media_too_large",
              "media is larger than " + std::to_string(cap) + " bytes", param);
}
Error FromEc(const beast::error_code& ec, std::string_view what, const std::string& host,
             const std::string& param) {
  if (ec == beast::error::timeout) return Timeout(host, param);
  if (ec == asio::error::operation_aborted) {
    return Make(ErrorKind::kCancelled, "cancelled", "media fetch cancelled", param);
  }
  return FetchFailed(std::string(what) + " " + host + " failed: " + ec.message(), param);
}

Clock::time_point Earliest(Clock::duration d, Clock::time_point deadline) {
  return std::min(Clock::now() + d, deadline);
}

bool IsRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// ---- DNS: once per hop, bounded by the total deadline -----------------------------------------

awaitable<Result<std::vector<address>>> SystemResolve(std::string host) {
  tcp::resolver resolver(co_await asio::this_coro::executor);
  auto [ec, results] = co_await resolver.async_resolve(host, "", kNoThrow);
  if (ec) co_return FetchFailed("cannot resolve " + host + ": " + ec.message(), "");
  std::vector<address> out;
  for (const auto& entry : results) {
    const address a = entry.endpoint().address();
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  }
  co_return out;
}

struct ResolveState {
  explicit ResolveState(asio::any_io_executor ex) : done(std::move(ex)) {}
  asio::steady_timer done;  // cancelled when the answer is in
  std::optional<Result<std::vector<address>>> answer;
};

awaitable<void> RunResolve(std::shared_ptr<ResolveState> state, ResolveFn fn, std::string host) {
  Result<std::vector<address>> r = Internal("resolver failed");
  try {
    r = co_await fn(std::move(host));
  } catch (const std::exception& e) {
    r = Internal(std::string("resolver failed: ") + e.what());
  }
  state->answer = std::move(r);
  state->done.cancel();
}

// Runs the resolver in its own coroutine so that a resolver that does not honour cancellation
// (getaddrinfo) still cannot hold the fetch past its deadline.
awaitable<Result<std::vector<address>>> ResolveOnce(const ResolveFn& fn, std::string host,
                                                    Clock::time_point deadline,
                                                    const std::string& param) {
  auto ex = co_await asio::this_coro::executor;
  auto state = std::make_shared<ResolveState>(ex);
  state->done.expires_at(deadline);
  asio::co_spawn(ex, RunResolve(state, fn, host), asio::detached);
  if (!state->answer) {
    auto [ec] = co_await state->done.async_wait(kNoThrow);
    if (!state->answer) {
      if (!ec) co_return Timeout(host, param);
      co_return Make(ErrorKind::kCancelled, "cancelled", "media fetch cancelled", param);
    }
  }
  auto answer = std::move(*state->answer);
  if (!answer.ok()) {
    Error e = std::move(answer).error();
    e.param = param;
    if (e.kind != ErrorKind::kTimeout && e.kind != ErrorKind::kCancelled) {
      e.kind = ErrorKind::kInvalidRequest;
      e.code = "media_fetch_failed";
    }
    co_return e;
  }
  co_return std::move(answer).value();
}

// ---- One HTTP exchange ------------------------------------------------------------------------

struct Hop {
  int status = 0;
  std::string location;
  std::string content_type;
  std::string body;
  address peer;
};

// Sends the GET and reads the answer: only the head for redirects and errors, the body (capped,
// sniffed) for 2xx.
template <class Stream>
awaitable<Result<Hop>> Exchange(Stream& stream, beast::tcp_stream& lowest, const net::Url& url,
                                const FetchOptions& options, Clock::time_point deadline,
                                const std::string& param) {
  const std::string& host = url.host;
  http::request<http::empty_body> req{http::verb::get, url.target, 11};
  req.set(http::field::host, url.HostHeader());
  req.set(http::field::user_agent, options.user_agent);
  req.set(http::field::accept, "*/*");
  req.set(http::field::accept_encoding, "identity");
  req.set(http::field::connection, "close");
  lowest.expires_at(Earliest(options.idle_timeout, deadline));
  auto [wec, wn] = co_await http::async_write(stream, req, kNoThrow);
  if (wec) co_return FromEc(wec, "sending the request to", host, param);

  beast::flat_buffer buffer;
  buffer.reserve(16 * 1024);
  http::response_parser<http::buffer_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(boost::none);  // the cap is ours, counted below
  lowest.expires_at(Earliest(options.idle_timeout, deadline));
  auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, kNoThrow);
  if (hec) co_return FromEc(hec, "reading the answer of", host, param);

  Hop hop;
  const auto& head = parser.get();
  hop.status = static_cast<int>(head.result_int());
  if (IsRedirect(hop.status)) {
    hop.location = std::string(head[http::field::location]);
    co_return hop;
  }
  if (hop.status / 100 != 2) co_return hop;
  hop.content_type = std::string(head[http::field::content_type]);
  // We asked for identity: any other coding (a decompression bomb, say) is refused, not decoded.
  for (auto [it, end] = head.equal_range(http::field::content_encoding); it != end; ++it) {
    if (const auto coding = Trim(it->value()); !coding.empty() && !IEquals(coding, "identity")) {
      co_return FetchFailed("media from " + host + " is compressed (" + std::string(coding) +
                                "); compressed media is refused",
                            param);
    }
  }
  if (const auto te = Trim(head[http::field::transfer_encoding]);
      !te.empty() && !IEquals(te, "chunked")) {
    co_return FetchFailed("media from " + host + " uses an unsupported transfer coding", param);
  }
  if (auto length = parser.content_length(); length && *length > options.max_bytes) {
    co_return TooLarge(options.max_bytes, param);
  }

  std::vector<char> chunk(16 * 1024);
  bool sniffed = !options.magic_check;
  while (!parser.is_done()) {
    auto& body = parser.get().body();
    body.data = chunk.data();
    body.size = chunk.size();
    lowest.expires_at(Earliest(options.idle_timeout, deadline));
    auto [ec, n] = co_await http::async_read_some(stream, buffer, parser, kNoThrow);
    if (ec && ec != http::error::need_buffer) {
      co_return FromEc(ec, "reading media from", host, param);
    }
    const size_t got = chunk.size() - body.size;
    if (hop.body.size() + got > options.max_bytes) co_return TooLarge(options.max_bytes, param);
    hop.body.append(chunk.data(), got);
    if (!sniffed && hop.body.size() >= kMagicPeekBytes) {
      sniffed = true;
      if (!options.magic_check(std::string_view(hop.body).substr(0, kMagicPeekBytes))) {
        co_return Make(ErrorKind::kInvalidRequest, "media_type_mismatch",
                       "media from " + host + " is not of an accepted type", param);
      }
    }
  }
  if (!sniffed && !options.magic_check(hop.body)) {
    co_return Make(ErrorKind::kInvalidRequest, "media_type_mismatch",
                   "media from " + host + " is not of an accepted type", param);
  }
  co_return hop;
}

Result<ssl::context*> TlsContext(Fetcher::Impl& impl, const net::TlsOptions& tls,
                                 const std::string& param) {
  const std::string key = std::string(tls.verify_peer ? "v|" : "n|") + tls.ca_file + "|" +
                          tls.client_cert_file + "|" + tls.client_key_file;
  auto& slot = impl.tls_contexts[key];
  if (slot) return slot.get();
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  beast::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (tls.verify_peer) {
    ctx->set_verify_mode(ssl::verify_peer);
    if (!tls.ca_file.empty()) {
      ctx->load_verify_file(tls.ca_file, ec);
    } else {
      ctx->set_default_verify_paths(ec);
    }
  } else {
    ctx->set_verify_mode(ssl::verify_none);
  }
  if (!ec && !tls.client_cert_file.empty()) {
    ctx->use_certificate_chain_file(tls.client_cert_file, ec);
    if (!ec) ctx->use_private_key_file(tls.client_key_file, ssl::context::pem, ec);
  }
  if (ec) {
    impl.tls_contexts.erase(key);
    return FetchFailed("TLS setup for media fetching failed: " + ec.message(), param);
  }
  slot = std::move(ctx);
  return slot.get();
}

// Connects to the first checked address that answers, then runs one exchange (over TLS for
// https, verified against the host name).
awaitable<Result<Hop>> FetchHop(Fetcher::Impl& impl, std::atomic<uint64_t>& connects,
                                const CheckedUrl& checked, std::vector<address> addresses,
                                const FetchOptions& options, Clock::time_point deadline,
                                const std::string& param) {
  const net::Url& url = checked.url;
  const auto port = static_cast<uint16_t>(std::stoi(url.port));  // CheckUrl validated it
  std::optional<beast::tcp_stream> conn;
  address peer;
  beast::error_code last_ec;
  for (const address& a : addresses) {
    beast::tcp_stream attempt(impl.executor);
    attempt.expires_at(Earliest(options.connect_timeout, deadline));
    ++connects;
    auto [ec] = co_await attempt.async_connect(tcp::endpoint(a, port), kNoThrow);
    if (!ec) {
      conn.emplace(std::move(attempt));
      peer = a;
      break;
    }
    last_ec = ec;
    if (ec == asio::error::operation_aborted || Clock::now() >= deadline) break;
  }
  if (!conn) co_return FromEc(last_ec, "connecting to", url.host, param);
  beast::error_code ignored;
  conn->socket().set_option(tcp::no_delay(true), ignored);

  Result<Hop> hop = Internal("no exchange");
  if (url.scheme == "https") {
    MM_CO_TRY(ssl::context * ctx, TlsContext(impl, options.tls, param));
    beast::ssl_stream<beast::tcp_stream> tls(std::move(*conn), *ctx);
    // SNI carries host names only (RFC 6066); IP literals are verified against IP SANs.
    if (!checked.address && !SSL_set_tlsext_host_name(tls.native_handle(), url.host.c_str())) {
      co_return FetchFailed("cannot set TLS SNI for " + url.host, param);
    }
    if (options.tls.verify_peer) tls.set_verify_callback(ssl::host_name_verification(url.host));
    auto& lowest = beast::get_lowest_layer(tls);
    lowest.expires_at(Earliest(options.connect_timeout, deadline));
    auto [ec] = co_await tls.async_handshake(ssl::stream_base::client, kNoThrow);
    if (ec) co_return FromEc(ec, "TLS handshake with", url.host, param);
    hop = co_await Exchange(tls, lowest, url, options, deadline, param);
    lowest.close();
  } else {
    hop = co_await Exchange(*conn, *conn, url, options, deadline, param);
    conn->close();
  }
  if (hop.ok()) hop->peer = peer;
  co_return hop;
}

// The absolute URL a Location header points to, relative to the current URL, without fragment.
Result<std::string> RedirectTarget(const std::string& current, std::string_view location,
                                   const std::string& host, const std::string& param) {
  auto base = boost::urls::parse_uri(current);
  auto ref = boost::urls::parse_uri_reference(location);
  if (!base || !ref) return FetchFailed("redirect from " + host + " is malformed", param);
  boost::urls::url target(*base);
  if (!target.resolve(*ref)) return FetchFailed("redirect from " + host + " is malformed", param);
  target.remove_fragment();
  return std::string(target.buffer());
}

}  // namespace

Fetcher::Fetcher(asio::any_io_executor ex, AddressPolicy policy, ResolveFn resolve)
    : impl_(std::make_unique<Impl>()) {
  impl_->executor = std::move(ex);
  impl_->policy = std::move(policy);
  impl_->resolve = resolve ? std::move(resolve) : ResolveFn(SystemResolve);
}

Fetcher::~Fetcher() = default;

awaitable<Result<Fetched>> Fetcher::Fetch(std::string url, FetchOptions options,
                                          std::string param) {
  Impl& impl = *impl_;
  const auto deadline = Clock::now() + options.total_timeout;
  std::string current = std::move(url);
  bool was_https = false;
  for (int redirects = 0;; ++redirects) {
    auto checked = impl.policy.CheckUrl(current, param);
    if (!checked.ok()) {
      ++refused_;
      co_return std::move(checked).error();
    }
    const net::Url& u = checked->url;
    const std::string& host = u.host;
    if (was_https && u.scheme != "https") {
      ++refused_;
      co_return Forbidden("redirect from https to http refused", param);
    }
    was_https = was_https || u.scheme == "https";

    std::vector<address> addresses;
    if (checked->address) {
      addresses.push_back(*checked->address);  // CheckUrl checked the literal
    } else {
      MM_CO_TRY(addresses, co_await ResolveOnce(impl.resolve, host, deadline, param));
      if (addresses.empty()) co_return FetchFailed("media host " + host + " has no address", param);
      // Strict: one non-public address refuses the name, whichever one we would have used.
      for (const address& a : addresses) {
        auto st = impl.policy.CheckAddress(a, host, param);
        if (!st.ok()) {
          ++refused_;
          co_return std::move(st).error();
        }
      }
    }

    MM_CO_TRY(Hop hop, co_await FetchHop(impl, connects_, *checked, std::move(addresses), options,
                                         deadline, param));
    if (IsRedirect(hop.status)) {
      if (redirects >= options.max_redirects) {
        co_return FetchFailed(
            "media URL redirected more than " + std::to_string(options.max_redirects) + " times",
            param, hop.status);
      }
      if (hop.location.empty()) {
        co_return FetchFailed("redirect from " + host + " has no Location", param, hop.status);
      }
      MM_CO_TRY(current, RedirectTarget(current, hop.location, host, param));
      continue;
    }
    if (hop.status / 100 != 2) {
      co_return FetchFailed("media host " + host + " answered HTTP " + std::to_string(hop.status),
                            param, hop.status);
    }
    Fetched out;
    out.body = std::move(hop.body);
    out.content_type = std::move(hop.content_type);
    out.final_url = std::move(current);
    out.redirects = redirects;
    out.peer = hop.peer;
    co_return out;
  }
}

}  // namespace modelmux::media
