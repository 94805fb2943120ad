#include "telemetry/request_log.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cstdio>
#include <mutex>

#include "core/json_escape.hpp"

namespace modelmux::telemetry {

std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  AppendJsonEscaped(out, s);
  return out;
}

namespace {

// A body on one log line: CR and LF written as the two characters \r and \n.
std::string OneLine(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string RequestLog::Format(const RequestRecord& r) const {
  const auto secs = std::chrono::floor<std::chrono::seconds>(r.start);
  const auto end = std::chrono::floor<std::chrono::seconds>(
      r.start + std::chrono::duration_cast<std::chrono::system_clock::duration>(r.latency));
  const int64_t tokens = r.usage ? r.usage->total() : 0;
  if (format_ == LogFormat::kHuman) {
    std::string out = fmt::format(
        "[{:%Y-%m-%d %H:%M:%S}] REQUEST: model={}, prompt_len={}, tokens={}, cost={}, "
        "request_id={}\n",
        secs, r.model, r.prompt_chars, tokens, r.cost.empty() ? "unknown" : r.cost, r.request_id);
    if (!r.request_body.empty()) {
      out += fmt::format("[{:%Y-%m-%d %H:%M:%S}] REQUEST_BODY: {}, request_id={}\n", secs,
                         OneLine(r.request_body), r.request_id);
    }
    out += fmt::format(
        "[{:%Y-%m-%d %H:%M:%S}] RESPONSE: status={}, latency={:.3g}s{}, request_id={}\n", end,
        r.status, r.latency.count(), r.error_code.empty() ? "" : ", error=" + r.error_code,
        r.request_id);
    if (!r.response_body.empty()) {
      out += fmt::format("[{:%Y-%m-%d %H:%M:%S}] RESPONSE_BODY: {}, request_id={}\n", end,
                         OneLine(r.response_body), r.request_id);
    }
    return out;
  }
  std::string line = fmt::format(
      R"({{"time":"{:%Y-%m-%dT%H:%M:%S}Z","request_id":"{}","method":"{}","path":"{}","model":"{}","provider":"{}","upstream_model":"{}","status":{},"stream":{},"latency_s":{:.6f},"prompt_len":{})",
      secs, JsonEscape(r.request_id), JsonEscape(r.method), JsonEscape(r.path), JsonEscape(r.model),
      JsonEscape(r.provider), JsonEscape(r.upstream_model), r.status, r.stream ? "true" : "false",
      r.latency.count(), r.prompt_chars);
  if (r.usage) {
    line += fmt::format(
        R"(,"prompt_tokens":{},"completion_tokens":{},"cached_tokens":{},"cache_write_tokens":{},"reasoning_tokens":{},"tokens":{})",
        r.usage->prompt_tokens, r.usage->completion_tokens, r.usage->cache_read_tokens,
        r.usage->cache_write_tokens, r.usage->reasoning_tokens, tokens);
    if (r.usage_estimated) line += R"(,"usage_estimated":true)";
  }
  line += r.cost.empty() ? R"(,"cost":null)" : fmt::format(R"(,"cost":"{}")", JsonEscape(r.cost));
  if (r.attempts > 1) line += fmt::format(R"(,"attempts":{})", r.attempts);
  if (!r.fallback.empty()) line += fmt::format(R"(,"fallback":"{}")", JsonEscape(r.fallback));
  if (!r.key_id.empty()) line += fmt::format(R"(,"key_id":"{}")", JsonEscape(r.key_id));
  if (!r.deployment.empty()) {
    line += fmt::format(R"(,"deployment":"{}")", JsonEscape(r.deployment));
  }
  if (r.ttft) line += fmt::format(R"(,"ttft_s":{:.6f})", r.ttft->count());
  if (!r.cache.empty()) line += fmt::format(R"(,"cache":"{}")", JsonEscape(r.cache));
  if (!r.request_body.empty()) {
    line += fmt::format(R"(,"request_body":"{}")", JsonEscape(r.request_body));
  }
  if (!r.response_body.empty()) {
    line += fmt::format(R"(,"response_body":"{}")", JsonEscape(r.response_body));
  }
  if (!r.error_code.empty()) {
    line += fmt::format(R"(,"error":{{"code":"{}","message":"{}"}})", JsonEscape(r.error_code),
                        JsonEscape(r.error_message));
  }
  line += "}\n";
  return line;
}

void RequestLog::Write(const RequestRecord& r) const {
  if (!enabled_) return;
  std::string text = Format(r);
  std::lock_guard lock(mu_);
  pending_ += text;
  const auto now = std::chrono::steady_clock::now();
  if (pending_.size() >= 32 * 1024 || now - last_flush_ >= std::chrono::milliseconds(200)) {
    FlushLocked();
  }
}

void RequestLog::Flush() const {
  std::lock_guard lock(mu_);
  FlushLocked();
}

void RequestLog::FlushLocked() const {
  last_flush_ = std::chrono::steady_clock::now();
  if (pending_.empty()) return;
  fwrite(pending_.data(), 1, pending_.size(), stderr);
  fflush(stderr);
  pending_.clear();
}

RequestLog::~RequestLog() {
  Flush();
}

}  // namespace modelmux::telemetry
