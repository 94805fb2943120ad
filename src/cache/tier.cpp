#include "cache/tier.hpp"

#include <utility>

namespace modelmux::cache {

namespace asio = boost::asio;

TierBackend::TierBackend(std::unique_ptr<MemoryBackend> front, std::unique_ptr<Backend> back)
    : front_(std::move(front)), back_(std::move(back)) {}

std::string TierBackend::name() const {
  return "tier(" + front_->name() + "," + back_->name() + ")";
}

TierBackend::Counters TierBackend::counters() const {
  return Counters{front_hits_.load(), back_hits_.load(), misses_.load(), back_errors_.load()};
}

asio::awaitable<Result<std::optional<Entry>>> TierBackend::Get(std::string key) {
  if (std::optional<Entry> hit = front_->GetNow(key)) {
    front_hits_.fetch_add(1, std::memory_order_relaxed);
    co_return hit;
  }
  Result<std::optional<Entry>> back = co_await back_->Get(key);
  if (!back.ok()) {
    back_errors_.fetch_add(1, std::memory_order_relaxed);
    misses_.fetch_add(1, std::memory_order_relaxed);
    co_return std::optional<Entry>();
  }
  if (!back->has_value()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    co_return std::optional<Entry>();
  }
  back_hits_.fetch_add(1, std::memory_order_relaxed);
  // The same absolute expiry: the front keeps it only for the TTL that remains.
  front_->PutNow(std::move(key), **back);
  co_return std::move(back).value();
}

asio::awaitable<Status> TierBackend::Put(std::string key, Entry entry) {
  front_->PutNow(key, entry);
  Status back = co_await back_->Put(std::move(key), std::move(entry));
  if (!back.ok()) back_errors_.fetch_add(1, std::memory_order_relaxed);
  co_return OkStatus();
}

asio::awaitable<Status> TierBackend::Erase(std::string key) {
  front_->EraseNow(key);
  co_return co_await back_->Erase(std::move(key));
}

asio::awaitable<Result<std::vector<ListedEntry>>> TierBackend::List(Filter filter) {
  co_return co_await back_->List(std::move(filter));
}

asio::awaitable<Result<uint64_t>> TierBackend::Purge(Filter filter) {
  // The front holds copies of back entries (and of Puts the back may have refused): both go.
  const uint64_t front_removed = front_->PurgeNow(filter);
  Result<uint64_t> back = co_await back_->Purge(std::move(filter));
  if (!back.ok()) {
    back_errors_.fetch_add(1, std::memory_order_relaxed);
    co_return back;
  }
  co_return std::max(*back, front_removed);
}

asio::awaitable<Result<BackendStats>> TierBackend::Stats() {
  Result<BackendStats> back = co_await back_->Stats();
  BackendStats stats;
  if (back.ok()) {
    stats = *back;
  } else {
    // The back cannot say: the front's own contents stand in.
    back_errors_.fetch_add(1, std::memory_order_relaxed);
    stats = front_->StatsNow();
  }
  stats.hits = front_hits_.load() + back_hits_.load();
  stats.misses = misses_.load();
  stats.errors = back_errors_.load();
  co_return stats;
}

}  // namespace modelmux::cache
