#pragma once
// One record per finished request, written as a JSON line (default) or as the seed's two-line
// human form:
//   [2026-11-28 14:30:00] REQUEST: model=..., prompt_len=45, tokens=128, cost=$0.002,
//   request_id=... [2026-11-28 14:30:02] RESPONSE: status=200, latency=1.8s, request_id=...
// With --log-bodies the human form adds a "[time] REQUEST_BODY: <body>, request_id=..." line after
// REQUEST and a RESPONSE_BODY line after RESPONSE (bodies redacted, line breaks written as \n).
// Every line carries the request id. No secret ever reaches this record: it holds no headers or
// keys, and error messages are masked by the dialects before they get here.

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "core/usage.hpp"

namespace modelmux::telemetry {

enum class LogFormat { kJson, kHuman };

struct RequestRecord {
  std::string request_id;
  std::string method;
  std::string path;
  std::string model;     // as the caller named it
  std::string provider;  // the provider that answered, if any
  std::string upstream_model;
  int status = 0;
  bool stream = false;
  size_t prompt_chars = 0;
  std::optional<Usage> usage;
  // The usage is modelmux's estimate (a stream cut before the provider reported its count):
  // the prompt estimated from the request, the completion from the text delivered.
  bool usage_estimated = false;
  std::string cost;  // formatted ("$0.002"), or "" when unknown
  std::chrono::system_clock::time_point start;
  std::chrono::duration<double> latency{0};
  std::string error_code;  // our code, when the request failed
  std::string error_message;
  int attempts = 0;        // upstream attempts (0: none was made)
  std::string fallback;    // the fallback model that answered (or failed last), if any
  std::string key_id;      // the caller's virtual key id (never the key itself), if any
  std::string deployment;  // "provider/model" that answered (or failed last)
  std::optional<std::chrono::duration<double>> ttft;  // streams: time to the first content chunk
  std::string cache;  // the response cache's verdict: hit | miss | bypass | ""
  // Only with --log-bodies (telemetry.log_bodies), already passed through RedactBody()
  // (request_log_redact.hpp): media elided, secrets redacted.
  std::string request_body;
  std::string response_body;
};

class RequestLog {
 public:
  // Writes to stderr. `enabled` false turns it into a no-op (benchmarks of the bare path).
  // Lines are buffered and written in groups (one system call per 32 KiB or per 200 ms, whichever
  // comes first); Flush() writes what is pending, and the destructor flushes.
  explicit RequestLog(LogFormat format, bool enabled = true) : format_(format), enabled_(enabled) {}
  ~RequestLog();
  RequestLog(const RequestLog&) = delete;
  RequestLog& operator=(const RequestLog&) = delete;
  void Write(const RequestRecord& r) const;
  void Flush() const;
  // Formats without writing (for tests).
  [[nodiscard]] std::string Format(const RequestRecord& r) const;

 private:
  void FlushLocked() const;

  LogFormat format_;
  bool enabled_;
  mutable std::mutex mu_;
  mutable std::string pending_;
  mutable std::chrono::steady_clock::time_point last_flush_ = std::chrono::steady_clock::now();
};

[[nodiscard]] std::string JsonEscape(std::string_view s);

}  // namespace modelmux::telemetry
