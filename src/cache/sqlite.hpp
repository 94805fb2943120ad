#pragma once
// SqliteBackend: the embedded, persistent cache (the default behind the memory tier). One database
// file, conventionally `<data dir>/cache.db` (DefaultPath), in WAL mode.
//
// Durability: synchronous=NORMAL. A Put returns once it is queued; the writer thread commits queued
// writes in batches (every `flush_interval`, or at once when kMaxBatch are queued). So a crash of
// the process loses the writes of the last `flush_interval`, and a power loss may also lose the
// last commits; nothing is ever half-written. The destructor commits everything queued.
//
// Read-your-writes: queued Puts and Erases stay in a pending map until their batch commits; Get
// consults that map first, so a Get in this process sees its own Put at once.
//
// Threading: one writer thread owns the read-write connection (Puts, Erases, last-access updates,
// size-cap eviction, the periodic expiry clean-up, and List and Purge, which so see every write
// queued before them). Gets run on a pool of kReaderThreads threads, each with its own connection;
// results are posted back to the caller's executor, so an event loop never waits on the disk.
// Stats completes at once from counters. The injected clock is called from all these threads.
// Destroy the backend before the io_contexts of coroutines that use it.
//
// Back-pressure: when more than kMaxPendingBytes are queued and not committed, Put refuses with
// an error (counted), rather than growing without bound. An entry larger than the cap is not
// stored.
//
// Size cap: each row is charged its value plus kRowOverhead. When the total goes over `max_bytes`,
// the writer deletes expired rows first, then the least recently accessed, down to 90 % of the cap.
// Stats().bytes is that charged total (as for MemoryBackend), ListedEntry::bytes the value's size.
// A hit records its key's access time; those updates reach the database with the next batch.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "cache/backend.hpp"
#include "cache/sqlite_db.hpp"
#include "cache/sqlite_pool.hpp"

namespace modelmux::cache {

struct SqliteOptions {
  size_t max_bytes = size_t{1} << 30;
  std::chrono::milliseconds flush_interval{20};
  std::chrono::seconds cleanup_interval{60};  // 0: no periodic clean-up
  std::function<int64_t()> now_ms;            // unix ms; empty: the system clock
};

class SqliteBackend : public Backend {
 public:
  static constexpr size_t kReaderThreads = 2;
  static constexpr size_t kMaxBatch = 512;               // writes per transaction at most
  static constexpr size_t kRowOverhead = 256;            // charged per row on top of the value
  static constexpr size_t kMaxPendingBytes = 64u << 20;  // queued, uncommitted bytes
  static constexpr size_t kMaxPendingTouches = 16384;

  // Opens (creating the file and its directory when missing) the database at `path`. A file that
  // is not a SQLite database, or one written by a newer schema, is an error naming the path.
  static Result<std::unique_ptr<SqliteBackend>> Open(std::string path, SqliteOptions options);
  // `<data_dir>/cache.db`.
  [[nodiscard]] static std::string DefaultPath(const std::string& data_dir);

  // Commits everything queued, then stops and joins the threads.
  ~SqliteBackend() override;
  SqliteBackend(const SqliteBackend&) = delete;
  SqliteBackend& operator=(const SqliteBackend&) = delete;

  [[nodiscard]] std::string name() const override { return "sqlite"; }

  boost::asio::awaitable<Result<std::optional<Entry>>> Get(std::string key) override;
  boost::asio::awaitable<Status> Put(std::string key, Entry entry) override;
  boost::asio::awaitable<Status> Erase(std::string key) override;
  boost::asio::awaitable<Result<std::vector<ListedEntry>>> List(Filter filter) override;
  boost::asio::awaitable<Result<uint64_t>> Purge(Filter filter) override;
  boost::asio::awaitable<Result<BackendStats>> Stats() override;

  // Blocks until every write queued before the call is committed (tests, shutdown, the CLI).
  // Never call it from an event loop.
  void Flush();

  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  // One queued write (or a task that must see every earlier write).
  struct Op {
    enum class Kind { kPut, kErase, kEraseIfExpired, kTask, kFlush };
    Kind kind = Kind::kTask;
    std::string key;
    std::shared_ptr<const Entry> entry;
    uint64_t seq = 0;              // kPut, kErase: the pending_ slot this op owns
    size_t bytes = 0;              // kPut: counted in pending_bytes_
    int64_t at_ms = 0;             // kPut: last access; kEraseIfExpired: when it was seen expired
    sqlite::ReaderPool::Job task;  // kTask: runs inside the batch's transaction
    std::shared_ptr<std::promise<void>> done;  // kFlush
  };
  struct PendingWrite {
    uint64_t seq = 0;
    std::shared_ptr<const Entry> entry;  // null: a queued Erase
  };

  SqliteBackend(std::string path, SqliteOptions options, sqlite::Db writer);
  Status Init();
  void Enqueue(Op op);
  // Submits a job to run on the writer thread, in order with the queued writes.
  std::function<void(sqlite::ReaderPool::Job)> OnWriter();
  void WriterLoop();
  void ApplyBatch(std::deque<Op>& batch, std::unordered_map<std::string, int64_t>& touches);
  Status ApplyPut(const std::string& key, const Entry& entry, int64_t at_ms);
  Status ApplyErase(const std::string& key, bool only_if_expired, int64_t now_ms);
  Result<uint64_t> DeleteWhere(const std::string& where,
                               const std::vector<sqlite::BindValue>& params);
  void DeleteExpired();
  void EnforceCap();
  [[nodiscard]] uint64_t Charged() const;
  void CountError();
  // Reader-thread half of Get.
  Result<std::optional<Entry>> ReadOne(sqlite3* db, const std::string& key);
  Result<std::vector<ListedEntry>> ListOn(sqlite3* db, const Filter& filter);

  std::string path_;
  SqliteOptions options_;
  sqlite::Db writer_;  // used only by the writer thread once started
  sqlite::Stmt put_stmt_, size_stmt_, erase_stmt_, erase_expired_stmt_, touch_stmt_;
  std::unique_ptr<sqlite::ReaderPool> readers_;

  std::mutex mu_;  // guards queue_, pending_, touches_, the flags and pending_bytes_
  std::condition_variable cv_;
  std::deque<Op> queue_;
  std::unordered_map<std::string, PendingWrite> pending_;
  std::unordered_map<std::string, int64_t> touches_;  // key -> last access (unix ms)
  uint64_t next_seq_ = 0;
  size_t pending_bytes_ = 0;
  bool flush_now_ = false;
  bool stop_ = false;
  std::thread writer_thread_;

  // Committed totals (written by the writer thread) and counters.
  std::atomic<uint64_t> entries_{0}, bytes_{0};
  std::atomic<uint64_t> hits_{0}, misses_{0}, errors_{0}, evictions_{0}, expired_{0};
};

}  // namespace modelmux::cache
