#include "cache/memory.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

namespace modelmux::cache {

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool MatchesFilter(const Filter& filter, const EntryMeta& meta, int64_t now_ms) {
  if (filter.model && meta.model != *filter.model) return false;
  if (filter.ns && meta.ns != *filter.ns) return false;
  if (filter.created_before_unix_ms && meta.created_unix_ms >= *filter.created_before_unix_ms) {
    return false;
  }
  if (filter.expired_only && !IsExpired(meta, now_ms)) return false;
  return true;
}

MemoryBackend::MemoryBackend(size_t max_bytes, std::function<int64_t()> now_ms)
    : shard_cap_(max_bytes / kShards), now_ms_(std::move(now_ms)) {
  if (!now_ms_) now_ms_ = SystemNowMs;
}

size_t MemoryBackend::ChargeFor(std::string_view key, const Entry& entry) {
  const EntryMeta& m = entry.meta;
  return key.size() + entry.value.size() + m.ns.size() + m.model.size() + m.provider.size() +
         m.currency.size() + kEntryOverhead;
}

MemoryBackend::Shard& MemoryBackend::ShardFor(std::string_view key) {
  return shards_[std::hash<std::string_view>{}(key) % kShards];
}

void MemoryBackend::RemoveLocked(Shard& shard, std::list<Node>::iterator it) {
  shard.bytes -= it->charge;
  shard.index.erase(std::string_view(it->key));
  shard.lru.erase(it);
}

std::optional<Entry> MemoryBackend::GetNow(std::string_view key) {
  const int64_t now = now_ms_();
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mu);
  auto found = shard.index.find(key);
  if (found == shard.index.end()) {
    ++shard.misses;
    return std::nullopt;
  }
  auto it = found->second;
  if (IsExpired(it->entry.meta, now)) {
    RemoveLocked(shard, it);
    ++shard.expired;
    ++shard.misses;
    return std::nullopt;
  }
  shard.lru.splice(shard.lru.begin(), shard.lru, it);
  ++shard.hits;
  return it->entry;
}

bool MemoryBackend::PutNow(std::string key, Entry entry) {
  const size_t charge = ChargeFor(key, entry);
  const bool expired = IsExpired(entry.meta, now_ms_());
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mu);
  // A Put replaces: the previous entry goes even when the new one is refused.
  if (auto found = shard.index.find(std::string_view(key)); found != shard.index.end()) {
    RemoveLocked(shard, found->second);
  }
  if (expired) return false;
  if (charge > shard_cap_) {
    oversize_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  while (shard.bytes + charge > shard_cap_ && !shard.lru.empty()) {
    RemoveLocked(shard, std::prev(shard.lru.end()));
    ++shard.evictions;
  }
  shard.lru.push_front(Node{std::move(key), std::move(entry), charge});
  shard.index.emplace(std::string_view(shard.lru.front().key), shard.lru.begin());
  shard.bytes += charge;
  return true;
}

bool MemoryBackend::EraseNow(std::string_view key) {
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mu);
  auto found = shard.index.find(key);
  if (found == shard.index.end()) return false;
  RemoveLocked(shard, found->second);
  return true;
}

std::vector<ListedEntry> MemoryBackend::ListNow(const Filter& filter) const {
  const int64_t now = now_ms_();
  std::vector<ListedEntry> out;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    for (const Node& node : shard.lru) {
      if (!MatchesFilter(filter, node.entry.meta, now)) continue;
      out.push_back(ListedEntry{node.key, node.entry.meta, node.entry.value.size()});
    }
  }
  // Newest first, then by key, so that the order does not depend on hashing.
  std::sort(out.begin(), out.end(), [](const ListedEntry& a, const ListedEntry& b) {
    if (a.meta.created_unix_ms != b.meta.created_unix_ms) {
      return a.meta.created_unix_ms > b.meta.created_unix_ms;
    }
    return a.key < b.key;
  });
  if (out.size() > filter.limit) out.resize(filter.limit);
  return out;
}

uint64_t MemoryBackend::PurgeNow(const Filter& filter) {
  const int64_t now = now_ms_();
  uint64_t removed = 0;
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    for (auto it = shard.lru.begin(); it != shard.lru.end();) {
      auto next = std::next(it);
      if (MatchesFilter(filter, it->entry.meta, now)) {
        RemoveLocked(shard, it);
        ++removed;
      }
      it = next;
    }
  }
  return removed;
}

BackendStats MemoryBackend::StatsNow() const {
  BackendStats stats;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    stats.entries += shard.lru.size();
    stats.bytes += shard.bytes;
    stats.hits += shard.hits;
    stats.misses += shard.misses;
    stats.evictions += shard.evictions;
    stats.expired += shard.expired;
  }
  return stats;
}

boost::asio::awaitable<Result<std::optional<Entry>>> MemoryBackend::Get(std::string key) {
  co_return GetNow(key);
}

boost::asio::awaitable<Status> MemoryBackend::Put(std::string key, Entry entry) {
  PutNow(std::move(key), std::move(entry));
  co_return OkStatus();
}

boost::asio::awaitable<Status> MemoryBackend::Erase(std::string key) {
  EraseNow(key);
  co_return OkStatus();
}

boost::asio::awaitable<Result<std::vector<ListedEntry>>> MemoryBackend::List(Filter filter) {
  co_return ListNow(filter);
}

boost::asio::awaitable<Result<uint64_t>> MemoryBackend::Purge(Filter filter) {
  co_return PurgeNow(filter);
}

boost::asio::awaitable<Result<BackendStats>> MemoryBackend::Stats() {
  co_return StatsNow();
}

}  // namespace modelmux::cache
