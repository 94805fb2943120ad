#pragma once
// The contract every cache backend (memory, SQLite, Redis, and a tier of them) implements. The
// cache stores opaque bytes under a hex SHA-256 key, with the metadata that clean-up, statistics
// and "money saved" need. Backends never decide what is cacheable (routing does, with
// cache/policy.hpp) and never interpret the value (cache/answer_codec.hpp does).
//
// Threading: a backend is shared by every event loop of the process; its methods may be called
// concurrently from several threads. The coroutines resume on the caller's executor. A backend
// that is down answers errors quickly (it never stalls a request for longer than its timeout);
// callers treat any error as a miss.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace modelmux::cache {

struct EntryMeta {
  std::string ns;        // the cache namespace (tenant), as keyed
  std::string model;     // the model that produced the answer (a fallback's own model)
  std::string provider;  // the provider that produced it
  bool stream = false;   // a recorded stream (replayed chunk by chunk)
  int64_t created_unix_ms = 0;
  int64_t expires_unix_ms = 0;  // 0: never (not used by routing; TTL is always set)
  int64_t prompt_tokens = 0;    // what a hit saves
  int64_t completion_tokens = 0;
  double cost = 0;  // in `currency`; 0 with empty currency when the price is unknown
  std::string currency;
};

struct Entry {
  EntryMeta meta;
  std::string value;  // opaque bytes (cache/answer_codec.hpp)
};

// Selects entries for List and Purge; unset fields match everything.
struct Filter {
  std::optional<std::string> model;
  std::optional<std::string> ns;
  std::optional<int64_t> created_before_unix_ms;  // `--older-than D`
  bool expired_only = false;
  size_t limit = 1000;  // List only
};

struct ListedEntry {
  std::string key;
  EntryMeta meta;
  size_t bytes = 0;  // size of the value
};

struct BackendStats {
  uint64_t entries = 0;
  uint64_t bytes = 0;
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t errors = 0;     // backend failures (each served as a miss)
  uint64_t evictions = 0;  // removed for the size cap
  uint64_t expired = 0;    // removed because the TTL had passed
};

class Backend {
 public:
  virtual ~Backend() = default;

  // "memory", "sqlite", "redis", "tier(memory,sqlite)".
  [[nodiscard]] virtual std::string name() const = 0;

  // The entry, or nullopt when absent or expired (an expired entry is never returned).
  virtual boost::asio::awaitable<Result<std::optional<Entry>>> Get(std::string key) = 0;
  // Stores (replaces) the entry. May complete before the write is durable (SQLite writes are
  // batched off the event loop); a later Get on the same process sees it.
  virtual boost::asio::awaitable<Status> Put(std::string key, Entry entry) = 0;
  virtual boost::asio::awaitable<Status> Erase(std::string key) = 0;

  virtual boost::asio::awaitable<Result<std::vector<ListedEntry>>> List(Filter filter) = 0;
  // Removes the matching entries; returns how many were removed.
  virtual boost::asio::awaitable<Result<uint64_t>> Purge(Filter filter) = 0;
  virtual boost::asio::awaitable<Result<BackendStats>> Stats() = 0;
};

}  // namespace modelmux::cache
