#pragma once
// router.shared_limits (docs/ROUTING.md "Shared across replicas"): which Redis client keeps the
// deployments' rate windows. The response cache's client when it has one (one connection pool
// for both), else a client of its own from redis.url, so the setting works whatever the cache
// does, in the gateway, the CLI and the SDK.

#include <boost/asio/any_io_executor.hpp>
#include <memory>

#include "core/result.hpp"
#include "routing/config.hpp"
#include "store/redis.hpp"

namespace modelmux::routing {

class ResponseCache;

// The client for router.shared_limits: null when the setting is off; `cache`'s Redis client when
// it has one; else a new client of redis.url on `executor` (it connects on its first command).
// Errors: kInvalidRequest code "config_error" param "router.shared_limits" when the setting is
// on and no redis.url (nor --redis, MODELMUX_REDIS_URL) is set; redis.url's parse error (param
// "redis.url") when it is malformed. Never logs the URL (it may hold a password).
[[nodiscard]] Result<std::shared_ptr<store::RedisClient>> SharedLimitsRedis(
    const Config& config, const std::shared_ptr<ResponseCache>& cache,
    boost::asio::any_io_executor executor);

}  // namespace modelmux::routing
