#include "store/sqlite.hpp"

#include <algorithm>
#include <string>
#include <utility>

namespace modelmux::store::sqlite {

namespace {

std::string FileOf(sqlite3* db) {
  if (db == nullptr) return "(not open)";
  const char* name = sqlite3_db_filename(db, "main");
  return name == nullptr || *name == '\0' ? std::string(":memory:") : std::string(name);
}

// The first line of a statement, at most 60 bytes: enough to say which one failed.
std::string_view Head(std::string_view sql) {
  while (!sql.empty() && (sql.front() == '\n' || sql.front() == ' ')) sql.remove_prefix(1);
  return sql.substr(0, std::min(sql.find('\n'), size_t{60}));
}

}  // namespace

Error DbError(sqlite3* db, std::string_view what) {
  Error e;
  e.kind = ErrorKind::kUnavailable;
  e.code = "database_error";
  e.message = "database " + FileOf(db) + ": ";
  e.message.append(what);
  if (db != nullptr && sqlite3_errcode(db) != SQLITE_OK) {
    e.message.append(": ");
    e.message.append(sqlite3_errmsg(db));
  }
  return e;
}

Result<Db> Open(const std::string& path, OpenOptions options) {
  int flags = SQLITE_OPEN_NOMUTEX;
  if (options.read_only) {
    flags |= SQLITE_OPEN_READONLY;
  } else {
    flags |= SQLITE_OPEN_READWRITE;
    if (options.create) flags |= SQLITE_OPEN_CREATE;
  }
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) {
    Error e = DbError(nullptr, "open");
    e.message = "database " + path + ": open: " +
                (db ? std::string(sqlite3_errmsg(db.get())) : std::string(sqlite3_errstr(rc)));
    return e;
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), options.busy_timeout_ms);
  // Touches the header: a file that is not a database fails here with SQLITE_NOTADB.
  MM_RETURN_IF_ERROR(Exec(db.get(), "SELECT count(*) FROM sqlite_schema"));
  if (!options.read_only) {
    if (options.wal) MM_RETURN_IF_ERROR(Exec(db.get(), "PRAGMA journal_mode=WAL"));
    switch (options.synchronous) {
      case Synchronous::kOff:
        MM_RETURN_IF_ERROR(Exec(db.get(), "PRAGMA synchronous=OFF"));
        break;
      case Synchronous::kNormal:
        MM_RETURN_IF_ERROR(Exec(db.get(), "PRAGMA synchronous=NORMAL"));
        break;
      case Synchronous::kFull:
        MM_RETURN_IF_ERROR(Exec(db.get(), "PRAGMA synchronous=FULL"));
        break;
    }
  }
  MM_RETURN_IF_ERROR(Exec(db.get(), "PRAGMA foreign_keys=ON"));
  return db;
}

Status Exec(sqlite3* db, std::string_view sql) {
  const std::string text(sql);  // sqlite3_exec needs a NUL-terminated string
  char* err = nullptr;
  const int rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    Error e = DbError(nullptr, Head(sql));
    e.message = "database " + FileOf(db) + ": " + std::string(Head(sql)) + ": " +
                (err != nullptr ? err : sqlite3_errstr(rc));
    sqlite3_free(err);
    return e;
  }
  return OkStatus();
}

Result<int> SchemaVersion(sqlite3* db) {
  MM_TRY(Query q, Query::Prepare(db, "PRAGMA user_version"));
  MM_TRY(bool row, q.Step());
  if (!row) return DbError(db, "PRAGMA user_version returned no row");
  return static_cast<int>(q.Int(0));
}

Status Migrate(sqlite3* db, std::span<const std::string_view> migrations) {
  MM_TRY(int version, SchemaVersion(db));
  const int target = static_cast<int>(migrations.size());
  if (version > target) {
    return DbError(db, "schema version " + std::to_string(version) +
                           " is newer than this modelmux understands (" + std::to_string(target) +
                           "); refusing to modify it");
  }
  for (int v = version; v < target; ++v) {
    MM_TRY(Transaction tx, Transaction::Begin(db));
    MM_RETURN_IF_ERROR(Exec(db, migrations[static_cast<size_t>(v)]));
    MM_RETURN_IF_ERROR(Exec(db, "PRAGMA user_version=" + std::to_string(v + 1)));
    MM_RETURN_IF_ERROR(tx.Commit());
  }
  return OkStatus();
}

// ---- Query ------------------------------------------------------------------------------------

Result<Query> Query::Prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(raw);
    return DbError(db, "prepare " + std::string(Head(sql)));
  }
  if (raw == nullptr) return DbError(db, "prepare: empty statement");
  return Query(db, raw);
}

namespace {
inline void Keep(int& first_error, int rc) {
  if (first_error == SQLITE_OK && rc != SQLITE_OK) first_error = rc;
}
}  // namespace

Query& Query::Bind(int index, int64_t value) {
  Keep(bind_error_, sqlite3_bind_int64(stmt_.get(), index, value));
  return *this;
}

Query& Query::Bind(int index, double value) {
  Keep(bind_error_, sqlite3_bind_double(stmt_.get(), index, value));
  return *this;
}

Query& Query::Bind(int index, std::string_view text) {
  Keep(bind_error_, sqlite3_bind_text64(stmt_.get(), index, text.data(), text.size(),
                                        SQLITE_TRANSIENT, SQLITE_UTF8));
  return *this;
}

Query& Query::BindBlob(int index, std::string_view bytes) {
  Keep(bind_error_,
       sqlite3_bind_blob64(stmt_.get(), index, bytes.data(), bytes.size(), SQLITE_TRANSIENT));
  return *this;
}

Query& Query::BindNull(int index) {
  Keep(bind_error_, sqlite3_bind_null(stmt_.get(), index));
  return *this;
}

Query& Query::Bind(int index, const std::optional<int64_t>& value) {
  return value ? Bind(index, *value) : BindNull(index);
}

Query& Query::Bind(int index, const std::optional<std::string>& value) {
  return value ? Bind(index, std::string_view(*value)) : BindNull(index);
}

Result<bool> Query::Step() {
  if (bind_error_ != SQLITE_OK) {
    Error e = DbError(db_, "bind");
    e.message += std::string(": ") + sqlite3_errstr(bind_error_);
    return e;
  }
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const char* sql = sqlite3_sql(stmt_.get());
  return DbError(db_, std::string("step ") + std::string(Head(sql ? sql : "")));
}

Status Query::Run() {
  while (true) {
    MM_TRY(bool row, Step());
    if (!row) return OkStatus();
  }
}

void Query::Reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
  bind_error_ = SQLITE_OK;
}

bool Query::IsNull(int col) const {
  return sqlite3_column_type(stmt_.get(), col) == SQLITE_NULL;
}

int64_t Query::Int(int col) const {
  return static_cast<int64_t>(sqlite3_column_int64(stmt_.get(), col));
}

double Query::Double(int col) const {
  return sqlite3_column_double(stmt_.get(), col);
}

std::string Query::Text(int col) const {
  const auto* p = sqlite3_column_text(stmt_.get(), col);
  const int n = sqlite3_column_bytes(stmt_.get(), col);
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), n);
}

std::string Query::Blob(int col) const {
  const void* p = sqlite3_column_blob(stmt_.get(), col);
  const int n = sqlite3_column_bytes(stmt_.get(), col);
  return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), n);
}

std::optional<int64_t> Query::OptionalInt(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Int(col);
}

// ---- Transaction ------------------------------------------------------------------------------

Result<Transaction> Transaction::Begin(sqlite3* db, bool immediate) {
  MM_RETURN_IF_ERROR(Exec(db, immediate ? "BEGIN IMMEDIATE" : "BEGIN"));
  return Transaction(db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) (void)Exec(db_, "ROLLBACK");
}

Status Transaction::Commit() {
  if (db_ == nullptr) return DbError(nullptr, "commit without a transaction");
  auto st = Exec(db_, "COMMIT");
  if (st.ok()) db_ = nullptr;  // committed: nothing to roll back
  return st;
}

}  // namespace modelmux::store::sqlite
