#pragma once
// Thin RAII helpers over the SQLite C API for the cache's database (cache/sqlite.hpp): connections,
// prepared statements, the schema and the SQL for a Filter. Every error names the database path.
// Not thread-safe by themselves: each connection is used by one thread at a time.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cache/backend.hpp"
#include "core/result.hpp"

namespace modelmux::cache::sqlite {

// The schema version this code writes (PRAGMA user_version and the cache_schema table).
inline constexpr int kSchemaVersion = 1;

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;

struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// An error about the database at `path`: "cache database <path>: <what>: <sqlite message>".
[[nodiscard]] Error DbError(std::string_view path, std::string_view what, sqlite3* db);

// Opens a connection (read-write, created when missing), sets busy_timeout and, for the writer,
// journal_mode=WAL and synchronous=NORMAL. Reads the header so that a file that is not a database
// fails here, not on the first query.
[[nodiscard]] Result<Db> OpenConnection(const std::string& path, bool writer);

// Creates or checks the schema (entries table, its indexes, cache_schema, user_version). A
// database written by a newer version is refused.
[[nodiscard]] Status EnsureSchema(sqlite3* db, const std::string& path);

[[nodiscard]] Result<Stmt> Prepare(sqlite3* db, const std::string& path, std::string_view sql);
[[nodiscard]] Status Exec(sqlite3* db, const std::string& path, const char* sql);

// SQL text bound in order: a WHERE clause (with a leading " WHERE", or empty) and its parameters.
using BindValue = std::variant<int64_t, std::string>;
struct WhereClause {
  std::string sql;
  std::vector<BindValue> params;
};
[[nodiscard]] WhereClause WhereFor(const Filter& filter, int64_t now_ms);
// Binds `params` from index `first` (1-based); returns the next free index.
int BindAll(sqlite3_stmt* stmt, const std::vector<BindValue>& params, int first = 1);

// Column helpers.
[[nodiscard]] std::string ColumnText(sqlite3_stmt* stmt, int col);
[[nodiscard]] std::string ColumnBlob(sqlite3_stmt* stmt, int col);
void BindText(sqlite3_stmt* stmt, int index, std::string_view text);

// The metadata columns in the order ReadMeta expects them, starting at column `first`.
inline constexpr const char* kMetaColumns =
    "ns, model, provider, stream, created_ms, expires_ms, prompt_tokens, completion_tokens, cost, "
    "currency";
[[nodiscard]] EntryMeta ReadMeta(sqlite3_stmt* stmt, int first);

}  // namespace modelmux::cache::sqlite
