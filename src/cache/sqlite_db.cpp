#include "cache/sqlite_db.hpp"

#include <algorithm>
#include <string>
#include <utility>

namespace modelmux::cache::sqlite {

Error DbError(std::string_view path, std::string_view what, sqlite3* db) {
  Error e;
  e.kind = ErrorKind::kUnavailable;
  e.code = "cache_database_error";
  e.message = "cache database ";
  e.message.append(path);
  e.message.append(": ");
  e.message.append(what);
  if (db != nullptr) {
    e.message.append(": ");
    e.message.append(sqlite3_errmsg(db));
  }
  return e;
}

Result<Stmt> Prepare(sqlite3* db, const std::string& path, std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  Stmt stmt(raw);
  if (rc != SQLITE_OK) return DbError(path, "prepare", db);
  return stmt;
}

Status Exec(sqlite3* db, const std::string& path, const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string_view what(sql);
    what = what.substr(0, std::min(what.find('\n', 1), size_t{60}));
    Error e = DbError(path, what, nullptr);
    e.message.append(": ");
    e.message.append(err != nullptr ? err : sqlite3_errstr(rc));
    sqlite3_free(err);
    return e;
  }
  return OkStatus();
}

Result<Db> OpenConnection(const std::string& path, bool writer) {
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) return DbError(path, "open", db.get());
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), 5000);
  if (writer) {
    // WAL: readers never block the writer. synchronous=NORMAL: a commit is durable against a
    // crash of the process, but the last commits may be lost on power loss (fine for a cache).
    MM_RETURN_IF_ERROR(Exec(db.get(), path, "PRAGMA journal_mode=WAL"));
    MM_RETURN_IF_ERROR(Exec(db.get(), path, "PRAGMA synchronous=NORMAL"));
  }
  // Touches the header: a file that is not a database fails here with SQLITE_NOTADB.
  MM_RETURN_IF_ERROR(Exec(db.get(), path, "SELECT count(*) FROM sqlite_schema"));
  return db;
}

namespace {

Result<int64_t> QueryInt(sqlite3* db, const std::string& path, std::string_view sql) {
  MM_TRY(Stmt stmt, Prepare(db, path, sql));
  const int rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW) return DbError(path, sql, db);
  return static_cast<int64_t>(sqlite3_column_int64(stmt.get(), 0));
}

constexpr const char* kCreateSchema = R"sql(
BEGIN;
CREATE TABLE IF NOT EXISTS cache_schema(version INTEGER NOT NULL, applied_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS entries(
  key TEXT PRIMARY KEY NOT NULL,
  ns TEXT NOT NULL,
  model TEXT NOT NULL,
  provider TEXT NOT NULL,
  stream INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  cost REAL NOT NULL,
  currency TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  value BLOB NOT NULL,
  last_access_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS entries_expires ON entries(expires_ms) WHERE expires_ms > 0;
CREATE INDEX IF NOT EXISTS entries_model ON entries(model);
CREATE INDEX IF NOT EXISTS entries_ns ON entries(ns);
CREATE INDEX IF NOT EXISTS entries_created ON entries(created_ms);
CREATE INDEX IF NOT EXISTS entries_access ON entries(last_access_ms);
INSERT INTO cache_schema(version, applied_ms)
  VALUES(1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
PRAGMA user_version = 1;
COMMIT;
)sql";

}  // namespace

Status EnsureSchema(sqlite3* db, const std::string& path) {
  MM_TRY(int64_t version, QueryInt(db, path, "PRAGMA user_version"));
  if (version == kSchemaVersion) return OkStatus();
  if (version > kSchemaVersion) {
    return DbError(path,
                   "schema version " + std::to_string(version) + " is newer than this build's " +
                       std::to_string(kSchemaVersion),
                   nullptr);
  }
  // version 0: a new file (or one that is not ours yet, e.g. empty).
  Status created = Exec(db, path, kCreateSchema);
  if (!created.ok()) {
    (void)Exec(db, path, "ROLLBACK");
    return created;
  }
  return OkStatus();
}

WhereClause WhereFor(const Filter& filter, int64_t now_ms) {
  WhereClause w;
  auto add = [&w](const char* cond) {
    w.sql.append(w.sql.empty() ? " WHERE " : " AND ");
    w.sql.append(cond);
  };
  if (filter.model) {
    add("model = ?");
    w.params.emplace_back(*filter.model);
  }
  if (filter.ns) {
    add("ns = ?");
    w.params.emplace_back(*filter.ns);
  }
  if (filter.created_before_unix_ms) {
    add("created_ms < ?");
    w.params.emplace_back(*filter.created_before_unix_ms);
  }
  if (filter.expired_only) {
    add("expires_ms > 0 AND expires_ms <= ?");
    w.params.emplace_back(now_ms);
  }
  return w;
}

void BindText(sqlite3_stmt* stmt, int index, std::string_view text) {
  sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

int BindAll(sqlite3_stmt* stmt, const std::vector<BindValue>& params, int first) {
  int i = first;
  for (const BindValue& p : params) {
    if (const auto* n = std::get_if<int64_t>(&p)) {
      sqlite3_bind_int64(stmt, i, *n);
    } else {
      BindText(stmt, i, std::get<std::string>(p));
    }
    ++i;
  }
  return i;
}

std::string ColumnText(sqlite3_stmt* stmt, int col) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
  const int n = sqlite3_column_bytes(stmt, col);
  return p == nullptr ? std::string() : std::string(p, static_cast<size_t>(n));
}

std::string ColumnBlob(sqlite3_stmt* stmt, int col) {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, col));
  const int n = sqlite3_column_bytes(stmt, col);
  return p == nullptr ? std::string() : std::string(p, static_cast<size_t>(n));
}

EntryMeta ReadMeta(sqlite3_stmt* stmt, int first) {
  EntryMeta m;
  m.ns = ColumnText(stmt, first);
  m.model = ColumnText(stmt, first + 1);
  m.provider = ColumnText(stmt, first + 2);
  m.stream = sqlite3_column_int(stmt, first + 3) != 0;
  m.created_unix_ms = sqlite3_column_int64(stmt, first + 4);
  m.expires_unix_ms = sqlite3_column_int64(stmt, first + 5);
  m.prompt_tokens = sqlite3_column_int64(stmt, first + 6);
  m.completion_tokens = sqlite3_column_int64(stmt, first + 7);
  m.cost = sqlite3_column_double(stmt, first + 8);
  m.currency = ColumnText(stmt, first + 9);
  return m;
}

}  // namespace modelmux::cache::sqlite
