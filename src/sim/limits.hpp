#pragma once
// The simulator's admission decisions: fixed-window RPM/TPM limits and the fail-rate decider.
// Both are thread-safe (one mutex each, never held across a suspension) and take time as an
// argument, so tests drive them with an injected clock.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>

namespace modelmux::sim {

// "1.5s", "500ms", "1m0s", "2h3m4s": Go's time.Duration format as OpenAI's x-ratelimit-reset-*.
[[nodiscard]] std::string FormatGoDuration(std::chrono::milliseconds d);

struct RateDecision {
  bool allowed = true;
  bool by_tokens = false;      // when refused: the token limit was hit (else the request limit)
  int64_t limit_requests = 0;  // 0: no request limit configured
  int64_t remaining_requests = 0;
  int64_t limit_tokens = 0;  // 0: no token limit configured
  int64_t remaining_tokens = 0;
  int64_t requested_tokens = 0;
  std::chrono::milliseconds reset_in{0};  // until the current window ends
};

// Fixed windows aligned to the clock's epoch: window k covers [k*window, (k+1)*window). A
// request is admitted when one more request and `tokens` more tokens fit in the current window;
// a refused request consumes nothing.
class RateWindows {
 public:
  RateWindows(int64_t rpm, int64_t tpm, std::chrono::seconds window);

  [[nodiscard]] bool enabled() const { return rpm_ > 0 || tpm_ > 0; }
  [[nodiscard]] RateDecision Admit(std::chrono::steady_clock::time_point now, int64_t tokens);
  void Reset();

 private:
  const int64_t rpm_;
  const int64_t tpm_;
  const std::chrono::milliseconds window_;
  std::mutex mu_;
  int64_t window_index_ = -1;
  int64_t requests_ = 0;
  int64_t tokens_ = 0;
};

// Decides which requests fail at a rate P. Without a seed it is deterministic: request number c
// (counting from 1) fails when floor(c*P) > floor((c-1)*P), so P = 0.3 fails exactly 3 of every 10,
// evenly spread. With a seed, each request fails with probability P from a seeded mt19937_64.
class FailDecider {
 public:
  explicit FailDecider(std::optional<uint64_t> seed);

  [[nodiscard]] bool Next(double rate);
  void Reset();

 private:
  std::mutex mu_;
  std::optional<uint64_t> seed_;
  std::mt19937_64 rng_;
  uint64_t count_ = 0;
};

}  // namespace modelmux::sim
