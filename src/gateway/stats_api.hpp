#pragma once
// The dashboard's data endpoints (docs/OBSERVABILITY.md "Dashboard"):
//   GET /admin/stats            {"version","uptime_s","now_ms","metrics":"<Prometheus text>",
//                                "errors":[...],"errors_total":N}: one consistent snapshot per poll
//   GET /admin/errors?limit=N   {"errors":[...newest first],"total":N,"capacity":N}
// Both need the master key (Authorization: Bearer <MODELMUX_MASTER_KEY>) or, when no master key
// is configured, a loopback peer. Pure functions; the gateway supplies the inputs.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/result.hpp"
#include "gateway/recent_errors.hpp"
#include "net/server.hpp"

namespace modelmux::gateway {

// The version the dashboard shows (the project's version when the build defines it).
[[nodiscard]] std::string_view GatewayVersion();

// nullopt when `req` may use the admin data endpoints; otherwise the error to answer with
// (401 invalid_master_key, or 403 admin_loopback_only when no master key is configured).
// The key is compared through SHA-256 digests with CRYPTO_memcmp (no early exit on a mismatch).
[[nodiscard]] std::optional<Error> CheckAdminAccess(const net::ServerRequest& req,
                                                    std::string_view master_key);

// True for 127.0.0.0/8, ::1 and their IPv4-mapped forms.
[[nodiscard]] bool IsLoopbackPeer(const boost::asio::ip::address& peer);

struct StatsSnapshot {
  std::string version;
  double uptime_s = 0;
  int64_t now_ms = 0;   // the gateway's wall clock (Unix ms): the dashboard's time axis
  std::string metrics;  // the Prometheus text of /metrics
  std::vector<FailedRequest> errors;
  uint64_t errors_total = 0;
};

[[nodiscard]] std::string StatsJson(const StatsSnapshot& s);

// The `limit` of /admin/errors' query string: 1..`max`, `fallback` when absent. Any other key
// or value is a 400 invalid_value naming it.
[[nodiscard]] Result<size_t> ErrorsLimitFromQuery(std::string_view query, size_t fallback,
                                                  size_t max);

// GET /admin/errors' body.
[[nodiscard]] std::string ErrorsJson(const std::vector<FailedRequest>& errors, uint64_t total,
                                     size_t capacity);

}  // namespace modelmux::gateway
