#include "cli/runtime.hpp"

#include <cstdlib>

#include "routing/config_env.hpp"
#include "routing/shared_limits.hpp"

namespace modelmux::cli {
namespace {

std::string EnvOr(const std::string& given, const char* name) {
  if (!given.empty()) return given;
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

Result<std::shared_ptr<routing::Config>> LoadConfig(const ConfigOverrides& o, bool for_server) {
  auto env = routing::ProcessEnvironment();
  std::shared_ptr<routing::Config> cfg;
  const std::string file = EnvOr(o.config_file, "MODELMUX_CONFIG");
  if (!file.empty()) {
    MM_TRY(auto loaded, routing::LoadConfigFile(file, env));
    cfg = std::make_shared<routing::Config>(*loaded);
  } else {
    cfg = std::make_shared<routing::Config>(routing::Config::Default());
  }
  if (auto host = EnvOr(o.host, "MODELMUX_HOST"); !host.empty()) cfg->server.host = host;
  if (o.port >= 0) {
    cfg->server.port = static_cast<uint16_t>(o.port);
  } else if (const char* p = std::getenv("MODELMUX_PORT"); p && *p) {
    cfg->server.port = static_cast<uint16_t>(std::atoi(p));
  }
  if (auto dir = EnvOr(o.data_dir, "MODELMUX_DATA_DIR"); !dir.empty()) cfg->server.data_dir = dir;
  if (auto redis = EnvOr(o.redis, "MODELMUX_REDIS_URL"); !redis.empty()) {
    cfg->redis.url = redis;
    cfg->redis.url_source = o.redis.empty() ? "MODELMUX_REDIS_URL" : "--redis";
  }
  if (auto fmt = EnvOr(o.log_format, "MODELMUX_LOG_FORMAT"); !fmt.empty()) {
    if (fmt == "json") {
      cfg->server.log_format = routing::LogFormat::kJson;
    } else if (fmt == "human") {
      cfg->server.log_format = routing::LogFormat::kHuman;
    } else {
      return InvalidRequest("--log-format must be json or human", "log_format");
    }
  }
  // With --port 0 the real port is not known yet; self-pointing checks use the configured one.
  MM_RETURN_IF_ERROR(routing::ApplyEnvironmentDiscovery(*cfg, env, cfg->server.host,
                                                        for_server ? cfg->server.port : 0));
  return cfg;
}

void Runtime::PointSimAtInProcess(routing::Config& config) const {
  for (auto& p : config.providers) {
    if (p.type == routing::ProviderType::kSim && p.base_url.empty() && sim_server_) {
      p.base_url = "http://127.0.0.1:" + std::to_string(sim_server_->port()) + "/v1";
    }
  }
}

Result<std::unique_ptr<Runtime>> Runtime::Start(std::shared_ptr<routing::Config> config,
                                                net::EventLoops& loops, bool with_cache) {
  auto rt = std::unique_ptr<Runtime>(new Runtime());
  rt->executor_ = loops.loop(0).get_executor();
  if (with_cache) {
    MM_TRY(rt->cache_, routing::ResponseCache::Create(*config, loops.loop(0).get_executor()));
  }
  bool needs_sim = false;
  for (const auto& p : config->providers) {
    needs_sim |= p.type == routing::ProviderType::kSim && p.base_url.empty();
  }
  if (needs_sim) {
    rt->sim_ = std::make_unique<sim::Simulator>(sim::SimOptions{});
    net::ServerOptions so;
    so.host = "127.0.0.1";
    so.port = 0;
    so.body_limit = [](std::string_view) -> size_t { return 64u << 20; };
    auto* sim = rt->sim_.get();
    rt->sim_server_ = std::make_unique<net::Server>(
        loops, so,
        [sim](net::ServerRequest& r, net::ResponseWriter& w) { return sim->Handle(r, w); });
    MM_RETURN_IF_ERROR(rt->sim_server_->Listen());
  }
  MM_TRY(rt->router_, rt->Rebuild(config));
  return rt;
}

Result<std::shared_ptr<const routing::Router>> Runtime::Rebuild(
    std::shared_ptr<routing::Config> config) const {
  PointSimAtInProcess(*config);
  // router.shared_limits: the cache's Redis client, else one of its own (an error without any).
  MM_TRY(auto limits_redis, routing::SharedLimitsRedis(*config, cache_, executor_));
  return routing::Router::Create(std::move(config), cache_, std::move(limits_redis));
}

}  // namespace modelmux::cli
