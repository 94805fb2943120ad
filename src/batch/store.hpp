#pragma once
// The gateway's Batch API state: files and batch jobs, one SQLite database
// (<data_dir>/batch/batch.db) with the files' bytes beside it (<data_dir>/batch/files/<id>) and
// each job's results and errors in <data_dir>/batch/jobs/<batch id>/.
//
// Every row has an owner (a virtual key id, "master" or "anonymous"); the store filters by it
// when asked (an empty owner filter means every owner: the master key's view).
//
// Threading: a BatchStore is one connection, used by one thread at a time. SQLite and the disk
// block: call it from a worker thread, never from an event loop (batch/service.hpp does).
// Errors: kUnavailable "database_error" from SQLite, kInternal for the disk.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "store/sqlite.hpp"

namespace modelmux::batch {

struct FileRecord {
  std::string id;  // "file-..."
  std::string owner;
  std::string filename;
  std::string purpose;  // "batch" (uploads) or "batch_output" (a job's results or errors)
  int64_t bytes = 0;
  int64_t created_at = 0;             // unix seconds
  std::optional<int64_t> expires_at;  // unix seconds: the retention sweep removes it then
  std::string path;                   // where the bytes are
};

struct BatchRecord {
  std::string id;  // "batch_..."
  std::string owner;
  std::string endpoint;  // "/v1/chat/completions" | "/v1/embeddings"
  std::string input_file_id;
  std::string completion_window = "24h";
  // validating | in_progress | finalizing | completed | failed | cancelling | cancelled | expired
  std::string status = "validating";
  std::string errors_json;    // the "errors" object as JSON text, or "" for null
  std::string metadata_json;  // the caller's metadata object as JSON text, or "" for null
  std::optional<std::string> output_file_id, error_file_id;
  int64_t created_at = 0;
  std::optional<int64_t> in_progress_at, finalizing_at, completed_at, failed_at, cancelling_at,
      cancelled_at, expires_at;
  uint64_t total = 0, completed = 0, failed = 0;
  [[nodiscard]] bool Finished() const {
    return status == "completed" || status == "failed" || status == "cancelled" ||
           status == "expired";
  }
};

// A page of a list, newest first.
struct ListQuery {
  std::string owner;  // "" = every owner
  std::string after;  // an id: only rows older than it
  size_t limit = 20;
  std::string purpose;  // files only; "" = any
};

template <class T>
struct Page {
  std::vector<T> rows;
  bool has_more = false;
};

class BatchStore {
 public:
  // Creates <data_dir>/batch/{files,jobs} and the database, migrated to the current schema.
  [[nodiscard]] static Result<std::unique_ptr<BatchStore>> Open(const std::string& data_dir);

  [[nodiscard]] const std::string& root() const { return root_; }
  // <root>/files/<id>: where an uploaded file's bytes go.
  [[nodiscard]] std::string UploadPath(const std::string& file_id) const;
  // <root>/jobs/<batch id>: the job's results.jsonl and errors.jsonl (created here).
  [[nodiscard]] Result<std::string> JobDir(const std::string& batch_id) const;

  [[nodiscard]] Status PutFile(const FileRecord& file);  // insert or replace
  [[nodiscard]] Result<std::optional<FileRecord>> GetFile(const std::string& id);
  [[nodiscard]] Result<Page<FileRecord>> ListFiles(const ListQuery& q);
  // Removes the row and the bytes on disk; false when there was no such row.
  [[nodiscard]] Result<bool> DeleteFile(const std::string& id);

  [[nodiscard]] Status PutBatch(const BatchRecord& batch);  // insert or replace
  [[nodiscard]] Result<std::optional<BatchRecord>> GetBatch(const std::string& id);
  [[nodiscard]] Result<Page<BatchRecord>> ListBatches(const ListQuery& q);
  // Jobs that were not finished (the gateway stopped while they ran), oldest first.
  [[nodiscard]] Result<std::vector<BatchRecord>> Unfinished();

  struct Swept {
    size_t files = 0, batches = 0;
  };
  // Deletes the finished batches and the files whose expires_at <= now (and their bytes, and the
  // job directories). Running jobs stay until they end.
  [[nodiscard]] Result<Swept> Sweep(int64_t now);

 private:
  BatchStore() = default;
  std::string root_;
  store::sqlite::Db db_;
};

// A fresh id: prefix + 24 random lowercase alphanumerics ("file-", "batch_").
[[nodiscard]] std::string NewObjectId(std::string_view prefix);

}  // namespace modelmux::batch
