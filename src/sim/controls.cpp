#include "sim/options.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace modelmux::sim {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Error BadHeader(std::string_view name) {
  return InvalidRequest("Invalid value for header '" + std::string(name) + "'.", std::string(name),
                        "invalid_sim_header");
}

// Integer header >= min, or nullopt when absent.
Result<std::optional<int64_t>> IntHeader(const net::Headers& h, std::string_view name,
                                         int64_t min = 0) {
  if (!h.Has(name)) return std::optional<int64_t>{};
  std::string_view v = Trim(h.Get(name));
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < min) return BadHeader(name);
  return std::optional<int64_t>(n);
}

// Finite double header >= 0, or nullopt when absent.
Result<std::optional<double>> DoubleHeader(const net::Headers& h, std::string_view name) {
  if (!h.Has(name)) return std::optional<double>{};
  std::string_view v = Trim(h.Get(name));
  double d = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (ec != std::errc() || p != v.data() + v.size() || !std::isfinite(d) || d < 0) {
    return BadHeader(name);
  }
  return std::optional<double>(d);
}

}  // namespace

std::chrono::milliseconds Controls::NonStreamDelay(int64_t tokens) const {
  if (latency) return *latency;
  auto d = ttft;
  if (tokens_per_s > 0) {
    d += std::chrono::milliseconds(
        static_cast<int64_t>(std::llround(1000.0 * static_cast<double>(tokens) / tokens_per_s)));
  }
  return d;
}

std::chrono::microseconds Controls::TokenInterval() const {
  if (!(tokens_per_s > 0)) return std::chrono::microseconds(0);
  return std::chrono::microseconds(static_cast<int64_t>(std::llround(1e6 / tokens_per_s)));
}

Result<Controls> ReadControls(const SimOptions& options, const net::Headers& h) {
  using std::chrono::milliseconds;
  Controls c;
  c.ttft = options.ttft;
  c.tokens_per_s = options.tokens_per_s;
  if (options.latency.count() > 0) c.latency = options.latency;
  c.fail_rate = options.fail_rate;
  c.fail_status = options.fail_status;
  c.retry_after_s = options.retry_after_s;
  c.retry_after_ms = options.retry_after_ms;

  MM_TRY(auto ttft, IntHeader(h, "x-sim-ttft-ms"));
  if (ttft) c.ttft = milliseconds(*ttft);
  MM_TRY(auto tps, DoubleHeader(h, "x-sim-tokens-per-s"));
  if (tps) c.tokens_per_s = *tps;
  MM_TRY(auto latency, IntHeader(h, "x-sim-latency-ms"));
  if (latency) c.latency = milliseconds(*latency);
  MM_TRY(auto fail_rate, DoubleHeader(h, "x-sim-fail-rate"));
  if (fail_rate) {
    if (*fail_rate > 1) return BadHeader("x-sim-fail-rate");
    c.fail_rate = *fail_rate;
  }
  MM_TRY(auto fail_status, IntHeader(h, "x-sim-fail-status", 100));
  if (fail_status) {
    if (*fail_status > 599) return BadHeader("x-sim-fail-status");
    c.fail_status = static_cast<int>(*fail_status);
  }
  MM_TRY(auto retry_after, DoubleHeader(h, "x-sim-retry-after"));
  if (retry_after) c.retry_after_s = retry_after;
  MM_TRY(auto retry_after_ms, IntHeader(h, "x-sim-retry-after-ms"));
  if (retry_after_ms) c.retry_after_ms = retry_after_ms;
  MM_TRY(auto status, IntHeader(h, "x-sim-status", 100));
  if (status) {
    if (*status > 599) return BadHeader("x-sim-status");
    c.status = static_cast<int>(*status);
  }
  if (h.Has("x-sim-should-retry")) {
    const std::string_view v = Trim(h.Get("x-sim-should-retry"));
    if (v != "true" && v != "false") return BadHeader("x-sim-should-retry");
    c.should_retry = v == "true";
  }
  if (h.Has("x-sim-reset")) {
    std::string_view v = Trim(h.Get("x-sim-reset"));
    c.reset = !(v == "0" || net::IEquals(v, "false") || net::IEquals(v, "no"));
  }
  MM_TRY(auto stall, IntHeader(h, "x-sim-stall-ms"));
  if (stall) c.stall = milliseconds(*stall);
  if (h.Has("x-sim-stall-at")) {
    std::string_view v = Trim(h.Get("x-sim-stall-at"));
    if (net::IEquals(v, "headers")) {
      c.stall_at = StallAt::kHeaders;
    } else if (net::IEquals(v, "body")) {
      c.stall_at = StallAt::kBody;
    } else {
      return BadHeader("x-sim-stall-at");
    }
  }
  MM_TRY(c.cut_after, IntHeader(h, "x-sim-cut-after"));
  MM_TRY(c.error_after, IntHeader(h, "x-sim-error-after"));
  MM_TRY(c.output_tokens, IntHeader(h, "x-sim-output-tokens"));
  MM_TRY(c.prompt_tokens, IntHeader(h, "x-sim-prompt-tokens"));
  MM_TRY(auto cached, IntHeader(h, "x-sim-cached-tokens"));
  c.cached_tokens = cached.value_or(0);
  MM_TRY(auto cache_write, IntHeader(h, "x-sim-cache-write-tokens"));
  c.cache_write_tokens = cache_write.value_or(0);
  MM_TRY(auto reasoning, IntHeader(h, "x-sim-reasoning-tokens"));
  c.reasoning_tokens = reasoning.value_or(0);
  return c;
}

void ApplyUsageControls(const Controls& c, ReplyPlan& plan) {
  if (c.prompt_tokens) plan.prompt_tokens = *c.prompt_tokens;
  plan.prompt_tokens = std::max(plan.prompt_tokens, c.cached_tokens + c.cache_write_tokens);
  plan.cached_tokens = c.cached_tokens;
  plan.cache_write_tokens = c.cache_write_tokens;
  plan.reasoning_tokens = c.reasoning_tokens;
  plan.completion_tokens += c.reasoning_tokens;
}

}  // namespace modelmux::sim
