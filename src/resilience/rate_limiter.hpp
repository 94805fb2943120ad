#pragma once
// Client-side rate limits for one deployment: requests and tokens per window, as a pair of
// GCRA schedules (the generic cell rate algorithm: a "theoretical arrival time" that each
// admitted request pushes forward by its cost). Requests are paced evenly, so that a burst is
// smoothed before the provider has to say 429, and any window of the configured length sees at
// most the limit, with a margin of 1 % of the window for the jitter between our schedule and the
// provider's arrivals (so the pace is window * 1.01 / rpm). A request that would have to wait
// longer than max_wait is refused at once (load shedding) with the time after which it would fit.
//
// Tokens are reserved up front (the prompt estimate plus max_tokens) and settled to the actual
// usage afterwards; unused tokens are given back. Thread-safe; time is an input.

#include <chrono>
#include <cstdint>
#include <mutex>

namespace modelmux::resilience {

struct RateLimits {
  uint64_t rpm = 0;  // requests per window; 0 = no limit
  uint64_t tpm = 0;  // tokens per window; 0 = no limit
  std::chrono::milliseconds window{60'000};
  std::chrono::milliseconds max_wait{30'000};  // longer queues are refused
};

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  struct Ticket {
    bool admitted = false;
    std::chrono::milliseconds wait{0};         // admitted: wait this long, then send
    std::chrono::milliseconds retry_after{0};  // refused: try again after this
  };

  explicit RateLimiter(RateLimits limits);
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  [[nodiscard]] Ticket Reserve(int64_t tokens, Clock::time_point now);
  // Gives back reserved tokens that were not used (actual < reserved), or takes the excess.
  void Settle(int64_t reserved, int64_t actual);
  // Gives back a reservation whose request was never sent.
  void Release(int64_t tokens);

  [[nodiscard]] bool limited() const { return limits_.rpm > 0 || limits_.tpm > 0; }
  [[nodiscard]] const RateLimits& limits() const { return limits_; }

 private:
  RateLimits limits_;
  std::chrono::nanoseconds request_interval_{0};  // window * 1.01 / rpm
  double token_interval_ns_ = 0;                  // window * 1.01 / tpm, per token
  std::mutex mu_;
  Clock::time_point request_tat_{};  // guarded by mu_
  Clock::time_point token_tat_{};    // guarded by mu_
};

}  // namespace modelmux::resilience
