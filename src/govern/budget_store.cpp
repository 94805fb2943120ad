#include "govern/budget_store.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "store/redis.hpp"
#include "store/sqlite.hpp"

namespace modelmux::govern {
namespace {

using Period = KeyLimits::Budget::Period;
using std::chrono::system_clock;

// KEYS: the period hashes, then the open-reservations zset. ARGV: now_ms, id, deadline_ms, then
// four per hash: limit, amount, seed, expire_at_ms (0: none). Returns {1} or
// {0, index (1-based), spent, reserved}.
constexpr const char* kReserveScript = R"lua(
local n = #KEYS - 1
local z = KEYS[#KEYS]
local dead = redis.call('ZRANGEBYSCORE', z, '-inf', ARGV[1], 'LIMIT', 0, 100)
for _, rid in ipairs(dead) do
  for i = 1, n do
    local amt = redis.call('HGET', KEYS[i], 'r:' .. rid)
    if amt then
      redis.call('HINCRBY', KEYS[i], 'reserved', -tonumber(amt))
      redis.call('HDEL', KEYS[i], 'r:' .. rid)
    end
  end
  redis.call('ZREM', z, rid)
end
for i = 1, n do
  local b = 4 + (i - 1) * 4
  local limit = tonumber(ARGV[b])
  local amt = tonumber(ARGV[b + 1])
  if redis.call('EXISTS', KEYS[i]) == 0 then
    redis.call('HSET', KEYS[i], 'spent', ARGV[b + 2], 'reserved', '0')
    if tonumber(ARGV[b + 3]) > 0 then redis.call('PEXPIREAT', KEYS[i], ARGV[b + 3]) end
  end
  local spent = tonumber(redis.call('HGET', KEYS[i], 'spent') or '0')
  local res = tonumber(redis.call('HGET', KEYS[i], 'reserved') or '0')
  if spent + res + amt > limit then return {0, i, spent, res} end
end
for i = 1, n do
  local amt = ARGV[4 + (i - 1) * 4 + 1]
  redis.call('HINCRBY', KEYS[i], 'reserved', amt)
  redis.call('HSET', KEYS[i], 'r:' .. ARGV[2], amt)
end
redis.call('ZADD', z, ARGV[3], ARGV[2])
return {1}
)lua";

// KEYS: the hashes of the holds, then the zset. ARGV: id, then the actual amount per hash.
constexpr const char* kSettleScript = R"lua(
local n = #KEYS - 1
for i = 1, n do
  local f = 'r:' .. ARGV[1]
  local amt = redis.call('HGET', KEYS[i], f)
  if amt then
    redis.call('HINCRBY', KEYS[i], 'reserved', -tonumber(amt))
    redis.call('HDEL', KEYS[i], f)
  end
  local a = tonumber(ARGV[i + 1])
  if a > 0 and redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('HINCRBY', KEYS[i], 'spent', a)
  end
end
redis.call('ZREM', KEYS[n + 1], ARGV[1])
return 1
)lua";

std::string_view CurrencyTag(telemetry::Currency c) {
  return c == telemetry::Currency::kCny ? "cny" : "usd";
}

int64_t ToMs(system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

int64_t AsInt(const store::RedisReply& r) {
  if (r.type == store::RedisReply::Type::kInteger) return r.integer;
  if (r.type == store::RedisReply::Type::kString) return std::atoll(r.str.c_str());
  return 0;
}

}  // namespace

PeriodKey PeriodKeyFor(Period period, system_clock::time_point now) {
  using namespace std::chrono;
  PeriodKey k;
  const sys_days day = floor<days>(now);
  const year_month_day ymd{day};
  char buf[32];
  switch (period) {
    case Period::kDay:
      std::snprintf(buf, sizeof buf, "day:%04d%02u%02u", static_cast<int>(ymd.year()),
                    static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
      k.suffix = buf;
      k.start = day;
      k.expire_at_ms = ToMs(day + days(3));
      break;
    case Period::kMonth: {
      std::snprintf(buf, sizeof buf, "month:%04d%02u", static_cast<int>(ymd.year()),
                    static_cast<unsigned>(ymd.month()));
      k.suffix = buf;
      const year_month ym = ymd.year() / ymd.month();
      k.start = sys_days(ym / 1);
      k.expire_at_ms = ToMs(sys_days((ym + months(1)) / 1) + days(35));
      break;
    }
    case Period::kTotal:
      k.suffix = "total";
      k.start = system_clock::time_point{};
      k.expire_at_ms = 0;
      break;
  }
  return k;
}

DurableSpendFn LedgerSpend(std::string path, std::vector<CurrencyRate> rates) {
  return [path = std::move(path), rates = std::move(rates)](
             std::string_view key_id, Period, system_clock::time_point start,
             telemetry::Currency currency) -> int64_t {
    std::error_code ec;
    if (path.empty() || !std::filesystem::exists(path, ec)) return 0;
    store::sqlite::OpenOptions oo;
    oo.read_only = true;
    oo.wal = false;
    auto db = store::sqlite::Open(path, oo);
    if (!db.ok()) return 0;
    auto q = store::sqlite::Query::Prepare(
        db->get(),
        "SELECT currency, SUM(cost_micros) FROM requests WHERE key_id = ?1 AND time_ms >= ?2 "
        "AND cost_micros IS NOT NULL GROUP BY currency");
    if (!q.ok()) return 0;
    q->Bind(1, key_id).Bind(2, static_cast<int64_t>(ToMs(start)));
    double total = 0;
    while (true) {
      auto row = q->Step();
      if (!row.ok() || !*row) break;
      const std::string code = q->Text(0);
      const auto micros = static_cast<double>(q->Int(1));
      const telemetry::Currency c =
          code == "CNY" ? telemetry::Currency::kCny : telemetry::Currency::kUsd;
      if (c == currency) {
        total += micros;
        continue;
      }
      for (const auto& r : rates) {  // `from` -> `to` directly, else the inverse of the other way
        if (r.rate > 0 && r.from == c && r.to == currency) {
          total += micros * r.rate;
          break;
        }
        if (r.rate > 0 && r.from == currency && r.to == c) {
          total += micros / r.rate;
          break;
        }
      }
    }
    return static_cast<int64_t>(std::llround(total));
  };
}

BudgetStore::BudgetStore(std::shared_ptr<store::RedisClient> redis, const LimiterOptions& options)
    : redis_(std::move(redis)), options_(options) {}

std::string BudgetStore::KeyName(std::string_view key_id, Period period,
                                 telemetry::Currency currency, system_clock::time_point now) const {
  return options_.prefix + ":budget:{" + std::string(key_id) +
         "}:" + PeriodKeyFor(period, now).suffix + ":" + std::string(CurrencyTag(currency));
}

int64_t BudgetStore::Seed(const std::string& store_key, std::string_view key_id, Period period,
                          system_clock::time_point start, telemetry::Currency currency) {
  {
    std::lock_guard lock(mu_);
    auto it = seeds_.find(store_key);
    if (it != seeds_.end()) return it->second;
  }
  int64_t v = 0;
  if (options_.durable_spend)
    v = std::max<int64_t>(options_.durable_spend(key_id, period, start, currency), 0);
  std::lock_guard lock(mu_);
  seeds_.emplace(store_key, v);
  return v;
}

BudgetStore::Local& BudgetStore::LocalFor(const std::string& store_key, int64_t seed) {
  auto [it, inserted] = local_.try_emplace(store_key);
  if (inserted) it->second.spent = seed;
  return it->second;
}

std::optional<BudgetStore::Refused> BudgetStore::LocalReserve(
    const std::string& id, const std::vector<KeyLimits::Budget>& budgets,
    const std::vector<int64_t>& amounts, const std::vector<std::string>& keys,
    const std::vector<int64_t>& seeds, std::vector<Admission::Hold>& holds) {
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < budgets.size(); ++i) {
    Local& l = LocalFor(keys[i], seeds[i]);
    if (l.spent + l.reserved + amounts[i] > budgets[i].limit.micros) {
      const int64_t left = std::max<int64_t>(budgets[i].limit.micros - l.spent - l.reserved, 0);
      return Refused{i, {left, budgets[i].limit.currency}};
    }
  }
  holds.clear();
  for (size_t i = 0; i < budgets.size(); ++i) {
    Local& l = LocalFor(keys[i], seeds[i]);
    l.reserved += amounts[i];
    l.holds[id] = amounts[i];
    holds.push_back({budgets[i].period, keys[i], budgets[i].limit.currency, amounts[i], false});
  }
  return std::nullopt;
}

boost::asio::awaitable<std::optional<BudgetStore::Refused>> BudgetStore::Reserve(
    std::string key_id, std::string id, std::vector<KeyLimits::Budget> budgets,
    std::vector<int64_t> amounts, std::vector<Admission::Hold>& holds) {
  const auto now = options_.clock();
  std::vector<std::string> keys;
  std::vector<int64_t> seeds;
  std::vector<PeriodKey> periods;
  for (const auto& b : budgets) {
    periods.push_back(PeriodKeyFor(b.period, now));
    keys.push_back(KeyName(key_id, b.period, b.limit.currency, now));
    seeds.push_back(Seed(keys.back(), key_id, b.period, periods.back().start, b.limit.currency));
  }
  if (redis_) {
    std::vector<std::string> rkeys = keys;
    rkeys.push_back(options_.prefix + ":budget:{" + key_id + "}:open");
    std::vector<std::string> args;
    args.push_back(std::to_string(ToMs(now)));
    args.push_back(id);
    args.push_back(std::to_string(ToMs(now) + options_.reservation_ttl.count()));
    for (size_t i = 0; i < budgets.size(); ++i) {
      args.push_back(std::to_string(budgets[i].limit.micros));
      args.push_back(std::to_string(amounts[i]));
      args.push_back(std::to_string(seeds[i]));
      args.push_back(std::to_string(periods[i].expire_at_ms));
    }
    auto r = co_await redis_->Eval(kReserveScript, std::move(rkeys), std::move(args));
    if (r.ok() && r->type == store::RedisReply::Type::kArray && !r->elements.empty()) {
      if (AsInt(r->elements[0]) == 1) {
        holds.clear();
        for (size_t i = 0; i < budgets.size(); ++i) {
          holds.push_back(
              {budgets[i].period, keys[i], budgets[i].limit.currency, amounts[i], true});
        }
        co_return std::nullopt;
      }
      if (r->elements.size() >= 4) {
        const auto index = static_cast<size_t>(std::max<int64_t>(AsInt(r->elements[1]) - 1, 0));
        const auto& b = budgets[std::min(index, budgets.size() - 1)];
        const int64_t left =
            std::max<int64_t>(b.limit.micros - AsInt(r->elements[2]) - AsInt(r->elements[3]), 0);
        co_return Refused{std::min(index, budgets.size() - 1), {left, b.limit.currency}};
      }
    }
    ++fallbacks_;  // transport error or an unexpected reply: decide locally
  }
  co_return LocalReserve(id, budgets, amounts, keys, seeds, holds);
}

boost::asio::awaitable<void> BudgetStore::Settle(std::string id, std::vector<Admission::Hold> holds,
                                                 std::vector<int64_t> actual) {
  std::vector<std::string> rkeys;
  std::vector<std::string> args{id};
  std::string key_id_tag;
  {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < holds.size(); ++i) {
      const auto& h = holds[i];
      if (h.shared) {
        rkeys.push_back(h.store_key);
        args.push_back(std::to_string(actual[i]));
        continue;
      }
      auto it = local_.find(h.store_key);
      if (it == local_.end()) continue;
      auto hold = it->second.holds.find(id);
      if (hold != it->second.holds.end()) {
        it->second.reserved -= hold->second;
        it->second.holds.erase(hold);
      }
      it->second.spent += actual[i];
    }
  }
  if (rkeys.empty() || !redis_) co_return;
  // "<prefix>:budget:{<id>}:..." -> "<prefix>:budget:{<id>}:open"
  const std::string& first = rkeys.front();
  const auto close = first.find("}:");
  rkeys.push_back(first.substr(0, close + 2) + "open");
  auto r = co_await redis_->Eval(kSettleScript, std::move(rkeys), std::move(args));
  if (!r.ok()) ++fallbacks_;  // the reservation expires after reservation_ttl; spend is lost here
}

boost::asio::awaitable<std::vector<BudgetState>> BudgetStore::States(
    std::string key_id, std::vector<KeyLimits::Budget> budgets) {
  const auto now = options_.clock();
  std::vector<BudgetState> out;
  for (const auto& b : budgets) {
    const std::string key = KeyName(key_id, b.period, b.limit.currency, now);
    const int64_t seed =
        Seed(key, key_id, b.period, PeriodKeyFor(b.period, now).start, b.limit.currency);
    int64_t spent = seed, reserved = 0;
    bool found = false;
    if (redis_) {
      std::vector<std::string> cmd{"HMGET", key, "spent", "reserved"};
      auto r = co_await redis_->CommandForKey(key, std::move(cmd));
      if (r.ok() && r->type == store::RedisReply::Type::kArray && r->elements.size() == 2) {
        found = true;
        if (!r->elements[0].is_nil()) spent = AsInt(r->elements[0]);
        if (!r->elements[1].is_nil()) reserved = AsInt(r->elements[1]);
      }
    }
    if (!found) {
      std::lock_guard lock(mu_);
      auto it = local_.find(key);
      if (it != local_.end()) {
        spent = it->second.spent;
        reserved = it->second.reserved;
      }
    }
    BudgetState s;
    s.period = b.period;
    s.limit = b.limit;
    s.spent = {spent, b.limit.currency};
    s.reserved = {reserved, b.limit.currency};
    s.remaining = {std::max<int64_t>(b.limit.micros - spent - reserved, 0), b.limit.currency};
    out.push_back(s);
  }
  co_return out;
}

}  // namespace modelmux::govern
