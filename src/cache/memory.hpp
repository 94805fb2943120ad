#pragma once
// MemoryBackend: an in-process cache, a sharded LRU with a byte cap. The fastest tier and the front
// of every tier; it forgets everything when the process ends.
//
// Size: each entry is charged its value, its key and its metadata strings plus a fixed overhead
// (kEntryOverhead, the list node, map slot and EntryMeta). The cap is split evenly over kShards
// shards (by key hash); a Put that takes a shard over its cap evicts that shard's least recently
// used entries. An entry larger than a shard's cap is not stored (counted in oversize()).
// Stats().bytes is the charged total; ListedEntry::bytes the value's size.
//
// Time: the injected clock (unix milliseconds) decides expiry. An expired entry is never returned:
// Get removes it and counts it as expired.
//
// Threading: every method may be called from any thread; each shard has its own mutex, held only
// for the map/list operation (never across a co_await). The coroutines complete at once, on the
// caller's executor, without a hop.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cache/backend.hpp"

namespace modelmux::cache {

// Milliseconds since the Unix epoch from the system clock (the default clock of the backends).
[[nodiscard]] int64_t SystemNowMs();

// True when `meta` is selected by `filter` at time `now_ms` (the limit is not considered).
[[nodiscard]] bool MatchesFilter(const Filter& filter, const EntryMeta& meta, int64_t now_ms);

// True when the entry has a TTL and it has passed at `now_ms`.
[[nodiscard]] inline bool IsExpired(const EntryMeta& meta, int64_t now_ms) {
  return meta.expires_unix_ms != 0 && meta.expires_unix_ms <= now_ms;
}

class MemoryBackend : public Backend {
 public:
  static constexpr size_t kShards = 16;
  // Fixed charge per entry on top of its key, value and metadata strings.
  static constexpr size_t kEntryOverhead = 160;

  // `max_bytes` is the cap over all shards; `now_ms` the clock (unix ms).
  explicit MemoryBackend(size_t max_bytes, std::function<int64_t()> now_ms = SystemNowMs);
  ~MemoryBackend() override = default;
  MemoryBackend(const MemoryBackend&) = delete;
  MemoryBackend& operator=(const MemoryBackend&) = delete;

  [[nodiscard]] std::string name() const override { return "memory"; }

  boost::asio::awaitable<Result<std::optional<Entry>>> Get(std::string key) override;
  boost::asio::awaitable<Status> Put(std::string key, Entry entry) override;
  boost::asio::awaitable<Status> Erase(std::string key) override;
  boost::asio::awaitable<Result<std::vector<ListedEntry>>> List(Filter filter) override;
  boost::asio::awaitable<Result<uint64_t>> Purge(Filter filter) override;
  boost::asio::awaitable<Result<BackendStats>> Stats() override;

  // Synchronous forms of the above (the coroutines call these); safe from any thread.
  std::optional<Entry> GetNow(std::string_view key);
  // Returns false when the entry was not stored (larger than a shard's cap, or already expired).
  bool PutNow(std::string key, Entry entry);
  bool EraseNow(std::string_view key);
  [[nodiscard]] std::vector<ListedEntry> ListNow(const Filter& filter) const;
  uint64_t PurgeNow(const Filter& filter);
  [[nodiscard]] BackendStats StatsNow() const;

  // Entries refused because they were larger than a shard's cap.
  [[nodiscard]] uint64_t oversize() const { return oversize_.load(std::memory_order_relaxed); }
  [[nodiscard]] size_t shard_cap() const { return shard_cap_; }
  // The bytes an entry is charged (key, value, metadata strings and kEntryOverhead).
  [[nodiscard]] static size_t ChargeFor(std::string_view key, const Entry& entry);

 private:
  struct Node {
    std::string key;
    Entry entry;
    size_t charge = 0;
  };
  struct Shard {
    mutable std::mutex mu;
    std::list<Node> lru;  // front: most recently used
    std::unordered_map<std::string_view, std::list<Node>::iterator> index;  // views into lru keys
    size_t bytes = 0;
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t evictions = 0;
    uint64_t expired = 0;
  };

  Shard& ShardFor(std::string_view key);
  // Removes `it` from `shard` (the shard's mutex held).
  static void RemoveLocked(Shard& shard, std::list<Node>::iterator it);

  size_t shard_cap_;
  std::function<int64_t()> now_ms_;
  std::array<Shard, kShards> shards_;
  std::atomic<uint64_t> oversize_{0};
};

}  // namespace modelmux::cache
