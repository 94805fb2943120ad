// The writer thread of SqliteBackend: batches, size cap, expiry clean-up.
#include <algorithm>
#include <future>
#include <utility>

#include "cache/sqlite.hpp"

namespace modelmux::cache {

using sqlite::Stmt;

namespace {

void Reset(sqlite3_stmt* stmt) {
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
}

}  // namespace

// ---- the writer thread ----

void SqliteBackend::WriterLoop() {
  using SteadyClock = std::chrono::steady_clock;
  const bool periodic = options_.cleanup_interval.count() > 0;
  auto next_cleanup = SteadyClock::now() + options_.cleanup_interval;
  while (true) {
    std::deque<Op> batch;
    std::unordered_map<std::string, int64_t> touches;
    bool stopping = false;
    {
      std::unique_lock lock(mu_);
      // Wake for the first write, a stop, the clean-up, or (when hits are waiting to record
      // their access time) at most a second later.
      const auto has_work = [this] { return stop_ || !queue_.empty(); };
      if (!periodic && touches_.empty()) {
        cv_.wait(lock, has_work);
      } else {
        auto wake = periodic ? next_cleanup : SteadyClock::now() + std::chrono::seconds(1);
        if (!touches_.empty()) wake = std::min(wake, SteadyClock::now() + std::chrono::seconds(1));
        cv_.wait_until(lock, wake, has_work);
      }
      if (!queue_.empty() && !stop_ && !flush_now_ && queue_.size() < kMaxBatch) {
        // Give the batch a moment to fill.
        cv_.wait_until(lock, SteadyClock::now() + options_.flush_interval,
                       [this] { return stop_ || flush_now_ || queue_.size() >= kMaxBatch; });
      }
      const size_t take = std::min(queue_.size(), kMaxBatch);
      for (size_t i = 0; i < take; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      if (queue_.empty()) flush_now_ = false;
      touches.swap(touches_);
      stopping = stop_;
    }
    if (!batch.empty() || !touches.empty()) ApplyBatch(batch, touches);
    if (periodic && SteadyClock::now() >= next_cleanup) {
      if (sqlite::Exec(writer_.get(), path_, "BEGIN IMMEDIATE").ok()) {
        const uint64_t entries = entries_.load(), bytes = bytes_.load(), expired = expired_.load();
        DeleteExpired();
        if (!sqlite::Exec(writer_.get(), path_, "COMMIT").ok()) {
          CountError();
          (void)sqlite::Exec(writer_.get(), path_, "ROLLBACK");
          entries_ = entries;
          bytes_ = bytes;
          expired_ = expired;
        }
      } else {
        CountError();
      }
      next_cleanup = SteadyClock::now() + options_.cleanup_interval;
    }
    if (stopping) {
      std::lock_guard lock(mu_);
      if (queue_.empty() && touches_.empty()) return;
    }
  }
}

void SqliteBackend::ApplyBatch(std::deque<Op>& batch,
                               std::unordered_map<std::string, int64_t>& touches) {
  sqlite3* db = writer_.get();
  const uint64_t entries_before = entries_.load();
  const uint64_t bytes_before = bytes_.load();
  const uint64_t expired_before = expired_.load();
  const uint64_t evictions_before = evictions_.load();
  std::vector<sqlite::ReaderPool::Deliver> deliveries;
  bool ok = sqlite::Exec(db, path_, "BEGIN IMMEDIATE").ok();
  if (ok) {
    for (Op& op : batch) {
      switch (op.kind) {
        case Op::Kind::kPut:
          if (!ApplyPut(op.key, *op.entry, op.at_ms).ok()) CountError();
          break;
        case Op::Kind::kErase:
          if (!ApplyErase(op.key, false, 0).ok()) CountError();
          break;
        case Op::Kind::kEraseIfExpired:
          if (!ApplyErase(op.key, true, op.at_ms).ok()) CountError();
          break;
        case Op::Kind::kTask:
          deliveries.push_back(op.task(db));
          break;
        case Op::Kind::kFlush:
          break;
      }
    }
    for (const auto& [key, at_ms] : touches) {
      sqlite3_bind_int64(touch_stmt_.get(), 1, at_ms);
      sqlite::BindText(touch_stmt_.get(), 2, key);
      if (sqlite3_step(touch_stmt_.get()) != SQLITE_DONE) CountError();
      Reset(touch_stmt_.get());
    }
    EnforceCap();
    ok = sqlite::Exec(db, path_, "COMMIT").ok();
    if (!ok) (void)sqlite::Exec(db, path_, "ROLLBACK");
  }
  if (!ok) {
    // Nothing of this batch is stored: the totals go back to what is committed.
    CountError();
    entries_ = entries_before;
    bytes_ = bytes_before;
    expired_ = expired_before;
    evictions_ = evictions_before;
  }
  {
    std::lock_guard lock(mu_);
    for (const Op& op : batch) {
      if (op.kind != Op::Kind::kPut && op.kind != Op::Kind::kErase) continue;
      pending_bytes_ -= op.bytes;
      auto it = pending_.find(op.key);
      if (it != pending_.end() && it->second.seq == op.seq) pending_.erase(it);
    }
  }
  for (auto& deliver : deliveries) {
    if (deliver) deliver();
  }
  for (Op& op : batch) {
    if (op.kind == Op::Kind::kFlush) op.done->set_value();
  }
}

Status SqliteBackend::ApplyPut(const std::string& key, const Entry& entry, int64_t at_ms) {
  sqlite3* db = writer_.get();
  sqlite3_stmt* size = size_stmt_.get();
  sqlite::BindText(size, 1, key);
  const int found = sqlite3_step(size);
  const uint64_t old_bytes =
      found == SQLITE_ROW ? static_cast<uint64_t>(sqlite3_column_int64(size, 0)) : 0;
  Reset(size);
  if (found != SQLITE_ROW && found != SQLITE_DONE) return sqlite::DbError(path_, "put", db);

  sqlite3_stmt* put = put_stmt_.get();
  const EntryMeta& m = entry.meta;
  sqlite::BindText(put, 1, key);
  sqlite::BindText(put, 2, m.ns);
  sqlite::BindText(put, 3, m.model);
  sqlite::BindText(put, 4, m.provider);
  sqlite3_bind_int(put, 5, m.stream ? 1 : 0);
  sqlite3_bind_int64(put, 6, m.created_unix_ms);
  sqlite3_bind_int64(put, 7, m.expires_unix_ms);
  sqlite3_bind_int64(put, 8, m.prompt_tokens);
  sqlite3_bind_int64(put, 9, m.completion_tokens);
  sqlite3_bind_double(put, 10, m.cost);
  sqlite::BindText(put, 11, m.currency);
  sqlite3_bind_int64(put, 12, static_cast<int64_t>(entry.value.size()));
  sqlite3_bind_blob(put, 13, entry.value.data(), static_cast<int>(entry.value.size()),
                    SQLITE_STATIC);
  sqlite3_bind_int64(put, 14, at_ms);
  const int rc = sqlite3_step(put);
  Reset(put);
  if (rc != SQLITE_DONE) return sqlite::DbError(path_, "put", db);
  if (found == SQLITE_ROW) {
    bytes_ = bytes_.load() - old_bytes + entry.value.size();
  } else {
    entries_.fetch_add(1);
    bytes_.fetch_add(entry.value.size());
  }
  return OkStatus();
}

Status SqliteBackend::ApplyErase(const std::string& key, bool only_if_expired, int64_t now_ms) {
  sqlite3_stmt* stmt = only_if_expired ? erase_expired_stmt_.get() : erase_stmt_.get();
  sqlite::BindText(stmt, 1, key);
  if (only_if_expired) sqlite3_bind_int64(stmt, 2, now_ms);
  int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    const auto removed = static_cast<uint64_t>(sqlite3_column_int64(stmt, 0));
    entries_.fetch_sub(1);
    bytes_.fetch_sub(removed);
    if (only_if_expired) expired_.fetch_add(1, std::memory_order_relaxed);
    rc = sqlite3_step(stmt);
  }
  Reset(stmt);
  if (rc != SQLITE_DONE) return sqlite::DbError(path_, "erase", writer_.get());
  return OkStatus();
}

Result<uint64_t> SqliteBackend::DeleteWhere(const std::string& where,
                                            const std::vector<sqlite::BindValue>& params) {
  sqlite3* db = writer_.get();
  MM_TRY(Stmt stmt, sqlite::Prepare(db, path_, "DELETE FROM entries" + where + " RETURNING bytes"));
  sqlite::BindAll(stmt.get(), params);
  uint64_t removed = 0;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    entries_.fetch_sub(1);
    bytes_.fetch_sub(static_cast<uint64_t>(sqlite3_column_int64(stmt.get(), 0)));
    ++removed;
  }
  if (rc != SQLITE_DONE) return sqlite::DbError(path_, "delete", db);
  return removed;
}

void SqliteBackend::DeleteExpired() {
  Result<uint64_t> removed =
      DeleteWhere(" WHERE expires_ms > 0 AND expires_ms <= ?", {options_.now_ms()});
  if (removed.ok()) {
    expired_.fetch_add(*removed, std::memory_order_relaxed);
  } else {
    CountError();
  }
}

uint64_t SqliteBackend::Charged() const {
  return bytes_.load() + entries_.load() * kRowOverhead;
}

void SqliteBackend::EnforceCap() {
  if (Charged() <= options_.max_bytes) return;
  DeleteExpired();
  const uint64_t target = options_.max_bytes / 10 * 9;
  sqlite3* db = writer_.get();
  while (Charged() > target && entries_.load() > 0) {
    // The least recently accessed first, a page of keys at a time.
    Result<Stmt> oldest =
        sqlite::Prepare(db, path_, "SELECT key FROM entries ORDER BY last_access_ms, key LIMIT 64");
    if (!oldest.ok()) {
      CountError();
      return;
    }
    std::vector<std::string> keys;
    while (sqlite3_step(oldest->get()) == SQLITE_ROW) {
      keys.push_back(sqlite::ColumnText(oldest->get(), 0));
    }
    if (keys.empty()) return;
    for (const std::string& key : keys) {
      if (Charged() <= target) break;
      if (!ApplyErase(key, false, 0).ok()) {
        CountError();
        return;
      }
      evictions_.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

}  // namespace modelmux::cache
