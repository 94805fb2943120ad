#include "routing/shared_limits.hpp"

#include <utility>

#include "routing/response_cache.hpp"

namespace modelmux::routing {

Result<std::shared_ptr<store::RedisClient>> SharedLimitsRedis(
    const Config& config, const std::shared_ptr<ResponseCache>& cache,
    boost::asio::any_io_executor executor) {
  if (!config.router.shared_limits) return std::shared_ptr<store::RedisClient>();
  if (cache && cache->redis()) return cache->redis();
  if (config.redis.url.empty()) {
    Error e = InvalidRequest(
        "router.shared_limits keeps rate windows in Redis, but no redis.url (or --redis, "
        "MODELMUX_REDIS_URL) is set",
        "router.shared_limits");
    e.code = "config_error";
    return e;
  }
  auto options = store::ParseRedisUrl(config.redis.url);
  if (!options.ok()) {
    Error e = std::move(options).error();
    e.param = "redis.url";
    return e;
  }
  return store::RedisClient::Create(std::move(executor), std::move(options).value());
}

}  // namespace modelmux::routing
