#include "telemetry/ledger.hpp"

#include <cstdio>
#include <filesystem>

#include "telemetry/request_log.hpp"

namespace modelmux::telemetry {

namespace sq = store::sqlite;

namespace {

constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE requests (
  id INTEGER PRIMARY KEY,
  request_id TEXT NOT NULL,
  time_ms INTEGER NOT NULL,
  key_id TEXT,
  model TEXT NOT NULL,
  provider TEXT,
  deployment TEXT,
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  cached_tokens INTEGER NOT NULL DEFAULT 0,
  cache_write_tokens INTEGER NOT NULL DEFAULT 0,
  reasoning_tokens INTEGER NOT NULL DEFAULT 0,
  cost_micros INTEGER,
  currency TEXT,
  latency_ms INTEGER NOT NULL,
  ttft_ms INTEGER,
  status INTEGER NOT NULL,
  error_code TEXT,
  cache_result TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  stream INTEGER NOT NULL DEFAULT 0,
  usage_estimated INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX requests_time ON requests(time_ms);
CREATE INDEX requests_key_time ON requests(key_id, time_ms);
CREATE TRIGGER requests_append_only BEFORE UPDATE ON requests
BEGIN SELECT RAISE(ABORT, 'the usage ledger is append-only'); END;
)sql";

constexpr std::string_view kInsert = R"sql(
INSERT INTO requests (request_id, time_ms, key_id, model, provider, deployment, prompt_tokens,
  completion_tokens, cached_tokens, cache_write_tokens, reasoning_tokens, cost_micros, currency,
  latency_ms, ttft_ms, status, error_code, cache_result, attempts, stream, usage_estimated)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
  ?21))sql";

std::optional<std::string> NullIfEmpty(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return s;
}

}  // namespace

std::vector<std::string_view> LedgerMigrations() {
  return {kSchemaV1};
}

Result<std::unique_ptr<Ledger>> Ledger::Open(LedgerOptions options) {
  std::error_code ec;
  const auto dir = std::filesystem::path(options.path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  sq::OpenOptions oo;
  oo.synchronous = sq::Synchronous::kFull;
  MM_TRY(auto db, sq::Open(options.path, oo));
  const auto migrations = LedgerMigrations();
  MM_RETURN_IF_ERROR(sq::Migrate(db.get(), migrations));
  if (options.batch_rows == 0) options.batch_rows = 1;
  auto ledger = std::unique_ptr<Ledger>(new Ledger(std::move(options), std::move(db)));
  ledger->writer_ = std::thread([l = ledger.get()] { l->WriterLoop(); });
  return ledger;
}

Ledger::Ledger(LedgerOptions options, store::sqlite::Db db)
    : options_(std::move(options)), db_(std::move(db)) {}

Ledger::~Ledger() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
}

int64_t Ledger::NowMs() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool Ledger::Append(LedgerRow row) {
  bool log = false;
  uint64_t dropped = 0;
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= options_.queue_capacity || stop_) {
      dropped = ++dropped_;
      const auto now = std::chrono::steady_clock::now();
      if (now - last_drop_log_ >= std::chrono::seconds(10)) {
        last_drop_log_ = now;
        log = true;
      }
    } else {
      queue_.push_back(std::move(row));
      ++appended_;
      if (queue_.size() >= options_.batch_rows) wake_.notify_one();
      return true;
    }
  }
  if (options_.dropped) options_.dropped->Inc();
  if (log) {
    std::fprintf(stderr,
                 "{\"level\":\"error\",\"msg\":\"usage ledger queue full: rows refused\","
                 "\"ledger\":\"%s\",\"dropped_total\":%llu}\n",
                 JsonEscape(options_.path).c_str(), static_cast<unsigned long long>(dropped));
  }
  return false;
}

void Ledger::Flush() {
  std::unique_lock lock(mu_);
  const uint64_t target = appended_;
  flush_wanted_ = true;
  wake_.notify_one();
  done_.wait(lock, [&] { return committed_ >= target || stop_; });
}

void Ledger::Run(std::function<void(sqlite3*)> task) {
  {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
}

void Ledger::EnforceRetention() {
  {
    std::lock_guard lock(mu_);
    retention_due_ = true;
  }
  wake_.notify_one();
}

uint64_t Ledger::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

uint64_t Ledger::written() const {
  std::lock_guard lock(mu_);
  return written_;
}

uint64_t Ledger::write_errors() const {
  std::lock_guard lock(mu_);
  return write_errors_;
}

void Ledger::WriterLoop() {
  auto next_retention = std::chrono::steady_clock::now();
  std::vector<LedgerRow> batch;
  std::deque<std::function<void(sqlite3*)>> tasks;
  while (true) {
    bool stopping = false, retention = false;
    {
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, options_.batch_interval, [&] {
        return stop_ || queue_.size() >= options_.batch_rows || !tasks_.empty() || retention_due_ ||
               (flush_wanted_ && !queue_.empty());
      });
      // A batch is up to batch_rows rows; the rest waits for the next turn (immediately).
      const size_t n = std::min(queue_.size(), options_.batch_rows);
      batch.clear();
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      tasks.swap(tasks_);
      stopping = stop_ && queue_.empty();
      const auto now = std::chrono::steady_clock::now();
      if (retention_due_ || (options_.retention_days > 0 && now >= next_retention)) {
        retention = true;
        retention_due_ = false;
        next_retention = now + options_.retention_interval;
      }
    }
    // Tasks (reports) see every row queued before them: commit the rest of the queue first.
    while (!batch.empty()) {
      WriteBatch(batch);
      std::lock_guard lock(mu_);
      committed_ += batch.size();
      if (queue_.empty()) flush_wanted_ = false;
      batch.clear();
      if (tasks.empty()) break;
      const size_t n = std::min(queue_.size(), options_.batch_rows);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    done_.notify_all();
    if (retention) DeleteExpired();
    for (auto& t : tasks) t(db_.get());
    tasks.clear();
    if (stopping) break;
  }
  done_.notify_all();
}

void Ledger::WriteBatch(std::vector<LedgerRow>& rows) {
  auto fail = [&](const Error& e) {
    {
      std::lock_guard lock(mu_);
      write_errors_ += rows.size();
    }
    std::fprintf(stderr,
                 "{\"level\":\"error\",\"msg\":\"usage ledger write failed\",\"rows\":%zu,"
                 "\"error\":\"%s\"}\n",
                 rows.size(), JsonEscape(e.message).c_str());
  };
  auto tx = sq::Transaction::Begin(db_.get());
  if (!tx.ok()) return fail(tx.error());
  auto q = sq::Query::Prepare(db_.get(), kInsert);
  if (!q.ok()) return fail(q.error());
  for (const auto& r : rows) {
    q->Reset();
    q->Bind(1, std::string_view(r.request_id))
        .Bind(2, r.time_ms)
        .Bind(3, NullIfEmpty(r.key_id))
        .Bind(4, std::string_view(r.model))
        .Bind(5, NullIfEmpty(r.provider))
        .Bind(6, NullIfEmpty(r.deployment))
        .Bind(7, r.prompt_tokens)
        .Bind(8, r.completion_tokens)
        .Bind(9, r.cached_tokens)
        .Bind(10, r.cache_write_tokens)
        .Bind(11, r.reasoning_tokens)
        .Bind(12, r.cost_micros)
        .Bind(13, r.cost_micros ? NullIfEmpty(r.currency) : std::nullopt)
        .Bind(14, r.latency_ms)
        .Bind(15, r.ttft_ms)
        .Bind(16, r.status)
        .Bind(17, NullIfEmpty(r.error_code))
        .Bind(18, NullIfEmpty(r.cache_result))
        .Bind(19, r.attempts)
        .Bind(20, static_cast<int64_t>(r.stream))
        .Bind(21, static_cast<int64_t>(r.usage_estimated));
    if (auto st = q->Run(); !st.ok()) return fail(st.error());
  }
  if (auto st = tx->Commit(); !st.ok()) return fail(st.error());
  std::lock_guard lock(mu_);
  written_ += rows.size();
}

void Ledger::DeleteExpired() {
  if (options_.retention_days <= 0) return;
  const int64_t cutoff = NowMs() - int64_t{options_.retention_days} * 86'400'000;
  auto q = sq::Query::Prepare(db_.get(), "DELETE FROM requests WHERE time_ms < ?1");
  if (!q.ok()) return;
  q->Bind(1, cutoff);
  if (auto st = q->Run(); !st.ok()) {
    std::fprintf(stderr,
                 "{\"level\":\"error\",\"msg\":\"usage ledger retention failed\","
                 "\"error\":\"%s\"}\n",
                 JsonEscape(st.error().message).c_str());
  }
}

}  // namespace modelmux::telemetry
