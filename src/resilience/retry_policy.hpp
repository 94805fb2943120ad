#pragma once
// When and how long to wait before another attempt, as the official OpenAI/Anthropic SDKs and
// Envoy do it: a status matrix, `x-should-retry` overriding it both ways, server hints
// (`retry-after-ms`, `retry-after` in seconds or as an HTTP date) honoured under a cap, and
// otherwise exponential backoff with full jitter. Pure: the random draw and the clock are inputs.

#include <chrono>
#include <optional>
#include <string_view>

#include "core/error.hpp"

namespace modelmux::resilience {

struct RetryPolicy {
  int max_retries = 2;                         // attempts = 1 + max_retries (per deployment chain)
  std::chrono::milliseconds base{500};         // first backoff window
  std::chrono::milliseconds cap{8'000};        // largest backoff window
  std::chrono::milliseconds max_hint{60'000};  // a server hint above this is not honoured
  std::chrono::milliseconds min_attempt{250};  // no attempt starts with less time left
};

// `x-should-retry: true|false` (case-insensitive); nullopt when absent or anything else.
[[nodiscard]] std::optional<bool> ParseShouldRetry(std::string_view header);

// The server's wait hint from `retry-after-ms` (milliseconds, may be fractional), else
// `retry-after` (seconds, may be fractional, or an IMF-fixdate HTTP date relative to `now`).
// Zero, negative, non-finite, unparsable and past dates give nullopt.
[[nodiscard]] std::optional<std::chrono::milliseconds> ParseRetryAfter(
    std::string_view retry_after_ms, std::string_view retry_after,
    std::chrono::system_clock::time_point now);

// The status matrix: retried are 408, 409, 429 (rate limits, not exhausted quotas), >= 500,
// timeouts and connection failures; never 400, 401, 402, 403, 404, 413, 422, content filters or
// budgets. `should_retry` (the upstream's x-should-retry) wins when present.
[[nodiscard]] bool Retryable(const Error& error, std::optional<bool> should_retry = {});

// The wait before retry number `retry` (1 = the first retry). With a usable hint (positive, at
// most policy.max_hint) the hint itself; otherwise full jitter: `u` (uniform in [0, 1)) times
// min(cap, base * 2^(retry-1)).
[[nodiscard]] std::chrono::milliseconds BackoffDelay(
    const RetryPolicy& policy, int retry, double u,
    std::optional<std::chrono::milliseconds> hint = {});

}  // namespace modelmux::resilience
