#pragma once
// TierBackend: a MemoryBackend in front of a slower, larger or shared backend (SQLite, Redis).
//
// Get: the front first; on a front miss the back, and a back hit fills the front with the same
// entry (its absolute expiry, so the front keeps only the remaining TTL). A back that fails is a
// miss (counted in errors), never an error to the caller.
// Put: the front synchronously, then the back's own Put (which for SQLite returns once queued);
// a failing back is counted and does not fail the Put, since the front holds the entry.
// Erase, Purge: both. List: the back's. Stats: entries, bytes, evictions and expired are the
// back's; hits, misses and errors are counted here, one per Get: hits = front hits + back hits
// (see Counters for the split), misses = Gets that missed both, errors = back failures.
//
// Threading: as thread-safe as the two backends (both are shared by every event loop).

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "cache/backend.hpp"
#include "cache/memory.hpp"

namespace modelmux::cache {

class TierBackend : public Backend {
 public:
  struct Counters {
    uint64_t front_hits = 0;
    uint64_t back_hits = 0;
    uint64_t misses = 0;
    uint64_t back_errors = 0;
  };

  TierBackend(std::unique_ptr<MemoryBackend> front, std::unique_ptr<Backend> back);
  ~TierBackend() override = default;
  TierBackend(const TierBackend&) = delete;
  TierBackend& operator=(const TierBackend&) = delete;

  // "tier(memory,<back>)".
  [[nodiscard]] std::string name() const override;

  boost::asio::awaitable<Result<std::optional<Entry>>> Get(std::string key) override;
  boost::asio::awaitable<Status> Put(std::string key, Entry entry) override;
  boost::asio::awaitable<Status> Erase(std::string key) override;
  boost::asio::awaitable<Result<std::vector<ListedEntry>>> List(Filter filter) override;
  boost::asio::awaitable<Result<uint64_t>> Purge(Filter filter) override;
  boost::asio::awaitable<Result<BackendStats>> Stats() override;

  [[nodiscard]] Counters counters() const;
  [[nodiscard]] MemoryBackend& front() { return *front_; }
  [[nodiscard]] Backend& back() { return *back_; }

 private:
  std::unique_ptr<MemoryBackend> front_;
  std::unique_ptr<Backend> back_;
  std::atomic<uint64_t> front_hits_{0}, back_hits_{0}, misses_{0}, back_errors_{0};
};

}  // namespace modelmux::cache
