#include "resilience/retry_policy.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>
#include <string>

namespace modelmux::resilience {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// A finite positive decimal number (no exponent games beyond what from_chars accepts).
std::optional<double> Number(std::string_view s) {
  s = Trim(s);
  if (s.empty()) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v) || v <= 0) {
    return std::nullopt;
  }
  return v;
}

std::optional<std::chrono::milliseconds> Millis(double ms) {
  // Anything above a day is nonsense for a retry hint; refuse rather than overflow.
  if (ms > 86'400'000.0) return std::nullopt;
  return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(ms)));
}

// IMF-fixdate, e.g. "Wed, 21 Oct 2015 07:28:00 GMT".
std::optional<std::chrono::system_clock::time_point> HttpDate(std::string_view s) {
  s = Trim(s);
  std::string text(s);
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const time_t t = timegm(&tm);
  if (t == static_cast<time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t);
}

}  // namespace

std::optional<bool> ParseShouldRetry(std::string_view header) {
  header = Trim(header);
  if (IEquals(header, "true")) return true;
  if (IEquals(header, "false")) return false;
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(
    std::string_view retry_after_ms, std::string_view retry_after,
    std::chrono::system_clock::time_point now) {
  if (auto ms = Number(retry_after_ms)) return Millis(*ms);
  if (Trim(retry_after).empty()) return std::nullopt;
  if (auto sec = Number(retry_after)) return Millis(*sec * 1000.0);
  if (auto at = HttpDate(retry_after)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*at - now);
    if (left.count() > 0) return Millis(static_cast<double>(left.count()));
  }
  return std::nullopt;
}

bool Retryable(const Error& e, std::optional<bool> should_retry) {
  if (e.kind == ErrorKind::kCancelled || e.kind == ErrorKind::kBudgetExceeded) return false;
  if (should_retry) return *should_retry;
  if (e.upstream_status == 408 || e.upstream_status == 409) return true;
  return e.Retry() == RetryClass::kRetry;
}

std::chrono::milliseconds BackoffDelay(const RetryPolicy& policy, int retry, double u,
                                       std::optional<std::chrono::milliseconds> hint) {
  if (hint && hint->count() > 0 && *hint <= policy.max_hint) return *hint;
  u = std::clamp(u, 0.0, 1.0);
  const int shift = std::clamp(retry - 1, 0, 30);
  const double window = std::min(static_cast<double>(policy.cap.count()),
                                 static_cast<double>(policy.base.count()) * std::ldexp(1.0, shift));
  return std::chrono::milliseconds(static_cast<int64_t>(window * u));
}

}  // namespace modelmux::resilience
