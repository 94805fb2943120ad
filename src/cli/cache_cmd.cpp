// `modelmux cache stats|list|purge`: the seed's "delete unnecessary cache", on the backend the
// configuration names (SQLite in the data directory, or Redis), from the command line. A running
// gateway offers the same as /admin/cache/* (docs/CACHE.md).

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <cstdio>

#include "cache/memory.hpp"
#include "cli/commands.hpp"
#include "gateway/cache_admin.hpp"
#include "routing/response_cache.hpp"

namespace modelmux::cli {

namespace asio = boost::asio;

void AddCacheFlags(CLI::App& cmd, CacheArgs& a) {
  cmd.add_option("action", a.action, "stats | list | purge")
      ->required()
      ->check(CLI::IsMember({"stats", "list", "purge"}));
  cmd.add_option("--model", a.model, "Only entries of this model");
  cmd.add_option("--namespace", a.ns, "Only entries of this namespace (tenant/namespace)");
  cmd.add_option("--older-than", a.older_than, "Only entries older than this (7d, 12h, 30m)");
  cmd.add_flag("--expired", a.expired_only, "Only entries whose TTL has passed");
  cmd.add_option("--limit", a.limit, "Most entries to list")->capture_default_str();
  cmd.add_option("--config", a.config.config_file, "YAML config file (env MODELMUX_CONFIG)");
  cmd.add_option("--data-dir", a.config.data_dir, "State directory (default ./modelmux-data)");
  cmd.add_option("--redis", a.config.redis, "Redis URL (env MODELMUX_REDIS_URL)");
}

int RunCache(const CacheArgs& a) {
  auto cfg = LoadConfig(a.config, false);
  if (!cfg.ok()) return Fail(cfg.error());
  auto& config = **cfg;
  // The CLI reads the persistent tier itself: a memory tier lives only inside a gateway.
  if (config.cache.backend == routing::CacheBackend::kTiered) {
    config.cache.backend =
        config.redis.url.empty() ? routing::CacheBackend::kSqlite : routing::CacheBackend::kRedis;
  }
  if (config.cache.backend == routing::CacheBackend::kMemory) {
    return Fail(InvalidRequest(
        "cache.backend is memory: entries live inside the gateway only (use /admin/cache/*)",
        "cache.backend"));
  }
  config.cache.enabled = true;
  net::EventLoops loops(1);
  auto cache = routing::ResponseCache::Create(config, loops.loop(0).get_executor());
  if (!cache.ok()) return Fail(cache.error());

  cache::Filter filter;
  const int64_t now = cache::SystemNowMs();
  if (!a.model.empty()) filter.model = a.model;
  if (!a.ns.empty()) filter.ns = a.ns;
  if (!a.older_than.empty()) {
    auto age = gateway::ParseAge(a.older_than, "--older-than");
    if (!age.ok()) return Fail(age.error());
    filter.created_before_unix_ms = now - *age;
  }
  filter.expired_only = a.expired_only;
  filter.limit = a.limit;

  loops.Start();
  Result<std::string> out = std::string();
  if (a.action == "stats") {
    out = asio::co_spawn(loops.loop(0), gateway::CacheStatsJson(**cache), asio::use_future).get();
  } else if (a.action == "list") {
    out =
        asio::co_spawn(loops.loop(0), gateway::CacheEntriesJson(**cache, filter), asio::use_future)
            .get();
  } else {
    out = asio::co_spawn(loops.loop(0), gateway::CachePurgeJson(**cache, filter), asio::use_future)
              .get();
  }
  cache->reset();  // flushes SQLite writes while the loop still runs
  loops.Stop();
  loops.Join();
  if (!out.ok()) return Fail(out.error());
  std::printf("%s\n", out->c_str());
  return 0;
}

}  // namespace modelmux::cli
