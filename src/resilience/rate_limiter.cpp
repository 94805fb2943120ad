#include "resilience/rate_limiter.hpp"

#include <algorithm>

namespace modelmux::resilience {
namespace {

std::chrono::milliseconds CeilMs(std::chrono::nanoseconds d) {
  return std::chrono::ceil<std::chrono::milliseconds>(std::max(d, std::chrono::nanoseconds(0)));
}

// The schedule is paced over the window plus 1/kMarginDivisor of it. The provider counts
// arrivals, and those trail our schedule by a jitter of a few ms (timer wake-up, the ms rounding
// of waits, connection set-up): paced at exactly the limit, request k and request k+rpm start
// exactly one window apart, and a provider window that opens between their arrivals sees rpm+1
// (one 429 in about 2,000 requests at 600 per 2 s over loopback). 1 % of throughput buys a
// jitter tolerance of 1 % of the window (20 ms of a 2 s window, 600 ms of a minute).
constexpr int64_t kMarginDivisor = 100;

}  // namespace

RateLimiter::RateLimiter(RateLimits limits) : limits_(limits) {
  const auto window = std::chrono::duration_cast<std::chrono::nanoseconds>(limits_.window);
  const auto paced = window + window / kMarginDivisor;
  if (limits_.rpm > 0) {
    const auto rpm = static_cast<int64_t>(limits_.rpm);
    request_interval_ = (paced + std::chrono::nanoseconds(rpm - 1)) / rpm;  // rounded up
  }
  if (limits_.tpm > 0) {
    token_interval_ns_ = static_cast<double>(paced.count()) / static_cast<double>(limits_.tpm);
  }
}

RateLimiter::Ticket RateLimiter::Reserve(int64_t tokens, Clock::time_point now) {
  Ticket t;
  if (!limited()) {
    t.admitted = true;
    return t;
  }
  std::lock_guard lock(mu_);
  // Each schedule says when this request may start: its theoretical arrival time, or now.
  const Clock::time_point req_start = std::max(now, request_tat_);
  const Clock::time_point tok_start = std::max(now, token_tat_);
  const Clock::time_point start = std::max(req_start, tok_start);
  const auto wait = start - now;
  if (wait > limits_.max_wait) {
    t.retry_after = CeilMs(wait - limits_.max_wait);
    if (t.retry_after.count() == 0) t.retry_after = std::chrono::milliseconds(1);
    return t;
  }
  if (limits_.rpm > 0) request_tat_ = start + request_interval_;
  if (limits_.tpm > 0) {
    const auto cost = std::chrono::nanoseconds(static_cast<int64_t>(
        token_interval_ns_ * static_cast<double>(std::max<int64_t>(tokens, 0))));
    token_tat_ = start + cost;
  }
  t.admitted = true;
  t.wait = CeilMs(wait);
  return t;
}

void RateLimiter::Settle(int64_t reserved, int64_t actual) {
  if (limits_.tpm == 0 || reserved == actual) return;
  std::lock_guard lock(mu_);
  token_tat_ -= std::chrono::nanoseconds(
      static_cast<int64_t>(token_interval_ns_ * static_cast<double>(reserved - actual)));
}

void RateLimiter::Release(int64_t tokens) {
  std::lock_guard lock(mu_);
  if (limits_.rpm > 0) request_tat_ -= request_interval_;
  if (limits_.tpm > 0) {
    token_tat_ -= std::chrono::nanoseconds(static_cast<int64_t>(
        token_interval_ns_ * static_cast<double>(std::max<int64_t>(tokens, 0))));
  }
}

}  // namespace modelmux::resilience
