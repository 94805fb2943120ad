#pragma once
// A small, generic layer over the SQLite C API for the stateful parts of modelmux (usage ledger,
// virtual keys, batch jobs): connections with the pragmas each needs, versioned schema
// migrations, prepared statements with typed binds and columns, and a transaction guard.
//
// Errors are values: every failure is an Error (kind kUnavailable, code "database_error") whose
// message names the database file and what failed, with SQLite's own message.
//
// Threading: a Db is one connection, used by one thread at a time (opened with
// SQLITE_OPEN_NOMUTEX). Callers that share a database across threads open one connection per
// thread (WAL lets readers run beside the one writer). Nothing here may run on an event loop
// thread: SQLite blocks on disk.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "core/result.hpp"

namespace modelmux::store::sqlite {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
// One connection; its file name is sqlite3_db_filename(db, "main").
using Db = std::unique_ptr<sqlite3, DbCloser>;

enum class Synchronous { kOff, kNormal, kFull };

struct OpenOptions {
  bool read_only = false;
  bool create = true;  // create the file when missing (ignored when read_only)
  bool wal = true;     // journal_mode=WAL (not for read_only connections)
  // FULL: a committed transaction survives power loss (ledgers, keys); NORMAL: survives a crash of
  // the process (caches).
  Synchronous synchronous = Synchronous::kNormal;
  int busy_timeout_ms = 5000;
};

// Opens (and by default creates) the database at `path` and applies the options. A file that is
// not a database fails here, not at the first query.
[[nodiscard]] Result<Db> Open(const std::string& path, OpenOptions options = {});

// An Error about `db` (may be null): "database <file>: <what>: <sqlite message>".
[[nodiscard]] Error DbError(sqlite3* db, std::string_view what);

// Runs one or more SQL statements without results.
[[nodiscard]] Status Exec(sqlite3* db, std::string_view sql);

// Brings the schema to migrations.size(): migration i (0-based) takes the database from
// PRAGMA user_version i to i + 1, each in its own transaction together with the version bump.
// A database whose user_version is above migrations.size() was written by a newer modelmux and
// is refused with a clear error rather than modified.
[[nodiscard]] Status Migrate(sqlite3* db, std::span<const std::string_view> migrations);

// The database's PRAGMA user_version.
[[nodiscard]] Result<int> SchemaVersion(sqlite3* db);

// A prepared statement with 1-based binds and 0-based columns. Reusable: Reset() after a run.
class Query {
 public:
  [[nodiscard]] static Result<Query> Prepare(sqlite3* db, std::string_view sql);

  Query(Query&&) noexcept = default;
  Query& operator=(Query&&) noexcept = default;

  Query& Bind(int index, int64_t value);
  Query& Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  Query& Bind(int index, double value);
  Query& Bind(int index, std::string_view text);
  Query& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  Query& BindBlob(int index, std::string_view bytes);
  Query& BindNull(int index);
  // Binds the value or NULL.
  Query& Bind(int index, const std::optional<int64_t>& value);
  Query& Bind(int index, const std::optional<std::string>& value);

  // Advances: true when a row is ready to read, false when the statement is done.
  [[nodiscard]] Result<bool> Step();
  // Steps to the end (statements without results, or when the rows are not needed).
  [[nodiscard]] Status Run();
  // Makes the statement ready to run again and clears its bindings.
  void Reset();

  [[nodiscard]] bool IsNull(int col) const;
  [[nodiscard]] int64_t Int(int col) const;
  [[nodiscard]] double Double(int col) const;
  [[nodiscard]] std::string Text(int col) const;
  [[nodiscard]] std::string Blob(int col) const;
  [[nodiscard]] std::optional<int64_t> OptionalInt(int col) const;

  [[nodiscard]] sqlite3_stmt* get() const { return stmt_.get(); }

 private:
  struct Finalizer {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  Query(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}

  sqlite3* db_ = nullptr;
  std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
  // The first bind error (a bind never fails silently: Step/Run return it).
  int bind_error_ = SQLITE_OK;
};

// BEGIN on construction (IMMEDIATE by default: takes the write lock at once, so that a busy
// database waits in busy_timeout instead of failing at the first write); ROLLBACK on destruction
// unless Commit() succeeded.
class Transaction {
 public:
  [[nodiscard]] static Result<Transaction> Begin(sqlite3* db, bool immediate = true);
  Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  [[nodiscard]] Status Commit();

 private:
  explicit Transaction(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace modelmux::store::sqlite
