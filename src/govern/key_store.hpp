#pragma once
// Where virtual keys live, and the lookup the admission path makes on every /v1 call.
//
// Two backends:
//  - SQLite (<data-dir>/keys.db, synchronous=FULL): the whole key set is loaded into memory at
//    Open and kept there; lookups read memory only, writes go to the database on the store's own
//    worker thread (never on an event loop) and then to memory. One replica's keys.
//  - Redis (when `redis.url` is set): one hash per key, "mm:v1:key:<digest>" {record, id}, and
//    an index hash "mm:v1:keys" {id -> digest}, shared by every replica. Each replica caches a
//    lookup (found or not) for at most `cache_ttl` (default 500 ms), so a key revoked on one
//    replica is refused by all within cache_ttl plus one Redis round trip. While Redis is
//    unreachable a key seen in the last `stale_ttl` is served from the cache (degraded); an
//    unseen key gets kUnavailable (503, code "key_store_unavailable").
//
// Threading: thread-safe; every coroutine may be awaited from any event loop and resumes there.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "govern/key.hpp"

namespace modelmux::store {
class RedisClient;
}

namespace modelmux::govern {

struct KeyStoreOptions {
  std::string sqlite_path;                       // used when redis is null
  std::shared_ptr<store::RedisClient> redis;     // shared keys when set
  std::chrono::milliseconds cache_ttl{500};      // Redis lookups cached this long at most
  std::chrono::milliseconds stale_ttl{600'000};  // served from cache while Redis is down
  std::string prefix = "mm:v1";
  std::function<std::chrono::steady_clock::time_point()> clock = std::chrono::steady_clock::now;
};

class KeyStore {
 public:
  // Opens the backend (SQLite: creates/migrates keys.db and loads every key; blocking, for
  // start-up). Errors: kUnavailable "database_error" naming the file.
  [[nodiscard]] static Result<std::shared_ptr<KeyStore>> Open(KeyStoreOptions options);
  ~KeyStore();
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;

  // The key whose secret has this digest, or nullopt when none does. The found record's digest is
  // confirmed with DigestEquals (constant time). Revoked and expired keys are returned as they
  // are: the caller decides (and names the reason).
  boost::asio::awaitable<Result<std::optional<KeyRecord>>> FindByDigest(std::string digest_hex);
  boost::asio::awaitable<Result<std::optional<KeyRecord>>> FindById(std::string id);
  // Every key, newest first.
  boost::asio::awaitable<Result<std::vector<KeyRecord>>> List();
  // Creates or replaces the record with this id (its digest never changes).
  boost::asio::awaitable<Status> Put(KeyRecord record);

  [[nodiscard]] bool shared() const;  // keys live in Redis

  struct Impl;

 private:
  explicit KeyStore(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace modelmux::govern
