#pragma once
// The Batch API's engine on the gateway: files and batch jobs in a BatchStore, jobs run in the
// background by the same FileJob as `modelmux batch`, on the gateway's event loops.
//
// A job: validating (CheckApiInput) -> in_progress (FileJob, counts saved about once a second)
// -> finalizing (results and errors become files of purpose "batch_output") -> completed; or
// failed (a bad input, with errors.data[]), or cancelling -> cancelled with the partial output.
// A job not finished when the gateway stopped is taken up again by Start(): FileJob resumes
// from its results and errors files, so no custom_id runs twice once its result is on disk.
//
// Ownership: every file and batch has an owner; a Principal sees only its own, except one with
// sees_all (the master key). What another owner has is "not found" (404), never "forbidden".
//
// Threading: thread-safe; the awaitables may be awaited on any event loop. SQLite and the disk
// are used from one worker thread only; nothing here blocks an event loop.

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "batch/job.hpp"
#include "batch/objects.hpp"
#include "batch/store.hpp"

namespace modelmux::batch {

struct ServiceOptions {
  std::string data_dir;
  std::chrono::milliseconds retention{std::chrono::hours(24 * 30)};
  // Where jobs run, in turn (the gateway's event loops); the first also runs the sweeper.
  std::vector<boost::asio::any_io_executor> executors;
  // The current router (configuration reloads swap it); a job keeps the one it started with.
  std::function<std::shared_ptr<const routing::Router>()> router;
  RunOptions run;  // concurrency and flush settings of every job
  size_t max_line_bytes = kDefaultMaxLineBytes;
  std::chrono::milliseconds sweep_interval{0};  // 0: retention / 2, within 500 ms .. 60 s
  std::function<int64_t()> now;                 // unix seconds; default: the system clock
  // The admission of a job's lines (the owner's limits and the ledger; gateway/batch_gate.hpp),
  // made per job from its owner and id. Null: lines are admitted without limits.
  std::function<std::shared_ptr<LineGate>(const std::string& owner, const std::string& batch_id)>
      gate_for;
};

struct Principal {
  std::string owner;      // the key id, "master" or "anonymous"
  bool sees_all = false;  // the master key
};

class BatchService : public std::enable_shared_from_this<BatchService> {
 public:
  [[nodiscard]] static Result<std::shared_ptr<BatchService>> Create(ServiceOptions options);
  ~BatchService();
  BatchService(const BatchService&) = delete;
  BatchService& operator=(const BatchService&) = delete;

  // Takes up the unfinished jobs and starts the retention sweeper (posts to the executors).
  void Start();
  // Stops the sweeper and the worker thread (after the event loops have stopped).
  void Stop();

  // Uploads: `bytes` must be JSON Lines (one JSON object a line, blank lines allowed); purpose
  // "batch" only. 400 invalid_purpose | invalid_jsonl (naming the line).
  boost::asio::awaitable<Result<FileRecord>> CreateFile(Principal who, std::string filename,
                                                        std::string purpose, std::string bytes);
  boost::asio::awaitable<Result<FileRecord>> GetFile(Principal who, std::string id);
  boost::asio::awaitable<Result<Page<FileRecord>>> ListFiles(Principal who, ListQuery query);
  boost::asio::awaitable<Status> DeleteFile(Principal who, std::string id);
  boost::asio::awaitable<Result<std::string>> FileContent(Principal who, std::string id);

  // `draft` carries endpoint, input_file_id, completion_window, metadata_json; `model_ok` (may
  // be empty) is the caller's own model scope, applied to every line while validating.
  boost::asio::awaitable<Result<BatchRecord>> CreateBatch(Principal who, BatchRecord draft,
                                                          ModelCheck model_ok);
  boost::asio::awaitable<Result<BatchRecord>> GetBatch(Principal who, std::string id);
  boost::asio::awaitable<Result<Page<BatchRecord>>> ListBatches(Principal who, ListQuery query);
  // validating / in_progress -> cancelling (the runner stops; the job ends cancelled); a batch
  // already cancelling or cancelled is returned as it is; a finished one is 400.
  boost::asio::awaitable<Result<BatchRecord>> CancelBatch(Principal who, std::string id);

  // Runs the retention sweep once (the sweeper calls it periodically).
  boost::asio::awaitable<Result<BatchStore::Swept>> Sweep();

  [[nodiscard]] const ServiceOptions& options() const { return options_; }

  struct Running;  // a job in memory (service.cpp)

 private:
  explicit BatchService(ServiceOptions options) : options_(std::move(options)) {}
  [[nodiscard]] int64_t Now() const;
  // Runs fn(BatchStore&) on the worker thread; resumes on the caller's executor.
  template <class T, class Fn>
  boost::asio::awaitable<T> OnStore(Fn fn);
  void Spawn(const std::string& batch_id, ModelCheck model_ok);
  static boost::asio::awaitable<void> RunJob(std::shared_ptr<BatchService> self,
                                             std::string batch_id, ModelCheck model_ok);
  static boost::asio::awaitable<void> Sweeper(std::shared_ptr<BatchService> self);
  boost::asio::awaitable<void> SaveCounts(std::string batch_id, Progress progress, uint64_t base_ok,
                                          uint64_t base_failed);

  ServiceOptions options_;
  std::unique_ptr<BatchStore> store_;
  std::unique_ptr<boost::asio::thread_pool> pool_;  // one thread: the store's
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Running>> running_;
  size_t next_executor_ = 0;
  std::atomic<bool> stopped_{false};
};

}  // namespace modelmux::batch
