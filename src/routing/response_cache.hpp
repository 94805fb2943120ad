#pragma once
// The response cache of the gateway and SDK (docs/CACHE.md): the configured backend (memory,
// SQLite in the data directory, Redis, or memory in front of either), the single-flight group,
// and the counters behind x-modelmux-cache and the cache metrics. One per process: it outlives
// configuration reloads (each new Router is given the same one).
//
// Keys and policy are the cache layer's (cache/key.hpp, cache/policy.hpp); what is stored is a
// cache::CachedAnswer (cache/answer_codec.hpp). The Router decides and calls; see router.cpp.

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "cache/answer_codec.hpp"
#include "cache/backend.hpp"
#include "cache/flight.hpp"
#include "cache/policy.hpp"
#include "core/chat.hpp"
#include "core/result.hpp"
#include "routing/config.hpp"
#include "store/redis.hpp"

namespace modelmux::routing {

class ResponseCache {
 public:
  // The backend `config.cache` asks for: memory; sqlite (<data_dir>/cache.db); redis
  // (redis.url, required); tiered (memory in front of Redis when redis.url is set, else of
  // SQLite). nullptr (no error) when the cache is disabled. `executor` runs the Redis client.
  static Result<std::shared_ptr<ResponseCache>> Create(const Config& config,
                                                       boost::asio::any_io_executor executor);

  ResponseCache(std::shared_ptr<cache::Backend> backend, cache::CacheConfig config,
                std::shared_ptr<store::RedisClient> redis = nullptr);

  [[nodiscard]] cache::Backend& backend() { return *backend_; }
  [[nodiscard]] cache::FlightGroup& flights() { return flights_; }
  [[nodiscard]] const cache::CacheConfig& config() const { return config_; }
  [[nodiscard]] std::string backend_name() const { return backend_->name(); }
  // False while a Redis backend's breaker is open (readiness says "degraded").
  [[nodiscard]] bool healthy() const { return !redis_ || redis_->healthy(); }
  // The Redis client of redis.url (null without one), also used by router.shared_limits.
  [[nodiscard]] const std::shared_ptr<store::RedisClient>& redis() const { return redis_; }

  struct Counters {
    std::atomic<uint64_t> hits{0}, misses{0}, bypass{0}, coalesced{0}, errors{0}, stored{0};
    std::atomic<uint64_t> saved_prompt_tokens{0}, saved_completion_tokens{0};
  };
  [[nodiscard]] Counters& counters() { return counters_; }

  // Per model (as the caller named it): what hits saved, for `stats`.
  struct ModelStats {
    uint64_t hits = 0, misses = 0;
    int64_t saved_prompt_tokens = 0, saved_completion_tokens = 0;
    double saved_cost = 0;  // in `currency`, at list price; 0 with "" when unknown
    std::string currency;
  };
  void NoteHit(const std::string& model, const std::optional<Usage>& usage,
               std::string_view provider_type, std::string_view upstream_model);
  void NoteMiss(const std::string& model);
  [[nodiscard]] std::map<std::string, ModelStats> ModelStatsSnapshot() const;

 private:
  std::shared_ptr<cache::Backend> backend_;
  cache::CacheConfig config_;
  std::shared_ptr<store::RedisClient> redis_;
  cache::FlightGroup flights_;
  Counters counters_;
  mutable std::mutex models_mu_;
  std::map<std::string, ModelStats> models_;  // guarded by models_mu_
};

// Conversions between a cached answer and what a caller asked for.
[[nodiscard]] ChatResponse ResponseOf(const cache::CachedAnswer& answer);
[[nodiscard]] std::vector<StreamEvent> EventsOf(const cache::CachedAnswer& answer);

// The entry's metadata: what a hit saves (tokens, and the money at list price when known).
[[nodiscard]] cache::EntryMeta MetaFor(const cache::CachePolicy& policy, std::string_view provider,
                                       std::string_view provider_type, std::string_view model,
                                       const std::optional<Usage>& usage, bool stream);

}  // namespace modelmux::routing
