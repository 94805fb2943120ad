#include "batch/store.hpp"

#include <array>
#include <filesystem>
#include <random>
#include <system_error>

namespace modelmux::batch {

namespace fs = std::filesystem;
namespace sq = store::sqlite;

namespace {

constexpr std::array<std::string_view, 1> kMigrations = {
    R"(CREATE TABLE files(
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         id TEXT NOT NULL UNIQUE,
         owner TEXT NOT NULL,
         filename TEXT NOT NULL,
         purpose TEXT NOT NULL,
         bytes INTEGER NOT NULL,
         created_at INTEGER NOT NULL,
         expires_at INTEGER,
         path TEXT NOT NULL);
       CREATE INDEX files_owner ON files(owner, seq);
       CREATE TABLE batches(
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         id TEXT NOT NULL UNIQUE,
         owner TEXT NOT NULL,
         endpoint TEXT NOT NULL,
         input_file_id TEXT NOT NULL,
         completion_window TEXT NOT NULL,
         status TEXT NOT NULL,
         errors TEXT,
         metadata TEXT,
         output_file_id TEXT,
         error_file_id TEXT,
         created_at INTEGER NOT NULL,
         in_progress_at INTEGER, finalizing_at INTEGER, completed_at INTEGER, failed_at INTEGER,
         cancelling_at INTEGER, cancelled_at INTEGER, expires_at INTEGER,
         total INTEGER NOT NULL, completed INTEGER NOT NULL, failed INTEGER NOT NULL);
       CREATE INDEX batches_owner ON batches(owner, seq);)",
};

constexpr std::string_view kFileColumns =
    "id, owner, filename, purpose, bytes, created_at, expires_at, path";
constexpr std::string_view kBatchColumns =
    "id, owner, endpoint, input_file_id, completion_window, status, errors, metadata, "
    "output_file_id, error_file_id, created_at, in_progress_at, finalizing_at, completed_at, "
    "failed_at, cancelling_at, cancelled_at, expires_at, total, completed, failed";

FileRecord ReadFile(const sq::Query& q) {
  FileRecord f;
  f.id = q.Text(0);
  f.owner = q.Text(1);
  f.filename = q.Text(2);
  f.purpose = q.Text(3);
  f.bytes = q.Int(4);
  f.created_at = q.Int(5);
  f.expires_at = q.OptionalInt(6);
  f.path = q.Text(7);
  return f;
}

std::optional<std::string> OptionalText(const sq::Query& q, int col) {
  if (q.IsNull(col)) return std::nullopt;
  return q.Text(col);
}

BatchRecord ReadBatch(const sq::Query& q) {
  BatchRecord b;
  b.id = q.Text(0);
  b.owner = q.Text(1);
  b.endpoint = q.Text(2);
  b.input_file_id = q.Text(3);
  b.completion_window = q.Text(4);
  b.status = q.Text(5);
  b.errors_json = OptionalText(q, 6).value_or("");
  b.metadata_json = OptionalText(q, 7).value_or("");
  b.output_file_id = OptionalText(q, 8);
  b.error_file_id = OptionalText(q, 9);
  b.created_at = q.Int(10);
  b.in_progress_at = q.OptionalInt(11);
  b.finalizing_at = q.OptionalInt(12);
  b.completed_at = q.OptionalInt(13);
  b.failed_at = q.OptionalInt(14);
  b.cancelling_at = q.OptionalInt(15);
  b.cancelled_at = q.OptionalInt(16);
  b.expires_at = q.OptionalInt(17);
  b.total = static_cast<uint64_t>(q.Int(18));
  b.completed = static_cast<uint64_t>(q.Int(19));
  b.failed = static_cast<uint64_t>(q.Int(20));
  return b;
}

std::optional<std::string> NullIfEmpty(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return s;
}

// "SELECT <cols> FROM <table> WHERE ... ORDER BY seq DESC LIMIT n+1" for a ListQuery.
template <class T, class ReadFn>
Result<Page<T>> ListPage(sqlite3* db, std::string_view table, std::string_view columns,
                         const ListQuery& q, ReadFn read) {
  std::string sql = "SELECT " + std::string(columns) + " FROM " + std::string(table) +
                    " WHERE (?1 = '' OR owner = ?1)" + " AND (?2 = '' OR seq < (SELECT seq FROM " +
                    std::string(table) + " WHERE id = ?2))";
  if (table == "files") sql += " AND (?3 = '' OR purpose = ?3)";
  sql += " ORDER BY seq DESC LIMIT ?4";
  MM_TRY(auto query, sq::Query::Prepare(db, sql));
  query.Bind(1, std::string_view(q.owner))
      .Bind(2, std::string_view(q.after))
      .Bind(4, static_cast<int64_t>(q.limit) + 1);
  if (table == "files") query.Bind(3, std::string_view(q.purpose));
  Page<T> page;
  while (true) {
    MM_TRY(bool row, query.Step());
    if (!row) break;
    if (page.rows.size() == q.limit) {
      page.has_more = true;
      break;
    }
    page.rows.push_back(read(query));
  }
  return page;
}

void RemovePath(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);  // best effort: a file already gone is fine
}

}  // namespace

std::string NewObjectId(std::string_view prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string id(prefix);
  for (int i = 0; i < 24; ++i) id += kChars[rng() % 36];
  return id;
}

Result<std::unique_ptr<BatchStore>> BatchStore::Open(const std::string& data_dir) {
  auto store = std::unique_ptr<BatchStore>(new BatchStore());
  store->root_ = (fs::path(data_dir) / "batch").string();
  std::error_code ec;
  for (const char* sub : {"files", "jobs"}) {
    fs::create_directories(fs::path(store->root_) / sub, ec);
    if (ec) return Internal(store->root_ + ": cannot be created (" + ec.message() + ")");
  }
  sq::OpenOptions oo;
  oo.synchronous = sq::Synchronous::kFull;  // a job's state must survive a crash of the host
  MM_TRY(store->db_, sq::Open((fs::path(store->root_) / "batch.db").string(), oo));
  MM_RETURN_IF_ERROR(sq::Migrate(store->db_.get(), kMigrations));
  return store;
}

std::string BatchStore::UploadPath(const std::string& file_id) const {
  return (fs::path(root_) / "files" / file_id).string();
}

Result<std::string> BatchStore::JobDir(const std::string& batch_id) const {
  const auto dir = fs::path(root_) / "jobs" / batch_id;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Internal(dir.string() + ": cannot be created (" + ec.message() + ")");
  return dir.string();
}

Status BatchStore::PutFile(const FileRecord& f) {
  MM_TRY(auto q,
         sq::Query::Prepare(db_.get(),
                            "INSERT INTO files(" + std::string(kFileColumns) +
                                ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8) ON CONFLICT(id) DO UPDATE SET "
                                "owner=?2, filename=?3, purpose=?4, bytes=?5, created_at=?6, "
                                "expires_at=?7, path=?8"));
  q.Bind(1, std::string_view(f.id))
      .Bind(2, std::string_view(f.owner))
      .Bind(3, std::string_view(f.filename))
      .Bind(4, std::string_view(f.purpose))
      .Bind(5, f.bytes);
  q.Bind(6, f.created_at).Bind(7, f.expires_at).Bind(8, std::string_view(f.path));
  return q.Run();
}

Result<std::optional<FileRecord>> BatchStore::GetFile(const std::string& id) {
  MM_TRY(auto q, sq::Query::Prepare(
                     db_.get(), "SELECT " + std::string(kFileColumns) + " FROM files WHERE id=?1"));
  q.Bind(1, std::string_view(id));
  MM_TRY(bool row, q.Step());
  if (!row) return std::optional<FileRecord>();
  return std::optional<FileRecord>(ReadFile(q));
}

Result<Page<FileRecord>> BatchStore::ListFiles(const ListQuery& q) {
  return ListPage<FileRecord>(db_.get(), "files", kFileColumns, q, ReadFile);
}

Result<bool> BatchStore::DeleteFile(const std::string& id) {
  MM_TRY(auto found, GetFile(id));
  if (!found) return false;
  MM_TRY(auto q, sq::Query::Prepare(db_.get(), "DELETE FROM files WHERE id=?1"));
  q.Bind(1, std::string_view(id));
  MM_RETURN_IF_ERROR(q.Run());
  RemovePath(found->path);
  return true;
}

Status BatchStore::PutBatch(const BatchRecord& b) {
  MM_TRY(auto q,
         sq::Query::Prepare(
             db_.get(),
             "INSERT INTO batches(" + std::string(kBatchColumns) +
                 ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,"
                 "?20,?21) ON CONFLICT(id) DO UPDATE SET owner=?2, endpoint=?3, "
                 "input_file_id=?4, completion_window=?5, status=?6, errors=?7, metadata=?8, "
                 "output_file_id=?9, error_file_id=?10, created_at=?11, in_progress_at=?12, "
                 "finalizing_at=?13, completed_at=?14, failed_at=?15, cancelling_at=?16, "
                 "cancelled_at=?17, expires_at=?18, total=?19, completed=?20, failed=?21"));
  q.Bind(1, std::string_view(b.id))
      .Bind(2, std::string_view(b.owner))
      .Bind(3, std::string_view(b.endpoint))
      .Bind(4, std::string_view(b.input_file_id));
  q.Bind(5, std::string_view(b.completion_window))
      .Bind(6, std::string_view(b.status))
      .Bind(7, NullIfEmpty(b.errors_json));
  q.Bind(8, NullIfEmpty(b.metadata_json)).Bind(9, b.output_file_id).Bind(10, b.error_file_id);
  q.Bind(11, b.created_at).Bind(12, b.in_progress_at).Bind(13, b.finalizing_at);
  q.Bind(14, b.completed_at).Bind(15, b.failed_at).Bind(16, b.cancelling_at);
  q.Bind(17, b.cancelled_at).Bind(18, b.expires_at).Bind(19, static_cast<int64_t>(b.total));
  q.Bind(20, static_cast<int64_t>(b.completed)).Bind(21, static_cast<int64_t>(b.failed));
  return q.Run();
}

Result<std::optional<BatchRecord>> BatchStore::GetBatch(const std::string& id) {
  MM_TRY(auto q, sq::Query::Prepare(db_.get(), "SELECT " + std::string(kBatchColumns) +
                                                   " FROM batches WHERE id=?1"));
  q.Bind(1, std::string_view(id));
  MM_TRY(bool row, q.Step());
  if (!row) return std::optional<BatchRecord>();
  return std::optional<BatchRecord>(ReadBatch(q));
}

Result<Page<BatchRecord>> BatchStore::ListBatches(const ListQuery& q) {
  return ListPage<BatchRecord>(db_.get(), "batches", kBatchColumns, q, ReadBatch);
}

Result<std::vector<BatchRecord>> BatchStore::Unfinished() {
  MM_TRY(auto q, sq::Query::Prepare(db_.get(),
                                    "SELECT " + std::string(kBatchColumns) +
                                        " FROM batches WHERE status IN ('validating','in_progress',"
                                        "'finalizing','cancelling') ORDER BY seq"));
  std::vector<BatchRecord> out;
  while (true) {
    MM_TRY(bool row, q.Step());
    if (!row) break;
    out.push_back(ReadBatch(q));
  }
  return out;
}

Result<BatchStore::Swept> BatchStore::Sweep(int64_t now) {
  Swept swept;
  std::vector<std::string> batch_ids;
  {
    MM_TRY(auto q, sq::Query::Prepare(db_.get(),
                                      "SELECT id FROM batches WHERE expires_at <= ?1 AND status IN "
                                      "('completed','failed','cancelled','expired')"));
    q.Bind(1, now);
    while (true) {
      MM_TRY(bool row, q.Step());
      if (!row) break;
      batch_ids.push_back(q.Text(0));
    }
  }
  for (const auto& id : batch_ids) {
    MM_TRY(auto q, sq::Query::Prepare(db_.get(), "DELETE FROM batches WHERE id=?1"));
    q.Bind(1, std::string_view(id));
    MM_RETURN_IF_ERROR(q.Run());
    RemovePath((fs::path(root_) / "jobs" / id).string());
    ++swept.batches;
  }
  std::vector<std::string> file_ids;
  {
    MM_TRY(auto q, sq::Query::Prepare(db_.get(), "SELECT id FROM files WHERE expires_at <= ?1"));
    q.Bind(1, now);
    while (true) {
      MM_TRY(bool row, q.Step());
      if (!row) break;
      file_ids.push_back(q.Text(0));
    }
  }
  for (const auto& id : file_ids) {
    MM_TRY(bool gone, DeleteFile(id));
    if (gone) ++swept.files;
  }
  return swept;
}

}  // namespace modelmux::batch
