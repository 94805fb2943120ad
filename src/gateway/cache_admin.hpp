#pragma once
// The cache's admin endpoints (docs/CACHE.md "Clean-up"):
//   GET  /admin/cache/stats                       {"backend","entries","bytes","hits",...}
//   GET  /admin/cache/entries?model=&namespace=&older_than=&limit=
//   POST /admin/cache/purge  {"model","namespace","older_than","expired_only"}  {"purged":N}
// Allowed with the master key (Authorization: Bearer <MODELMUX_MASTER_KEY>) or, when no master
// key is configured, from loopback peers only.

#include <boost/asio/awaitable.hpp>
#include <string>

#include "cache/backend.hpp"
#include "core/result.hpp"
#include "routing/response_cache.hpp"

namespace modelmux::gateway {

// "7d", "12h", "30m", "45s" or a number of seconds -> milliseconds. Errors name `param`.
[[nodiscard]] Result<int64_t> ParseAge(std::string_view text, std::string_view param);

// The filter of a query string (entries) or a JSON body (purge).
[[nodiscard]] Result<cache::Filter> FilterFromQuery(std::string_view query, int64_t now_ms);
[[nodiscard]] Result<cache::Filter> FilterFromJson(std::string_view body, int64_t now_ms);

boost::asio::awaitable<Result<std::string>> CacheStatsJson(routing::ResponseCache& cache);
boost::asio::awaitable<Result<std::string>> CacheEntriesJson(routing::ResponseCache& cache,
                                                             cache::Filter filter);
boost::asio::awaitable<Result<std::string>> CachePurgeJson(routing::ResponseCache& cache,
                                                           cache::Filter filter);

}  // namespace modelmux::gateway
