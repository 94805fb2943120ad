#include "routing/response_cache.hpp"

#include <chrono>
#include <filesystem>

#include "cache/memory.hpp"
#include "cache/redis_backend.hpp"
#include "cache/sqlite.hpp"
#include "cache/tier.hpp"
#include "dialects/openai/stream.hpp"
#include "telemetry/price_table.hpp"

namespace modelmux::routing {

namespace {

Result<std::unique_ptr<cache::Backend>> OpenSqlite(const Config& config) {
  std::error_code ec;
  std::filesystem::create_directories(config.server.data_dir, ec);
  cache::SqliteOptions options;
  options.max_bytes = static_cast<size_t>(std::max<uint64_t>(config.cache.max_bytes, 1) * 4);
  MM_TRY(auto db, cache::SqliteBackend::Open(
                      cache::SqliteBackend::DefaultPath(config.server.data_dir), options));
  return std::unique_ptr<cache::Backend>(std::move(db));
}

}  // namespace

ResponseCache::ResponseCache(std::shared_ptr<cache::Backend> backend, cache::CacheConfig config,
                             std::shared_ptr<store::RedisClient> redis)
    : backend_(std::move(backend)), config_(std::move(config)), redis_(std::move(redis)) {}

Result<std::shared_ptr<ResponseCache>> ResponseCache::Create(
    const Config& config, boost::asio::any_io_executor executor) {
  if (!config.cache.enabled) return std::shared_ptr<ResponseCache>();
  cache::CacheConfig policy;
  policy.enabled = true;
  policy.ttl = std::chrono::duration_cast<std::chrono::seconds>(config.cache.ttl);
  if (policy.ttl.count() <= 0) policy.ttl = std::chrono::seconds(1);
  const size_t memory_bytes = static_cast<size_t>(config.cache.max_bytes);

  std::shared_ptr<store::RedisClient> redis;
  if (!config.redis.url.empty() && (config.cache.backend == CacheBackend::kRedis ||
                                    config.cache.backend == CacheBackend::kTiered)) {
    auto options = store::ParseRedisUrl(config.redis.url);
    if (!options.ok()) {
      Error e = std::move(options).error();
      e.param = "redis.url";
      return e;
    }
    redis = store::RedisClient::Create(std::move(executor), std::move(options).value());
  }

  std::shared_ptr<cache::Backend> backend;
  switch (config.cache.backend) {
    case CacheBackend::kMemory:
      backend = std::make_shared<cache::MemoryBackend>(memory_bytes);
      break;
    case CacheBackend::kSqlite: {
      MM_TRY(auto db, OpenSqlite(config));
      backend = std::move(db);
      break;
    }
    case CacheBackend::kRedis:
      if (!redis) {
        return InvalidRequest("cache.backend is redis but no redis.url (or --redis) is set",
                              "cache.backend");
      }
      backend = std::make_shared<cache::RedisBackend>(redis);
      break;
    case CacheBackend::kTiered: {
      std::unique_ptr<cache::Backend> back;
      if (redis) {
        back = std::make_unique<cache::RedisBackend>(redis);
      } else {
        MM_TRY(back, OpenSqlite(config));
      }
      backend = std::make_shared<cache::TierBackend>(
          std::make_unique<cache::MemoryBackend>(memory_bytes), std::move(back));
      break;
    }
  }
  return std::make_shared<ResponseCache>(std::move(backend), std::move(policy), std::move(redis));
}

void ResponseCache::NoteHit(const std::string& model, const std::optional<Usage>& usage,
                            std::string_view provider_type, std::string_view upstream_model) {
  ++counters_.hits;
  std::optional<telemetry::Money> money;
  if (usage) {
    counters_.saved_prompt_tokens += static_cast<uint64_t>(usage->prompt_tokens);
    counters_.saved_completion_tokens += static_cast<uint64_t>(usage->completion_tokens);
    const auto prices = telemetry::PriceTable::Active();  // telemetry.prices_file included
    if (const auto* price = prices->Find(provider_type, upstream_model)) {
      money = telemetry::Cost(*price, *usage);
    }
  }
  std::lock_guard lock(models_mu_);
  ModelStats& s = models_[model];
  ++s.hits;
  if (usage) {
    s.saved_prompt_tokens += usage->prompt_tokens;
    s.saved_completion_tokens += usage->completion_tokens;
  }
  if (money) {
    s.saved_cost += static_cast<double>(money->micros) / 1e6;
    s.currency = money->currency == telemetry::Currency::kCny ? "CNY" : "USD";
  }
}

void ResponseCache::NoteMiss(const std::string& model) {
  ++counters_.misses;
  std::lock_guard lock(models_mu_);
  ++models_[model].misses;
}

std::map<std::string, ResponseCache::ModelStats> ResponseCache::ModelStatsSnapshot() const {
  std::lock_guard lock(models_mu_);
  return models_;
}

ChatResponse ResponseOf(const cache::CachedAnswer& answer) {
  if (!answer.stream) return answer.response;
  dialects::openai::StreamAccumulator acc;
  for (const auto& ev : answer.events) acc.Add(ev);
  return acc.Response();
}

std::vector<StreamEvent> EventsOf(const cache::CachedAnswer& answer) {
  if (answer.stream) return answer.events;
  // A whole answer replayed as a stream: one delta per choice, then the usage and the end.
  const ChatResponse& r = answer.response;
  std::vector<StreamEvent> events;
  for (const Choice& c : r.choices) {
    StreamEvent ev;
    ev.kind = StreamEvent::Kind::kDelta;
    ev.id = r.id;
    ev.model = r.model;
    ev.created = r.created;
    StreamDelta d;
    d.index = c.index;
    d.role = "assistant";
    d.text = c.message.Text();
    d.reasoning = c.message.reasoning;
    for (size_t i = 0; i < c.message.tool_calls.size(); ++i) {
      const ToolCall& t = c.message.tool_calls[i];
      d.tool_calls.push_back({static_cast<int>(i), t.id, t.name, t.arguments});
    }
    d.finish_reason = c.finish_reason;
    d.finish_reason_raw = c.finish_reason_raw;
    ev.deltas.push_back(std::move(d));
    events.push_back(std::move(ev));
  }
  if (r.usage) {
    StreamEvent ev;
    ev.kind = StreamEvent::Kind::kUsage;
    ev.id = r.id;
    ev.model = r.model;
    ev.created = r.created;
    ev.usage = r.usage;
    events.push_back(std::move(ev));
  }
  StreamEvent done;
  done.kind = StreamEvent::Kind::kDone;
  events.push_back(std::move(done));
  return events;
}

cache::EntryMeta MetaFor(const cache::CachePolicy& policy, std::string_view provider,
                         std::string_view provider_type, std::string_view model,
                         const std::optional<Usage>& usage, bool stream) {
  cache::EntryMeta meta;
  meta.ns = policy.scope;
  meta.provider = std::string(provider);
  meta.model = std::string(model);
  meta.stream = stream;
  meta.created_unix_ms = cache::SystemNowMs();
  meta.expires_unix_ms = meta.created_unix_ms +
                         std::chrono::duration_cast<std::chrono::milliseconds>(policy.ttl).count();
  if (usage) {
    meta.prompt_tokens = usage->prompt_tokens;
    meta.completion_tokens = usage->completion_tokens;
    const auto prices = telemetry::PriceTable::Active();
    if (const auto* price = prices->Find(provider_type, model)) {
      if (auto money = telemetry::Cost(*price, *usage)) {
        meta.cost = static_cast<double>(money->micros) / 1e6;
        meta.currency = money->currency == telemetry::Currency::kCny ? "CNY" : "USD";
      }
    }
  }
  return meta;
}

}  // namespace modelmux::routing
