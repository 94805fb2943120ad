#pragma once
// SSRF-safe fetcher of media URLs (reliability.md items 27-30). Every hop is checked by an
// AddressPolicy before any connection: the URL first (scheme, port, literal hosts in any
// spelling), then every address the host name resolved to. A name is resolved exactly once per
// hop and the TCP connection goes to one of the checked addresses, never to the name, so DNS
// rebinding has nothing to race. TLS verifies the certificate against the host name (SNI set to
// it) while connected to the checked address. Redirects are followed a bounded number of times,
// each target re-checked from scratch; https -> http is refused. The byte cap counts the decoded
// body as it arrives, compressed answers are refused (we ask for identity), and connect, idle and
// total deadlines bound every wait.
//
// Threading: a Fetcher belongs to one executor (one event loop thread, or a strand); Fetch may
// run concurrently with itself on that executor. The Fetcher must outlive its Fetch calls.
// Cancellation: Fetch honours the cancellation slot of the awaiting coroutine.

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "media/address_policy.hpp"
#include "net/http_client.hpp"

namespace modelmux::media {

struct FetchOptions {
  // Counts the body bytes that actually arrive (decoded from chunked framing). A Content-Length
  // above it is refused before the body is read. Error: kPayloadTooLarge "media_too_large".
  size_t max_bytes = 20 << 20;
  std::chrono::milliseconds connect_timeout{3000};  // per TCP connect and per TLS handshake
  std::chrono::milliseconds total_timeout{15000};   // the whole fetch, DNS and redirects included
  std::chrono::milliseconds idle_timeout{5000};     // between reads (and for the response head)
  int max_redirects = 3;
  std::string user_agent = "modelmux-fetch/1";
  // Called once with the first kMagicPeekBytes bytes of the body (fewer if the body is shorter);
  // false refuses the body with "media_type_mismatch". Empty: any body.
  std::function<bool(std::string_view first_bytes)> magic_check;
  net::TlsOptions tls;  // CA bundle, peer verification, client certificate
};

// How many leading bytes magic_check sees (when the body has that many).
inline constexpr size_t kMagicPeekBytes = 256;

struct Fetched {
  std::string body;
  std::string content_type;  // the final response's Content-Type, as sent
  std::string final_url;     // the URL that answered 2xx (after redirects)
  int redirects = 0;
  boost::asio::ip::address peer;  // the address that answered
};

// Resolves a host name to its addresses (all of them: each one is checked). Tests substitute it
// to simulate DNS answers, including rebinding. The default uses asio's resolver.
using ResolveFn =
    std::function<boost::asio::awaitable<Result<std::vector<boost::asio::ip::address>>>(
        std::string host)>;

class Fetcher {
 public:
  Fetcher(boost::asio::any_io_executor ex, AddressPolicy policy, ResolveFn resolve = {});
  ~Fetcher();
  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;

  // GETs `url` following at most options.max_redirects redirects. Errors (param = `param`):
  //   kInvalidRequest "url_forbidden": refused by the policy (scheme, port, credentials, a
  //     non-public address, https -> http redirect); nothing was connected to for that hop.
  //   kInvalidRequest "media_fetch_failed": DNS or connection failure, TLS failure, malformed or
  //     compressed answer, too many redirects, a non-2xx final status (upstream_status set; the
  //     message names the status and host, never userinfo or the query).
  //   kInvalidRequest "media_type_mismatch": magic_check refused the first bytes.
  //   kPayloadTooLarge "media_too_large"; kTimeout "media_fetch_timeout"; kCancelled.
  boost::asio::awaitable<Result<Fetched>> Fetch(std::string url, FetchOptions options = {},
                                                std::string param = "url");

  // TCP connection attempts made (each one to a checked address).
  [[nodiscard]] uint64_t connects() const { return connects_.load(); }
  // Hops refused by the policy (URL or resolved address).
  [[nodiscard]] uint64_t refused() const { return refused_.load(); }

  struct Impl;  // public so that the implementation's free functions can name it

 private:
  std::unique_ptr<Impl> impl_;
  std::atomic<uint64_t> connects_{0};
  std::atomic<uint64_t> refused_{0};
};

}  // namespace modelmux::media
