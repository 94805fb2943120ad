#include "govern/limiter.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <random>

#include "govern/budget_store.hpp"
#include "store/redis.hpp"

namespace modelmux::govern {
namespace {

using Period = KeyLimits::Budget::Period;
using telemetry::Currency;
using telemetry::Money;

Error RateLimitedError(const resilience::SharedWindow::Ticket& t) {
  Error e;
  e.kind = ErrorKind::kRateLimited;
  e.code = "key_rate_limited";
  e.message = t.by_tokens ? "this key's tokens-per-window limit is reached"
                          : "this key's requests-per-window limit is reached";
  e.retry_after = std::max(t.retry_after, std::chrono::milliseconds(1));
  return e;
}

Error Refusal(ErrorKind kind, std::string code, std::string message) {
  Error e;
  e.kind = kind;
  e.code = std::move(code);
  e.message = std::move(message);
  return e;
}

}  // namespace

std::string_view BudgetPeriodName(Period period) {
  switch (period) {
    case Period::kDay:
      return "daily";
    case Period::kMonth:
      return "monthly";
    case Period::kTotal:
      return "total";
  }
  return "total";
}

std::vector<CurrencyRate> CurrencyRatesFrom(const std::map<std::string, double>& m) {
  std::vector<CurrencyRate> out;
  for (const auto& [name, rate] : m) {
    if (name == "USD_CNY") out.push_back({Currency::kUsd, Currency::kCny, rate});
    if (name == "CNY_USD") out.push_back({Currency::kCny, Currency::kUsd, rate});
  }
  return out;
}

struct Limiter::Impl {
  std::shared_ptr<store::RedisClient> redis;
  LimiterOptions options;
  BudgetStore budgets;
  std::mutex mu;
  std::map<std::string, std::shared_ptr<resilience::SharedWindow>, std::less<>>
      windows;  // guarded by mu
  uint64_t salt = 0;
  std::atomic<uint64_t> next_id{0};
  std::atomic<uint64_t> admitted{0}, rate_limited{0}, budget_refused{0}, window_fallbacks{0};

  Impl(std::shared_ptr<store::RedisClient> r, LimiterOptions o)
      : redis(std::move(r)), options(std::move(o)), budgets(redis, options) {
    std::random_device rd;
    salt = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }

  std::shared_ptr<resilience::SharedWindow> Window(const std::string& key_id, const KeyLimits& l) {
    const std::string name = key_id + "|" + std::to_string(l.rpm) + "|" + std::to_string(l.tpm) +
                             "|" + std::to_string(l.window.count());
    std::lock_guard lock(mu);
    auto it = windows.find(name);
    if (it != windows.end()) return it->second;
    resilience::SharedWindowOptions o;
    o.mode = resilience::SharedWindowOptions::Mode::kSliding;
    o.scope = "key";
    o.id = key_id;
    o.limits.rpm = l.rpm;
    o.limits.tpm = l.tpm;
    o.limits.window = l.window;
    o.limits.max_wait = std::chrono::milliseconds(0);
    o.prefix = options.prefix + ":rl";
    o.clock = options.clock;
    auto w = resilience::SharedWindow::Create(redis, std::move(o));
    windows.emplace(name, w);
    return w;
  }

  std::string NewId() {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%016llx%llx", static_cast<unsigned long long>(salt),
                  static_cast<unsigned long long>(++next_id));
    return buf;
  }
};

std::shared_ptr<Limiter> Limiter::Create(std::shared_ptr<store::RedisClient> redis,
                                         LimiterOptions options) {
  return std::shared_ptr<Limiter>(
      new Limiter(std::make_shared<Impl>(std::move(redis), std::move(options))));
}

Limiter::Limiter(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
Limiter::~Limiter() = default;

Limiter::Stats Limiter::stats() const {
  return {impl_->admitted.load(), impl_->rate_limited.load(), impl_->budget_refused.load(),
          impl_->window_fallbacks.load() + impl_->budgets.fallbacks()};
}

std::optional<Money> Limiter::Convert(Money m, Currency to, bool round_up) const {
  if (m.currency == to) return m;
  std::optional<double> factor;
  for (const auto& r : impl_->options.currency_rates) {
    if (!(r.rate > 0)) continue;
    if (r.from == m.currency && r.to == to) factor = r.rate;
  }
  if (!factor) {
    for (const auto& r : impl_->options.currency_rates) {
      if (!(r.rate > 0)) continue;
      if (r.from == to && r.to == m.currency) factor = 1.0 / r.rate;
    }
  }
  if (!factor) return std::nullopt;
  const double v = static_cast<double>(m.micros) * *factor;
  return Money{static_cast<int64_t>(round_up ? std::ceil(v - 1e-6) : std::llround(v)), to};
}

boost::asio::awaitable<Result<Admission>> Limiter::Admit(
    std::string key_id, KeyLimits limits, int64_t estimated_tokens,
    std::optional<telemetry::Money> estimated_cost) {
  Impl& im = *impl_;
  Admission a;
  a.key_id = key_id;
  a.id = im.NewId();
  a.tokens = std::max<int64_t>(estimated_tokens, 0);

  // The amounts each budget would reserve, checked before anything is reserved.
  std::vector<int64_t> amounts;
  for (const auto& b : limits.budgets) {
    if (!estimated_cost) {
      if (!im.options.allow_unpriced) {
        ++im.budget_refused;
        co_return Refusal(ErrorKind::kPermission, "model_unpriced",
                          "the model has no known price and this key has a budget");
      }
      amounts.push_back(0);
      continue;
    }
    auto converted = Convert(*estimated_cost, b.limit.currency, /*round_up=*/true);
    if (!converted) {
      ++im.budget_refused;
      co_return Refusal(ErrorKind::kPermission, "budget_currency_unconvertible",
                        std::string("the model is priced in another currency than the key's ") +
                            std::string(BudgetPeriodName(b.period)) +
                            " budget and no conversion rate is configured");
    }
    amounts.push_back(std::max<int64_t>(converted->micros, 0));
  }

  if (limits.rpm > 0 || limits.tpm > 0) {
    auto window = im.Window(key_id, limits);
    auto ticket = co_await window->Reserve(a.tokens);
    if (im.redis && !ticket.shared) ++im.window_fallbacks;
    if (!ticket.admitted) {
      ++im.rate_limited;
      co_return RateLimitedError(ticket);
    }
    a.window = std::move(ticket);
  }

  if (!limits.budgets.empty()) {
    auto refused = co_await im.budgets.Reserve(key_id, a.id, limits.budgets, amounts, a.holds);
    if (refused) {
      ++im.budget_refused;
      if (a.window) {
        auto window = im.Window(key_id, limits);
        co_await window->Release(*a.window);
      }
      const auto& b = limits.budgets[refused->index];
      co_return Refusal(ErrorKind::kBudgetExceeded, "budget_exceeded",
                        std::string(BudgetPeriodName(b.period)) +
                            " budget exhausted: " + telemetry::FormatMoney(refused->remaining) +
                            " left of " + telemetry::FormatMoney(b.limit));
    }
  }
  ++im.admitted;
  // The window's limits are kept with the admission to find it again at settlement.
  a.window_limits = {limits.rpm, limits.tpm, limits.window};
  a.budgets = limits.budgets;
  co_return a;
}

boost::asio::awaitable<void> Limiter::Settle(Admission& a, int64_t actual_tokens,
                                             std::optional<telemetry::Money> actual_cost) {
  if (a.done) co_return;
  a.done = true;
  Impl& im = *impl_;
  if (a.window) {
    KeyLimits l;
    l.rpm = a.window_limits.rpm;
    l.tpm = a.window_limits.tpm;
    l.window = a.window_limits.window;
    auto window = im.Window(a.key_id, l);
    co_await window->Settle(*a.window, actual_tokens);
  }
  if (a.holds.empty()) co_return;
  std::vector<int64_t> actual;
  for (const auto& h : a.holds) {
    std::optional<Money> m;
    if (actual_cost) m = Convert(*actual_cost, h.currency, /*round_up=*/false);
    actual.push_back(m ? std::max<int64_t>(m->micros, 0) : h.micros);
  }
  co_await im.budgets.Settle(a.id, a.holds, actual);
}

boost::asio::awaitable<void> Limiter::Release(Admission& a) {
  if (a.done) co_return;
  a.done = true;
  Impl& im = *impl_;
  if (a.window) {
    KeyLimits l;
    l.rpm = a.window_limits.rpm;
    l.tpm = a.window_limits.tpm;
    l.window = a.window_limits.window;
    auto window = im.Window(a.key_id, l);
    co_await window->Release(*a.window);
  }
  if (a.holds.empty()) co_return;
  std::vector<int64_t> zero(a.holds.size(), 0);
  co_await im.budgets.Settle(a.id, a.holds, zero);
}

boost::asio::awaitable<std::vector<BudgetState>> Limiter::Budgets(std::string key_id,
                                                                  KeyLimits limits) {
  co_return co_await impl_->budgets.States(key_id, limits.budgets);
}

}  // namespace modelmux::govern
