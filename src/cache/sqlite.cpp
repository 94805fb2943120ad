#include "cache/sqlite.hpp"

#include <algorithm>
#include <filesystem>
#include <future>
#include <system_error>
#include <utility>

#include "cache/memory.hpp"

namespace modelmux::cache {

namespace asio = boost::asio;
using sqlite::Stmt;

namespace {

Error QueueFull() {
  Error e;
  e.kind = ErrorKind::kUnavailable;
  e.code = "cache_write_queue_full";
  e.message = "cache write queue full";
  return e;
}

}  // namespace

std::string SqliteBackend::DefaultPath(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "cache.db").string();
}

Result<std::unique_ptr<SqliteBackend>> SqliteBackend::Open(std::string path,
                                                           SqliteOptions options) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) return sqlite::DbError(path, "create directory: " + ec.message(), nullptr);
  }
  MM_TRY(sqlite::Db writer, sqlite::OpenConnection(path, /*writer=*/true));
  MM_RETURN_IF_ERROR(sqlite::EnsureSchema(writer.get(), path));
  std::vector<sqlite::Db> readers;
  for (size_t i = 0; i < kReaderThreads; ++i) {
    MM_TRY(sqlite::Db reader, sqlite::OpenConnection(path, /*writer=*/false));
    readers.push_back(std::move(reader));
  }
  if (!options.now_ms) options.now_ms = SystemNowMs;
  std::unique_ptr<SqliteBackend> backend(
      new SqliteBackend(std::move(path), std::move(options), std::move(writer)));
  MM_RETURN_IF_ERROR(backend->Init());
  backend->readers_ = std::make_unique<sqlite::ReaderPool>(std::move(readers));
  backend->writer_thread_ = std::thread([raw = backend.get()] { raw->WriterLoop(); });
  return backend;
}

SqliteBackend::SqliteBackend(std::string path, SqliteOptions options, sqlite::Db writer)
    : path_(std::move(path)), options_(std::move(options)), writer_(std::move(writer)) {}

Status SqliteBackend::Init() {
  sqlite3* db = writer_.get();
  MM_TRY(put_stmt_, sqlite::Prepare(db, path_,
                                    "INSERT OR REPLACE INTO entries(key, ns, model, provider, "
                                    "stream, created_ms, expires_ms, prompt_tokens, "
                                    "completion_tokens, cost, currency, bytes, value, "
                                    "last_access_ms) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  MM_TRY(size_stmt_, sqlite::Prepare(db, path_, "SELECT bytes FROM entries WHERE key = ?"));
  MM_TRY(erase_stmt_,
         sqlite::Prepare(db, path_, "DELETE FROM entries WHERE key = ? RETURNING bytes"));
  MM_TRY(erase_expired_stmt_,
         sqlite::Prepare(db, path_,
                         "DELETE FROM entries WHERE key = ? AND expires_ms > 0 AND "
                         "expires_ms <= ? RETURNING bytes"));
  MM_TRY(touch_stmt_, sqlite::Prepare(db, path_,
                                      "UPDATE entries SET last_access_ms = max(last_access_ms, ?) "
                                      "WHERE key = ?"));
  MM_TRY(Stmt totals,
         sqlite::Prepare(db, path_, "SELECT count(*), coalesce(sum(bytes), 0) FROM entries"));
  if (sqlite3_step(totals.get()) != SQLITE_ROW) return sqlite::DbError(path_, "totals", db);
  entries_ = static_cast<uint64_t>(sqlite3_column_int64(totals.get(), 0));
  bytes_ = static_cast<uint64_t>(sqlite3_column_int64(totals.get(), 1));
  return OkStatus();
}

SqliteBackend::~SqliteBackend() {
  // Readers first: their jobs may still queue writes (expired keys) for the writer.
  readers_.reset();
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (writer_thread_.joinable()) writer_thread_.join();
}

void SqliteBackend::CountError() {
  errors_.fetch_add(1, std::memory_order_relaxed);
}

void SqliteBackend::Enqueue(Op op) {
  {
    std::lock_guard lock(mu_);
    if (op.kind == Op::Kind::kFlush) flush_now_ = true;
    queue_.push_back(std::move(op));
  }
  cv_.notify_one();
}

void SqliteBackend::Flush() {
  Op op;
  op.kind = Op::Kind::kFlush;
  op.done = std::make_shared<std::promise<void>>();
  std::future<void> done = op.done->get_future();
  Enqueue(std::move(op));
  done.wait();
}

// ---- the calls ----

namespace {

// The prepared Get of a reader thread. Each reader thread owns exactly one connection, so one
// statement per thread suffices; it is reset after every use so that it holds no read snapshot.
struct CachedGet {
  sqlite3* db = nullptr;
  Stmt stmt;
};

struct ResetOnExit {
  sqlite3_stmt* stmt;
  ~ResetOnExit() {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  }
};

}  // namespace

Result<std::optional<Entry>> SqliteBackend::ReadOne(sqlite3* db, const std::string& key) {
  thread_local CachedGet cached;
  if (cached.db != db) {
    const std::string sql =
        std::string("SELECT ") + sqlite::kMetaColumns + ", value FROM entries WHERE key = ?";
    Result<Stmt> prepared = sqlite::Prepare(db, path_, sql);
    if (!prepared.ok()) {
      CountError();
      return prepared.error();
    }
    cached.stmt = std::move(prepared).value();
    cached.db = db;
  }
  sqlite3_stmt* stmt = cached.stmt.get();
  ResetOnExit reset{stmt};
  sqlite::BindText(stmt, 1, key);
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::optional<Entry>();
  }
  if (rc != SQLITE_ROW) {
    CountError();
    return sqlite::DbError(path_, "get", db);
  }
  Entry entry;
  entry.meta = sqlite::ReadMeta(stmt, 0);
  const int64_t now = options_.now_ms();
  if (IsExpired(entry.meta, now)) {
    // Never returned; the writer deletes it (and counts it) unless a newer Put replaced it.
    misses_.fetch_add(1, std::memory_order_relaxed);
    Op op;
    op.kind = Op::Kind::kEraseIfExpired;
    op.key = key;
    op.at_ms = now;
    Enqueue(std::move(op));
    return std::optional<Entry>();
  }
  entry.value = sqlite::ColumnBlob(stmt, 10);
  hits_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(mu_);
    if (touches_.size() < kMaxPendingTouches) touches_[key] = now;
  }
  return std::optional<Entry>(std::move(entry));
}

asio::awaitable<Result<std::optional<Entry>>> SqliteBackend::Get(std::string key) {
  bool queued = false;
  std::shared_ptr<const Entry> entry;
  {
    std::lock_guard lock(mu_);
    if (auto it = pending_.find(key); it != pending_.end()) {
      queued = true;
      entry = it->second.entry;
    }
  }
  if (queued) {  // written (or erased) by this process, not committed yet
    if (entry == nullptr || IsExpired(entry->meta, options_.now_ms())) {
      misses_.fetch_add(1, std::memory_order_relaxed);
      co_return std::optional<Entry>();
    }
    hits_.fetch_add(1, std::memory_order_relaxed);
    co_return std::optional<Entry>(*entry);
  }
  auto submit = [this](sqlite::ReaderPool::Job job) { readers_->Submit(std::move(job)); };
  auto read = [this, key = std::move(key)](sqlite3* db) { return ReadOne(db, key); };
  auto op = sqlite::RunOff<Result<std::optional<Entry>>>(submit, std::move(read));
  co_return co_await std::move(op);
}

asio::awaitable<Status> SqliteBackend::Put(std::string key, Entry entry) {
  const size_t size = key.size() + entry.value.size() + kRowOverhead;
  if (entry.value.size() + kRowOverhead > options_.max_bytes ||
      IsExpired(entry.meta, options_.now_ms())) {
    co_return OkStatus();  // would be evicted (or expired) at once: not stored
  }
  Op op;
  op.kind = Op::Kind::kPut;
  op.entry = std::make_shared<const Entry>(std::move(entry));
  op.bytes = size;
  op.at_ms = options_.now_ms();
  {
    std::lock_guard lock(mu_);
    if (pending_bytes_ + size > kMaxPendingBytes) {
      CountError();
      co_return QueueFull();
    }
    op.seq = ++next_seq_;
    pending_[key] = PendingWrite{op.seq, op.entry};
    pending_bytes_ += size;
    op.key = std::move(key);
    queue_.push_back(std::move(op));
  }
  cv_.notify_one();
  co_return OkStatus();
}

asio::awaitable<Status> SqliteBackend::Erase(std::string key) {
  Op op;
  op.kind = Op::Kind::kErase;
  {
    std::lock_guard lock(mu_);
    op.seq = ++next_seq_;
    pending_[key] = PendingWrite{op.seq, nullptr};
    op.key = std::move(key);
    queue_.push_back(std::move(op));
  }
  cv_.notify_one();
  co_return OkStatus();
}

Result<std::vector<ListedEntry>> SqliteBackend::ListOn(sqlite3* db, const Filter& filter) {
  const sqlite::WhereClause where = sqlite::WhereFor(filter, options_.now_ms());
  const std::string sql = std::string("SELECT key, ") + sqlite::kMetaColumns +
                          ", bytes FROM entries" + where.sql +
                          " ORDER BY created_ms DESC, key LIMIT ?";
  MM_TRY(Stmt stmt, sqlite::Prepare(db, path_, sql));
  const int next = sqlite::BindAll(stmt.get(), where.params);
  sqlite3_bind_int64(stmt.get(), next, static_cast<int64_t>(filter.limit));
  std::vector<ListedEntry> out;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    ListedEntry e;
    e.key = sqlite::ColumnText(stmt.get(), 0);
    e.meta = sqlite::ReadMeta(stmt.get(), 1);
    e.bytes = static_cast<size_t>(sqlite3_column_int64(stmt.get(), 11));
    out.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return sqlite::DbError(path_, "list", db);
  return out;
}

std::function<void(sqlite::ReaderPool::Job)> SqliteBackend::OnWriter() {
  return [this](sqlite::ReaderPool::Job job) {
    Op op;
    op.kind = Op::Kind::kTask;
    op.task = std::move(job);
    Enqueue(std::move(op));
  };
}

// List and Purge run on the writer thread, after every write queued before them, so that they see
// this process's own Puts.
asio::awaitable<Result<std::vector<ListedEntry>>> SqliteBackend::List(Filter filter) {
  auto list = [this, filter = std::move(filter)](sqlite3* db) { return ListOn(db, filter); };
  auto op = sqlite::RunOff<Result<std::vector<ListedEntry>>>(OnWriter(), std::move(list));
  co_return co_await std::move(op);
}

asio::awaitable<Result<uint64_t>> SqliteBackend::Purge(Filter filter) {
  auto purge = [this, filter = std::move(filter)](sqlite3*) {
    const sqlite::WhereClause where = sqlite::WhereFor(filter, options_.now_ms());
    return DeleteWhere(where.sql, where.params);
  };
  auto op = sqlite::RunOff<Result<uint64_t>>(OnWriter(), std::move(purge));
  co_return co_await std::move(op);
}

asio::awaitable<Result<BackendStats>> SqliteBackend::Stats() {
  BackendStats s;
  s.entries = entries_.load();
  s.bytes = Charged();
  s.hits = hits_.load(std::memory_order_relaxed);
  s.misses = misses_.load(std::memory_order_relaxed);
  s.errors = errors_.load(std::memory_order_relaxed);
  s.evictions = evictions_.load(std::memory_order_relaxed);
  s.expired = expired_.load(std::memory_order_relaxed);
  co_return s;
}

}  // namespace modelmux::cache
