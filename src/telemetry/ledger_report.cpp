#include "telemetry/ledger_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "telemetry/request_log.hpp"

namespace modelmux::telemetry {

namespace sq = store::sqlite;

namespace {

constexpr int64_t kDayMs = 86'400'000;

bool Digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int64_t ToInt(std::string_view s) {
  int64_t v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

Error BoundError(std::string_view s) {
  return InvalidRequest("invalid time '" + std::string(s) +
                            "' (expected YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS]Z, or a span such as "
                            "24h or 7d)",
                        "since", "invalid_time");
}

}  // namespace

Result<UsageGroupBy> ParseGroupBy(std::string_view s) {
  if (s == "model") return UsageGroupBy::kModel;
  if (s == "key") return UsageGroupBy::kKey;
  if (s == "day") return UsageGroupBy::kDay;
  if (s == "provider") return UsageGroupBy::kProvider;
  return InvalidRequest("--by must be model, key, day or provider", "by", "invalid_group_by");
}

const char* GroupByName(UsageGroupBy by) {
  switch (by) {
    case UsageGroupBy::kModel:
      return "model";
    case UsageGroupBy::kKey:
      return "key";
    case UsageGroupBy::kDay:
      return "day";
    case UsageGroupBy::kProvider:
      return "provider";
  }
  return "model";
}

Result<int64_t> ParseTimeBound(std::string_view s, bool upper, int64_t now_ms) {
  if (s.size() >= 2 && Digits(s.substr(0, s.size() - 1))) {
    const int64_t n = ToInt(s.substr(0, s.size() - 1));
    switch (s.back()) {
      case 'm':
        return now_ms - n * 60'000;
      case 'h':
        return now_ms - n * 3'600'000;
      case 'd':
        return now_ms - n * kDayMs;
      default:
        break;
    }
  }
  if (s.size() < 10 || s[4] != '-' || s[7] != '-' || !Digits(s.substr(0, 4)) ||
      !Digits(s.substr(5, 2)) || !Digits(s.substr(8, 2))) {
    return BoundError(s);
  }
  using namespace std::chrono;
  const year_month_day ymd{year(static_cast<int>(ToInt(s.substr(0, 4)))),
                           month(static_cast<unsigned>(ToInt(s.substr(5, 2)))),
                           day(static_cast<unsigned>(ToInt(s.substr(8, 2))))};
  if (!ymd.ok()) return BoundError(s);
  const int64_t day_ms = duration_cast<milliseconds>(sys_days(ymd).time_since_epoch()).count();
  if (s.size() == 10) return upper ? day_ms + kDayMs : day_ms;
  std::string_view rest = s.substr(10);
  if (rest.front() != 'T' && rest.front() != ' ') return BoundError(s);
  rest.remove_prefix(1);
  if (!rest.empty() && rest.back() == 'Z') rest.remove_suffix(1);
  int64_t secs = 0;
  if (rest.size() == 5 && rest[2] == ':' && Digits(rest.substr(0, 2)) &&
      Digits(rest.substr(3, 2))) {
    secs = ToInt(rest.substr(0, 2)) * 3600 + ToInt(rest.substr(3, 2)) * 60;
  } else if (rest.size() == 8 && rest[2] == ':' && rest[5] == ':' && Digits(rest.substr(0, 2)) &&
             Digits(rest.substr(3, 2)) && Digits(rest.substr(6, 2))) {
    secs = ToInt(rest.substr(0, 2)) * 3600 + ToInt(rest.substr(3, 2)) * 60 + ToInt(rest.substr(6));
  } else {
    return BoundError(s);
  }
  return day_ms + secs * 1000;
}

std::string UtcDay(int64_t time_ms) {
  using namespace std::chrono;
  const auto days = floor<std::chrono::days>(sys_time<milliseconds>(milliseconds(time_ms)));
  const year_month_day ymd(days);
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

std::string MicrosDecimal(int64_t micros) {
  std::string out = micros < 0 ? "-" : "";
  const int64_t v = micros < 0 ? -micros : micros;
  out += std::to_string(v / 1'000'000);
  if (int64_t frac = v % 1'000'000; frac != 0) {
    std::string d = fmt::format("{:06}", frac);
    while (d.back() == '0') d.pop_back();
    out += "." + d;
  }
  return out;
}

double UsageLine::success_rate() const {
  return requests ? static_cast<double>(succeeded) / static_cast<double>(requests) : 0;
}

double UsageLine::avg_latency_ms() const {
  return requests ? static_cast<double>(latency_sum_ms) / static_cast<double>(requests) : 0;
}

int64_t UsageLine::p95_latency_ms() const {
  if (latencies_ms.empty()) return 0;
  std::vector<int64_t> sorted = latencies_ms;
  const size_t rank = static_cast<size_t>(std::ceil(0.95 * static_cast<double>(sorted.size())));
  const size_t idx = std::max<size_t>(rank, 1) - 1;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(idx), sorted.end());
  return sorted[idx];
}

void UsageReport::Add(const std::string& group, bool succeeded, int64_t latency_ms, int64_t prompt,
                      int64_t completion, int64_t cached, int64_t cache_write, int64_t reasoning,
                      std::optional<int64_t> cost_micros, const std::string& currency) {
  UsageLine& l = lines_[group];
  l.group = group;
  ++l.requests;
  l.succeeded += succeeded ? 1 : 0;
  l.latency_sum_ms += latency_ms;
  l.latencies_ms.push_back(latency_ms);
  l.prompt_tokens += prompt;
  l.completion_tokens += completion;
  l.cached_tokens += cached;
  l.cache_write_tokens += cache_write;
  l.reasoning_tokens += reasoning;
  if (cost_micros && !currency.empty()) {
    l.cost_micros[currency] += *cost_micros;
  } else if (prompt == 0 && completion == 0) {
    ++l.no_usage_requests;
  } else {
    ++l.unpriced_requests;
  }
}

Status UsageReport::AddLedger(sqlite3* db, const UsageFilter& f) {
  std::string sql =
      "SELECT time_ms, key_id, model, provider, status, error_code, latency_ms, prompt_tokens, "
      "completion_tokens, cached_tokens, cache_write_tokens, reasoning_tokens, cost_micros, "
      "currency FROM requests WHERE time_ms >= ?1 AND time_ms < ?2";
  if (f.key_id) sql += f.key_id->empty() ? " AND key_id IS NULL" : " AND key_id = ?3";
  MM_TRY(auto q, sq::Query::Prepare(db, sql));
  q.Bind(1, f.since_ms.value_or(INT64_MIN)).Bind(2, f.until_ms.value_or(INT64_MAX));
  if (f.key_id && !f.key_id->empty()) q.Bind(3, std::string_view(*f.key_id));
  while (true) {
    MM_TRY(bool row, q.Step());
    if (!row) break;
    std::string group;
    switch (by_) {
      case UsageGroupBy::kModel:
        group = q.Text(2);
        break;
      case UsageGroupBy::kKey:
        group = q.IsNull(1) ? "(none)" : q.Text(1);
        break;
      case UsageGroupBy::kDay:
        group = UtcDay(q.Int(0));
        break;
      case UsageGroupBy::kProvider:
        group = q.IsNull(3) ? "(none)" : q.Text(3);
        break;
    }
    const int64_t status = q.Int(4);
    const bool ok = status > 0 && status < 400 && q.IsNull(5);
    Add(group, ok, q.Int(6), q.Int(7), q.Int(8), q.Int(9), q.Int(10), q.Int(11), q.OptionalInt(12),
        q.IsNull(13) ? std::string() : q.Text(13));
  }
  return OkStatus();
}

Status UsageReport::AddLedgerFile(const std::string& path, const UsageFilter& filter) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return NotFound("no usage ledger at " + path, "ledger_not_found");
  }
  sq::OpenOptions oo;
  oo.read_only = true;
  oo.wal = false;
  MM_TRY(auto db, sq::Open(path, oo));
  return AddLedger(db.get(), filter);
}

std::vector<UsageLine> UsageReport::Lines() const {
  std::vector<UsageLine> out;
  out.reserve(lines_.size());
  for (const auto& [_, l] : lines_) out.push_back(l);
  return out;
}

UsageLine UsageReport::Total() const {
  UsageLine t;
  t.group = "total";
  for (const auto& [_, l] : lines_) {
    t.requests += l.requests;
    t.succeeded += l.succeeded;
    t.latency_sum_ms += l.latency_sum_ms;
    t.latencies_ms.insert(t.latencies_ms.end(), l.latencies_ms.begin(), l.latencies_ms.end());
    t.prompt_tokens += l.prompt_tokens;
    t.completion_tokens += l.completion_tokens;
    t.cached_tokens += l.cached_tokens;
    t.cache_write_tokens += l.cache_write_tokens;
    t.reasoning_tokens += l.reasoning_tokens;
    for (const auto& [c, m] : l.cost_micros) t.cost_micros[c] += m;
    t.unpriced_requests += l.unpriced_requests;
    t.no_usage_requests += l.no_usage_requests;
  }
  return t;
}

namespace {

std::string LineJson(const UsageLine& l) {
  std::string cost = "{", micros = "{";
  for (const auto& [c, m] : l.cost_micros) {
    if (cost.size() > 1) {
      cost += ',';
      micros += ',';
    }
    cost += fmt::format(R"("{}":"{}")", c, MicrosDecimal(m));
    micros += fmt::format(R"("{}":{})", c, m);
  }
  cost += '}';
  micros += '}';
  return fmt::format(
      R"({{"group":"{}","requests":{},"succeeded":{},"success_rate":{:.4f},"avg_latency_ms":{:.1f},"p95_latency_ms":{},"tokens":{{"prompt":{},"completion":{},"cached":{},"cache_write":{},"reasoning":{}}},"cost":{},"cost_micros":{},"unpriced_requests":{},"no_usage_requests":{}}})",
      JsonEscape(l.group), l.requests, l.succeeded, l.success_rate(), l.avg_latency_ms(),
      l.p95_latency_ms(), l.prompt_tokens, l.completion_tokens, l.cached_tokens,
      l.cache_write_tokens, l.reasoning_tokens, cost, micros, l.unpriced_requests,
      l.no_usage_requests);
}

std::string CostCell(const UsageLine& l, const char* currency) {
  auto it = l.cost_micros.find(currency);
  return it == l.cost_micros.end() ? "0" : MicrosDecimal(it->second);
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string UsageReport::Json() const {
  std::string out = fmt::format(R"({{"group_by":"{}","groups":[)", GroupByName(by_));
  bool first = true;
  for (const auto& [_, l] : lines_) {
    if (!first) out += ',';
    first = false;
    out += LineJson(l);
  }
  out += "],\"total\":" + LineJson(Total()) + "}";
  return out;
}

std::string UsageReport::Csv() const {
  std::string out = fmt::format(
      "{},requests,succeeded,success_rate,avg_latency_ms,p95_latency_ms,prompt_tokens,"
      "completion_tokens,cached_tokens,cache_write_tokens,reasoning_tokens,cost_usd,cost_cny,"
      "unpriced_requests,no_usage_requests\n",
      GroupByName(by_));
  auto line = [&](const UsageLine& l) {
    out += fmt::format("{},{},{},{:.4f},{:.1f},{},{},{},{},{},{},{},{},{},{}\n", CsvField(l.group),
                       l.requests, l.succeeded, l.success_rate(), l.avg_latency_ms(),
                       l.p95_latency_ms(), l.prompt_tokens, l.completion_tokens, l.cached_tokens,
                       l.cache_write_tokens, l.reasoning_tokens, CostCell(l, "USD"),
                       CostCell(l, "CNY"), l.unpriced_requests, l.no_usage_requests);
  };
  for (const auto& [_, l] : lines_) line(l);
  line(Total());
  return out;
}

std::string UsageReport::Table() const {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({GroupByName(by_), "requests", "success", "avg ms", "p95 ms", "prompt",
                  "completion", "cached", "reasoning", "cost"});
  auto add = [&](const UsageLine& l) {
    std::string cost;
    for (const auto& [c, m] : l.cost_micros) {
      cost += (cost.empty() ? "" : " + ") + std::string(c == "CNY" ? "¥" : "$") + MicrosDecimal(m);
    }
    if (l.unpriced_requests > 0) {
      cost += (cost.empty() ? "" : " + ") + std::string("unknown(") +
              std::to_string(l.unpriced_requests) + ")";
    }
    if (cost.empty()) cost = "$0";
    rows.push_back({l.group, std::to_string(l.requests),
                    fmt::format("{:.1f}%", l.success_rate() * 100),
                    fmt::format("{:.0f}", l.avg_latency_ms()), std::to_string(l.p95_latency_ms()),
                    std::to_string(l.prompt_tokens), std::to_string(l.completion_tokens),
                    std::to_string(l.cached_tokens), std::to_string(l.reasoning_tokens), cost});
  };
  for (const auto& [_, l] : lines_) add(l);
  add(Total());
  std::vector<size_t> width(rows[0].size(), 0);
  auto display = [](const std::string& s) {  // UTF-8 aware width ("¥" is two bytes)
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  };
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], display(r[i]));
  }
  std::string out;
  for (size_t ri = 0; ri < rows.size(); ++ri) {
    const auto& r = rows[ri];
    if (ri + 1 == rows.size()) {
      for (size_t i = 0; i < r.size(); ++i) out += std::string(width[i], '-') + "  ";
      out.resize(out.size() - 2);
      out += '\n';
    }
    for (size_t i = 0; i < r.size(); ++i) {
      const size_t pad = width[i] - display(r[i]);
      if (i == 0 || i + 1 == r.size()) {
        out += r[i] + std::string(i + 1 == r.size() ? 0 : pad, ' ');
      } else {
        out += std::string(pad, ' ') + r[i];
      }
      if (i + 1 != r.size()) out += "  ";
    }
    out += '\n';
  }
  return out;
}

}  // namespace modelmux::telemetry
