#include "govern/budget_alert.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "core/json_escape.hpp"
#include "govern/budget_store.hpp"
#include "net/http_client.hpp"
#include "store/redis.hpp"

namespace modelmux::govern {
namespace {

namespace asio = boost::asio;

// KEYS: the marker. ARGV: expire_at_ms (0: never). 1 when this call set it.
constexpr const char* kClaimScript = R"lua(
if redis.call('SET', KEYS[1], '1', 'NX') then
  if tonumber(ARGV[1]) > 0 then redis.call('PEXPIREAT', KEYS[1], ARGV[1]) end
  return 1
end
return 0
)lua";

std::string Escaped(std::string_view s) {
  std::string out;
  AppendJsonEscaped(out, s);
  return out;
}

void LogLine(const std::string& text) {
  std::fprintf(stderr, "%s\n", text.c_str());
  std::fflush(stderr);
}

// Built outside the coroutine: GCC 12 mishandles the default-argument temporaries of the
// HttpClient constructor inside a coroutine frame (they were destroyed twice).
std::unique_ptr<net::HttpClient> NewClient(asio::any_io_executor executor) {
  return std::make_unique<net::HttpClient>(std::move(executor), net::TlsOptions{},
                                           net::ProxyOptions::FromEnvironment());
}

// The webhook call: one POST, bounded in time, its outcome logged. A free coroutine (no captures).
asio::awaitable<void> PostWebhook(std::shared_ptr<BudgetAlerter::Shared> shared, std::string url,
                                  std::string body, std::chrono::milliseconds timeout) {
  auto executor = co_await asio::this_coro::executor;
  auto client_ptr = NewClient(executor);
  net::HttpClient& client = *client_ptr;
  net::ClientRequest req;
  req.method = "POST";
  req.url = std::move(url);
  req.headers.Add("content-type", "application/json");
  req.headers.Add("user-agent", "modelmux-budget-alert");
  req.body = std::move(body);
  net::ClientOptions o;
  o.connect_timeout = timeout;
  o.first_byte_timeout = timeout;
  o.idle_timeout = timeout;
  o.total_timeout = timeout;
  std::string failure;
  auto sent = co_await client.Send(std::move(req), o);
  if (!sent.ok()) {
    failure = sent.error().message;
  } else {
    const int status = (*sent)->status();
    auto rest = co_await (*sent)->ReadAll(64 << 10);  // let the connection end cleanly
    (void)rest;
    if (status < 200 || status >= 300) failure = "the receiver answered " + std::to_string(status);
  }
  if (failure.empty()) {
    ++shared->webhook_sent;
    co_return;
  }
  ++shared->webhook_failures;
  // The URL is not logged: webhook URLs often carry a token.
  LogLine(R"({"level":"error","msg":"budget alert webhook failed","error":")" + Escaped(failure) +
          "\"}");
}

}  // namespace

std::vector<double> ReachedThresholds(int64_t spent, int64_t limit, std::vector<double> thresholds,
                                      bool exhausted) {
  std::sort(thresholds.begin(), thresholds.end());
  thresholds.erase(std::unique(thresholds.begin(), thresholds.end()), thresholds.end());
  std::vector<double> out;
  for (double t : thresholds) {
    if (!(t > 0)) continue;
    if (exhausted && t >= 1.0) {  // a refusal: the budget is used up for that request
      out.push_back(t);
      continue;
    }
    if (limit <= 0) continue;
    // ceil, forgiving the last bits of binary fractions (0.8 * 10000 is 8000, not 8001).
    const double need = std::ceil(t * static_cast<double>(limit) - 1e-6);
    if (static_cast<double>(spent) >= need) out.push_back(t);
  }
  return out;
}

std::string ThresholdLabel(double threshold) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, threshold);
  if (ec != std::errc()) return "0";
  return std::string(buf, end);
}

std::string BudgetAlertJson(const BudgetAlert& a) {
  std::string s = R"({"key_id":")" + Escaped(a.key_id) + R"(","key_name":")" + Escaped(a.key_name) +
                  R"(","budget":")" + std::string(BudgetPeriodName(a.period)) + R"(","period":")" +
                  Escaped(a.period_id) + R"(","threshold":)" + ThresholdLabel(a.threshold) +
                  R"(,"spent":")" + Escaped(telemetry::FormatMoney(a.spent)) + R"(","limit":")" +
                  Escaped(telemetry::FormatMoney(a.limit)) + R"(","spent_micros":)" +
                  std::to_string(a.spent.micros) + R"(,"limit_micros":)" +
                  std::to_string(a.limit.micros) + R"(,"currency":")" +
                  telemetry::CurrencyCode(a.limit.currency) + R"(","refused":)" +
                  (a.refused ? "true" : "false") + "}";
  return s;
}

BudgetAlerter::BudgetAlerter(std::shared_ptr<store::RedisClient> redis, BudgetAlertOptions options)
    : redis_(std::move(redis)), options_(std::move(options)), state_(std::make_shared<Shared>()) {}

BudgetAlerter::~BudgetAlerter() = default;

asio::awaitable<bool> BudgetAlerter::Claim(std::string marker, int64_t expire_at_ms) {
  {
    std::lock_guard lock(mu_);
    if (!claimed_.insert(marker).second) co_return false;  // raised (or being raised) here
  }
  if (!redis_) co_return true;
  std::vector<std::string> keys{marker};
  std::vector<std::string> args{std::to_string(expire_at_ms)};
  auto r = co_await redis_->Eval(kClaimScript, std::move(keys), std::move(args));
  if (!r.ok()) co_return true;  // Redis unreachable: this replica raises it on its own
  co_return r->type == store::RedisReply::Type::kInteger && r->integer == 1;
}

void BudgetAlerter::Raise(const BudgetAlert& alert, asio::any_io_executor executor) {
  ++raised_;
  const std::string payload = BudgetAlertJson(alert);
  LogLine(R"({"level":"warn","msg":"budget alert",)" + payload.substr(1));
  if (counter_) {
    counter_
        ->With({alert.key_id, std::string(BudgetPeriodName(alert.period)),
                ThresholdLabel(alert.threshold)})
        .Inc();
  }
  if (!options_.webhook.empty()) {
    asio::co_spawn(executor,
                   PostWebhook(state_, options_.webhook, payload, options_.webhook_timeout),
                   asio::detached);
  }
}

asio::awaitable<int> BudgetAlerter::Observe(std::string key_id, std::string key_name,
                                            std::vector<BudgetState> states,
                                            std::vector<bool> exhausted) {
  if (!enabled()) co_return 0;
  auto executor = co_await asio::this_coro::executor;
  const auto now = options_.clock();
  int raised = 0;
  for (size_t i = 0; i < states.size(); ++i) {
    const BudgetState& s = states[i];
    const bool refused = i < exhausted.size() && exhausted[i];
    const auto reached =
        ReachedThresholds(s.spent.micros, s.limit.micros, options_.thresholds, refused);
    if (reached.empty()) continue;
    const PeriodKey period = PeriodKeyFor(s.period, now);
    for (double t : reached) {
      const std::string marker = options_.prefix + ":alert:{" + key_id +
                                 "}:" + std::string(BudgetPeriodName(s.period)) + ":" +
                                 period.suffix + ":" + ThresholdLabel(t);
      const bool mine = co_await Claim(marker, period.expire_at_ms);
      if (!mine) continue;
      BudgetAlert a;
      a.key_id = key_id;
      a.key_name = key_name;
      a.period = s.period;
      a.period_id = period.suffix;
      a.spent = s.spent;
      a.limit = s.limit;
      a.threshold = t;
      a.refused = refused;
      Raise(a, executor);
      ++raised;
    }
  }
  co_return raised;
}

}  // namespace modelmux::govern
