#include "sim/limits.hpp"

#include <algorithm>
#include <cmath>

namespace modelmux::sim {

std::string FormatGoDuration(std::chrono::milliseconds d) {
  int64_t ms = std::max<int64_t>(d.count(), 0);
  if (ms == 0) return "0s";
  if (ms < 1000) return std::to_string(ms) + "ms";
  std::string out;
  int64_t hours = ms / 3'600'000;
  int64_t minutes = ms / 60'000 % 60;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  int64_t sec_ms = ms % 60'000;
  out += std::to_string(sec_ms / 1000);
  if (int64_t frac = sec_ms % 1000; frac != 0) {
    std::string f = std::to_string(frac);
    f.insert(0, 3 - f.size(), '0');
    while (!f.empty() && f.back() == '0') f.pop_back();
    out += "." + f;
  }
  return out + "s";
}

RateWindows::RateWindows(int64_t rpm, int64_t tpm, std::chrono::seconds window)
    : rpm_(rpm), tpm_(tpm), window_(std::max(window, std::chrono::seconds(1))) {}

RateDecision RateWindows::Admit(std::chrono::steady_clock::time_point now, int64_t tokens) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  int64_t now_ms = duration_cast<milliseconds>(now.time_since_epoch()).count();
  int64_t index = now_ms >= 0 ? now_ms / window_.count() : (now_ms + 1) / window_.count() - 1;
  RateDecision d;
  d.limit_requests = rpm_;
  d.limit_tokens = tpm_;
  d.requested_tokens = tokens;
  d.reset_in = milliseconds((index + 1) * window_.count() - now_ms);
  std::lock_guard lock(mu_);
  if (index != window_index_) {
    window_index_ = index;
    requests_ = 0;
    tokens_ = 0;
  }
  if (rpm_ > 0 && requests_ + 1 > rpm_) {
    d.allowed = false;
  } else if (tpm_ > 0 && tokens_ + tokens > tpm_) {
    d.allowed = false;
    d.by_tokens = true;
  } else {
    ++requests_;
    tokens_ += tokens;
  }
  d.remaining_requests = rpm_ > 0 ? std::max<int64_t>(rpm_ - requests_, 0) : 0;
  d.remaining_tokens = tpm_ > 0 ? std::max<int64_t>(tpm_ - tokens_, 0) : 0;
  return d;
}

void RateWindows::Reset() {
  std::lock_guard lock(mu_);
  window_index_ = -1;
  requests_ = 0;
  tokens_ = 0;
}

FailDecider::FailDecider(std::optional<uint64_t> seed) : seed_(seed), rng_(seed.value_or(0)) {}

bool FailDecider::Next(double rate) {
  if (!(rate > 0)) return false;
  std::lock_guard lock(mu_);
  ++count_;
  if (rate >= 1) return true;
  if (seed_) return std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < rate;
  // Exact integer arithmetic on P in millionths, so P = 0.3 gives exactly 30 failures in 100.
  constexpr uint64_t kScale = 1'000'000;
  auto p = static_cast<uint64_t>(std::llround(rate * kScale));
  return count_ * p / kScale > (count_ - 1) * p / kScale;
}

void FailDecider::Reset() {
  std::lock_guard lock(mu_);
  count_ = 0;
  rng_.seed(seed_.value_or(0));
}

}  // namespace modelmux::sim
