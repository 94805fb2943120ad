#pragma once
// Process-wide simulator settings (the `modelmux sim` flags) and the per-request controls that
// `x-sim-*` headers override.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "core/result.hpp"
#include "net/headers.hpp"
#include "sim/request.hpp"

namespace modelmux::sim {

struct SimOptions {
  std::chrono::milliseconds ttft{0};      // --ttft-ms: before the first stream chunk
  double tokens_per_s = 0;                // --tokens-per-s: 0 = no pacing
  std::chrono::milliseconds latency{0};   // --latency-ms: non-stream answers
  int64_t rpm = 0, tpm = 0;               // --rpm, --tpm: 0 = unlimited
  std::chrono::seconds window{60};        // --window-s
  double fail_rate = 0;                   // --fail-rate: 0..1
  std::optional<uint64_t> seed;           // --seed: random failures instead of evenly spread
  int fail_status = 500;                  // --fail-status
  std::optional<double> retry_after_s;    // --retry-after: on failures
  std::optional<int64_t> retry_after_ms;  // --retry-after-ms: on failures
  std::string require_key;                // if non-empty, 401 unless the Bearer key matches
};

enum class StallAt { kHeaders, kBody };

// The effective controls of one request: the options, overridden by x-sim-* headers.
struct Controls {
  std::chrono::milliseconds ttft{0};
  double tokens_per_s = 0;
  std::optional<std::chrono::milliseconds> latency;  // set by option (>0) or header
  double fail_rate = 0;
  int fail_status = 500;
  std::optional<double> retry_after_s;
  std::optional<int64_t> retry_after_ms;
  std::optional<int> status;  // x-sim-status
  bool reset = false;         // x-sim-reset
  std::chrono::milliseconds stall{0};
  StallAt stall_at = StallAt::kHeaders;
  std::optional<int64_t> cut_after;      // x-sim-cut-after
  std::optional<int64_t> error_after;    // x-sim-error-after
  std::optional<int64_t> output_tokens;  // x-sim-output-tokens: generated reply length
  std::optional<bool> should_retry;      // x-sim-should-retry: x-should-retry on error answers
  // Usage as the answer reports it (ApplyUsageControls): the prompt's size, the part of it read
  // from / written to the provider's prompt cache, and reasoning tokens added to the completion.
  std::optional<int64_t> prompt_tokens;  // x-sim-prompt-tokens
  int64_t cached_tokens = 0;             // x-sim-cached-tokens
  int64_t cache_write_tokens = 0;        // x-sim-cache-write-tokens
  int64_t reasoning_tokens = 0;          // x-sim-reasoning-tokens

  // Delay before a non-stream answer with `tokens` completion tokens.
  [[nodiscard]] std::chrono::milliseconds NonStreamDelay(int64_t tokens) const;
  // Delay between two stream pieces (0 without pacing).
  [[nodiscard]] std::chrono::microseconds TokenInterval() const;
};

// Reads x-sim-* headers over `options`. A malformed value is an invalid_request error naming the
// header.
[[nodiscard]] Result<Controls> ReadControls(const SimOptions& options, const net::Headers& headers);

// The usage controls applied to a reply plan: prompt_tokens replaced by x-sim-prompt-tokens (and
// raised to cached + cache-write tokens when those exceed it), the cache counts copied, and the
// reasoning tokens added to completion_tokens (they are not in `pieces`: nothing is shown).
void ApplyUsageControls(const Controls& controls, ReplyPlan& plan);

}  // namespace modelmux::sim
