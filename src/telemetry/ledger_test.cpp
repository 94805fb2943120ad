#include "telemetry/ledger.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>

#include "telemetry/ledger_report.hpp"

namespace modelmux::telemetry {
namespace {

namespace fs = std::filesystem;

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("mm-ledger-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path() const { return (dir_ / "sub" / "ledger.db").string(); }

  // Runs `f` on the writer thread and waits for it.
  template <class F>
  static auto OnWriter(Ledger& l, F f) {
    std::promise<decltype(f(nullptr))> p;
    l.Run([&](sqlite3* db) { p.set_value(f(db)); });
    return p.get_future().get();
  }

  static int64_t Count(sqlite3* db) {
    auto q = store::sqlite::Query::Prepare(db, "SELECT count(*) FROM requests");
    EXPECT_TRUE(q.ok());
    EXPECT_TRUE(*q->Step());
    return q->Int(0);
  }

  fs::path dir_;
};

LedgerRow Row(int i) {
  LedgerRow r;
  r.request_id = "req-" + std::to_string(i);
  r.time_ms = 1'790'000'000'000 + i;
  r.key_id = i % 2 ? "key-odd" : "";
  r.model = i % 3 == 0 ? "m3" : "m";
  r.provider = "p";
  r.deployment = "p/m";
  r.prompt_tokens = 10;
  r.completion_tokens = 5;
  r.cached_tokens = 1;
  r.reasoning_tokens = 2;
  if (i % 5 != 0) {
    r.cost_micros = 7;
    r.currency = "USD";
  }
  r.latency_ms = i % 100;
  r.status = i % 10 == 0 ? 502 : 200;
  if (r.status != 200) r.error_code = "upstream_error";
  r.attempts = 1;
  return r;
}

TEST_F(LedgerTest, BatchedRowsAreCommittedAndReported) {
  LedgerOptions o;
  o.path = Path();
  o.batch_rows = 1000;
  auto l = Ledger::Open(o);
  ASSERT_TRUE(l.ok()) << l.error().message;
  for (int i = 1; i <= 2500; ++i) ASSERT_TRUE((*l)->Append(Row(i)));
  (*l)->Flush();
  EXPECT_EQ((*l)->written(), 2500u);
  EXPECT_EQ(OnWriter(**l, [](sqlite3* db) { return Count(db); }), 2500);

  UsageReport rep(UsageGroupBy::kModel);
  ASSERT_TRUE(rep.AddLedgerFile(Path(), {}).ok());
  const UsageLine t = rep.Total();
  EXPECT_EQ(t.requests, 2500);
  EXPECT_EQ(t.succeeded, 2250);  // every 10th failed
  EXPECT_EQ(t.prompt_tokens, 25000);
  EXPECT_EQ(t.reasoning_tokens, 5000);
  EXPECT_EQ(t.unpriced_requests, 500);           // every 5th has no price
  EXPECT_EQ(t.cost_micros.at("USD"), 2000 * 7);  // never counted as zero-cost rows
  // Latencies 0..99 repeat 25 times: the nearest-rank p95 of 2500 is the 2375th = 94.
  EXPECT_EQ(t.p95_latency_ms(), 94);
  const auto lines = rep.Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].group, "m");
  EXPECT_EQ(lines[1].group, "m3");
  EXPECT_EQ(lines[1].requests, 833);  // multiples of 3 in 1..2500
}

TEST_F(LedgerTest, OpensInWalWithFullSync) {
  LedgerOptions o;
  o.path = Path();
  auto l = Ledger::Open(o);
  ASSERT_TRUE(l.ok()) << l.error().message;
  auto pragma = [&](const char* sql) {
    return OnWriter(**l, [sql](sqlite3* db) {
      auto q = store::sqlite::Query::Prepare(db, sql);
      EXPECT_TRUE(q.ok());
      EXPECT_TRUE(*q->Step());
      return q->Text(0);
    });
  };
  EXPECT_EQ(pragma("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(pragma("PRAGMA synchronous"), "2");  // 2 = FULL: a committed row survives power loss
}

TEST_F(LedgerTest, NoUsageFailuresAreNotUnpriced) {
  UsageReport rep(UsageGroupBy::kModel);
  rep.Add("m", true, 1, 10, 5, 0, 0, 0, 7, "USD");          // priced
  rep.Add("m", true, 1, 10, 5, 0, 0, 0, std::nullopt, "");  // tokens, no price
  rep.Add("m", false, 1, 0, 0, 0, 0, 0, std::nullopt, "");  // failed, no usage
  rep.Add("m", false, 1, 0, 0, 0, 0, 0, std::nullopt, "");  // failed, no usage
  const UsageLine t = rep.Total();
  EXPECT_EQ(t.unpriced_requests, 1);
  EXPECT_EQ(t.no_usage_requests, 2);
  EXPECT_NE(rep.Json().find(R"("unpriced_requests":1,"no_usage_requests":2)"), std::string::npos)
      << rep.Json();
  EXPECT_NE(rep.Table().find("unknown(1)"), std::string::npos) << rep.Table();
}

TEST_F(LedgerTest, FullQueueRefusesAndCounts) {
  Counter dropped;
  LedgerOptions o;
  o.path = Path();
  o.queue_capacity = 10;
  o.batch_rows = 1000;
  o.batch_interval = std::chrono::seconds(30);
  o.dropped = &dropped;
  auto l = Ledger::Open(o);
  ASSERT_TRUE(l.ok());
  int accepted = 0;
  for (int i = 0; i < 15; ++i) accepted += (*l)->Append(Row(i)) ? 1 : 0;
  EXPECT_EQ(accepted, 10);
  EXPECT_EQ((*l)->dropped(), 5u);
  EXPECT_EQ(dropped.Value(), 5);
  (*l)->Flush();
  EXPECT_EQ((*l)->written(), 10u);
}

TEST_F(LedgerTest, RetentionDeletesOldRowsAndUpdatesAreRefused) {
  const int64_t now = 1'790'000'000'000;
  LedgerOptions o;
  o.path = Path();
  o.retention_days = 7;
  o.now_ms = [now] { return now; };
  auto l = Ledger::Open(o);
  ASSERT_TRUE(l.ok());
  LedgerRow old_row = Row(1), fresh = Row(2);
  old_row.time_ms = now - 8 * 86'400'000LL;
  fresh.time_ms = now - 6 * 86'400'000LL;
  (*l)->Append(old_row);
  (*l)->Append(fresh);
  (*l)->Flush();
  EXPECT_EQ((*l)->written(), 2u);  // both were committed (retention may already have run)
  (*l)->EnforceRetention();
  EXPECT_EQ(OnWriter(**l, [](sqlite3* db) { return Count(db); }), 1);
  const bool update_ok = OnWriter(**l, [](sqlite3* db) {
    return store::sqlite::Exec(db, "UPDATE requests SET cost_micros = 0").ok();
  });
  EXPECT_FALSE(update_ok);
}

TEST_F(LedgerTest, ReopenKeepsRowsAndNullsUnknownCost) {
  {
    LedgerOptions o;
    o.path = Path();
    auto l = Ledger::Open(o);
    ASSERT_TRUE(l.ok());
    (*l)->Append(Row(5));  // no price
    (*l)->Append(Row(6));
  }  // the destructor commits
  LedgerOptions o;
  o.path = Path();
  auto l = Ledger::Open(o);
  ASSERT_TRUE(l.ok());
  auto nulls = OnWriter(**l, [](sqlite3* db) {
    auto q = store::sqlite::Query::Prepare(
        db, "SELECT count(*) FROM requests WHERE cost_micros IS NULL AND currency IS NULL");
    EXPECT_TRUE(*q->Step());
    return q->Int(0);
  });
  EXPECT_EQ(nulls, 1);
  EXPECT_EQ(OnWriter(**l, [](sqlite3* db) { return *store::sqlite::SchemaVersion(db); }), 1);
}

TEST_F(LedgerTest, FiltersGroupsAndTwoReplicas) {
  for (const char* name : {"a.db", "b.db"}) {
    LedgerOptions o;
    o.path = (dir_ / name).string();
    auto l = Ledger::Open(o);
    ASSERT_TRUE(l.ok());
    for (int i = 1; i <= 10; ++i) (*l)->Append(Row(i));
  }
  UsageFilter f;
  f.key_id = "key-odd";
  UsageReport by_key(UsageGroupBy::kKey);
  ASSERT_TRUE(by_key.AddLedgerFile((dir_ / "a.db").string(), f).ok());
  ASSERT_TRUE(by_key.AddLedgerFile((dir_ / "b.db").string(), f).ok());
  ASSERT_EQ(by_key.Lines().size(), 1u);
  EXPECT_EQ(by_key.Lines()[0].group, "key-odd");
  EXPECT_EQ(by_key.Lines()[0].requests, 10);  // 5 odd rows in each replica

  UsageFilter window;
  window.since_ms = 1'790'000'000'000 + 3;
  window.until_ms = 1'790'000'000'000 + 6;  // rows 3, 4, 5
  UsageReport by_day(UsageGroupBy::kDay);
  ASSERT_TRUE(by_day.AddLedgerFile((dir_ / "a.db").string(), window).ok());
  ASSERT_EQ(by_day.Lines().size(), 1u);
  EXPECT_EQ(by_day.Lines()[0].group, "2026-09-21");
  EXPECT_EQ(by_day.Lines()[0].requests, 3);
  EXPECT_FALSE(by_day.AddLedgerFile((dir_ / "missing.db").string(), {}).ok());

  const std::string json = by_day.Json();
  EXPECT_EQ(json.rfind(R"({"group_by":"day","groups":[{"group":"2026-09-21","requests":3,)", 0), 0u)
      << json;
  EXPECT_NE(json.find(R"("cost_micros":{"USD":14})"), std::string::npos) << json;  // rows 3, 4
  const std::string csv = by_day.Csv();
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "day,requests,succeeded,success_rate,avg_latency_ms,p95_latency_ms,prompt_tokens,"
            "completion_tokens,cached_tokens,cache_write_tokens,reasoning_tokens,cost_usd,cost_cny,"
            "unpriced_requests,no_usage_requests");
  EXPECT_NE(csv.find("\n2026-09-21,3,3,1.0000,4.0,5,30,15,3,0,6,0.000014,0,1,0\n"),
            std::string::npos)
      << csv;
  EXPECT_NE(by_day.Table().find("unknown(1)"), std::string::npos) << by_day.Table();
}

TEST(LedgerReportTest, TimeBoundsAndDays) {
  const int64_t now = 1'790'000'000'000;  // 2026-09-21T14:13:20Z
  EXPECT_EQ(*ParseTimeBound("24h", false, now), now - 86'400'000);
  EXPECT_EQ(*ParseTimeBound("7d", false, now), now - 7 * 86'400'000LL);
  EXPECT_EQ(*ParseTimeBound("1970-01-02", false, now), 86'400'000);
  EXPECT_EQ(*ParseTimeBound("1970-01-02", true, now), 2 * 86'400'000);  // end of that day
  EXPECT_EQ(*ParseTimeBound("1970-01-01T01:02:03Z", false, now), 3'723'000);
  EXPECT_EQ(*ParseTimeBound("1970-01-01T01:02", false, now), 3'720'000);
  EXPECT_FALSE(ParseTimeBound("2026-02-30", false, now).ok());
  EXPECT_FALSE(ParseTimeBound("yesterday", false, now).ok());
  EXPECT_EQ(UtcDay(now), "2026-09-21");
  EXPECT_EQ(UtcDay(0), "1970-01-01");
  EXPECT_EQ(MicrosDecimal(1'500'000), "1.5");
  EXPECT_EQ(MicrosDecimal(7), "0.000007");
  EXPECT_FALSE(ParseGroupBy("week").ok());
  EXPECT_EQ(*ParseGroupBy("provider"), UsageGroupBy::kProvider);
}

}  // namespace
}  // namespace modelmux::telemetry
