#pragma once
// The Redis cache backend: entries shared by every replica, through the store layer's RedisClient.
//
// Layout (the schema version is in the names):
//   <prefix>v1:e:<key>  a hash: v (the value), ns, model, provider, stream, created, expires, pt,
//                       ct, cost, cur; its TTL is the entry's expiry (PEXPIREAT)
//   <prefix>v1:stats    a hash of counters shared by the replicas: hits, misses
// Entry keys carry no hash tag, so a cluster spreads them over every master; List, Purge and Stats
// SCAN every master node (they are admin operations, O(entries)).
//
// Threading: as Backend requires, callable from any thread (RedisClient is thread-safe).
// Errors: a Redis that is down, paused or slow answers errors within the client's timeouts
// (kUnavailable / kTimeout); the caller serves a miss. `errors` in Stats counts them per process.

#include <atomic>
#include <memory>
#include <string>

#include "cache/backend.hpp"
#include "store/redis.hpp"

namespace modelmux::cache {

class RedisBackend : public Backend {
 public:
  // `key_prefix` namespaces this gateway's keys in a shared Redis ("mm:cache:" by default).
  explicit RedisBackend(std::shared_ptr<store::RedisClient> client,
                        std::string key_prefix = "mm:cache:");

  [[nodiscard]] std::string name() const override { return "redis"; }
  boost::asio::awaitable<Result<std::optional<Entry>>> Get(std::string key) override;
  boost::asio::awaitable<Status> Put(std::string key, Entry entry) override;
  boost::asio::awaitable<Status> Erase(std::string key) override;
  boost::asio::awaitable<Result<std::vector<ListedEntry>>> List(Filter filter) override;
  boost::asio::awaitable<Result<uint64_t>> Purge(Filter filter) override;
  boost::asio::awaitable<Result<BackendStats>> Stats() override;

  // The Redis key of a cache key (for tests and tools).
  [[nodiscard]] std::string RedisKey(std::string_view key) const;

 private:
  struct Scanned {
    std::string node;
    std::string key;  // the cache key (prefix removed)
    EntryMeta meta;
    size_t bytes = 0;
  };
  // Every entry on every master matching `filter`, up to `limit` of them.
  boost::asio::awaitable<Result<std::vector<Scanned>>> Scan(Filter filter, size_t limit);

  std::shared_ptr<store::RedisClient> client_;
  std::string prefix_;  // <key_prefix>v1:
  std::atomic<uint64_t> errors_{0};
};

}  // namespace modelmux::cache
