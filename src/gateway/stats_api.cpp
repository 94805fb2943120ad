#include "gateway/stats_api.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <array>
#include <boost/url/parse_query.hpp>
#include <charconv>
#include <cstdio>

#include "telemetry/request_log.hpp"

namespace modelmux::gateway {

namespace {

std::array<unsigned char, SHA256_DIGEST_LENGTH> Digest(std::string_view s) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> d{};
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d.data());
  return d;
}

Error BadValue(std::string message, std::string param) {
  Error e = InvalidRequest(std::move(message), std::move(param));
  e.code = "invalid_value";
  return e;
}

}  // namespace

std::string_view GatewayVersion() {
#ifdef MODELMUX_VERSION
  return MODELMUX_VERSION;
#else
  return "unknown";
#endif
}

bool IsLoopbackPeer(const boost::asio::ip::address& peer) {
  if (peer.is_loopback()) return true;
  if (peer.is_v6() && peer.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, peer.to_v6()).is_loopback();
  }
  return false;
}

std::optional<Error> CheckAdminAccess(const net::ServerRequest& req, std::string_view master_key) {
  Error e;
  if (master_key.empty()) {
    if (IsLoopbackPeer(req.peer)) return std::nullopt;
    e.kind = ErrorKind::kPermission;
    e.code = "admin_loopback_only";
    e.message =
        "the admin API answers loopback callers only while no master key is set "
        "(MODELMUX_MASTER_KEY)";
    return e;
  }
  const std::string_view given = req.headers.Get("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  bool ok = false;
  if (given.size() > kBearer.size() && net::IEquals(given.substr(0, kBearer.size()), kBearer)) {
    const auto a = Digest(given.substr(kBearer.size()));
    const auto b = Digest(master_key);
    ok = CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
  }
  if (ok) return std::nullopt;
  e.kind = ErrorKind::kAuthentication;
  e.code = "invalid_master_key";
  e.message = given.empty() ? "the admin API needs the master key (Authorization: Bearer ...)"
                            : "the admin API refused this key: it is not the master key";
  return e;
}

std::string StatsJson(const StatsSnapshot& s) {
  char uptime[32];
  std::snprintf(uptime, sizeof uptime, "%.3f", s.uptime_s);
  std::string out = R"({"version":")" + telemetry::JsonEscape(s.version);
  out += R"(","uptime_s":)";
  out += uptime;
  out += R"(,"now_ms":)" + std::to_string(s.now_ms);
  out += R"(,"errors_total":)" + std::to_string(s.errors_total);
  out += R"(,"errors":)" + FailedRequestsJson(s.errors);
  out += R"(,"metrics":")" + telemetry::JsonEscape(s.metrics) + "\"}";
  return out;
}

Result<size_t> ErrorsLimitFromQuery(std::string_view query, size_t fallback, size_t max) {
  size_t limit = fallback;
  if (query.empty()) return limit;
  auto params = boost::urls::parse_query(query);
  if (!params) return BadValue("the query string is not valid", "query");
  for (auto p : *params) {
    const std::string_view key = p.key;
    const std::string_view v = p.value;
    if (key != "limit") {
      return BadValue("unknown parameter '" + std::string(key) + "' (expected limit)",
                      std::string(key));
    }
    size_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || end != v.data() + v.size() || n == 0 || n > max) {
      return BadValue("limit must be a number from 1 to " + std::to_string(max), "limit");
    }
    limit = n;
  }
  return limit;
}

std::string ErrorsJson(const std::vector<FailedRequest>& errors, uint64_t total, size_t capacity) {
  return R"({"errors":)" + FailedRequestsJson(errors) + R"(,"total":)" + std::to_string(total) +
         R"(,"capacity":)" + std::to_string(capacity) + "}";
}

}  // namespace modelmux::gateway
