#pragma once
// One record per finished request, written as a JSON line (default) or as the seed's two-line
// human form:
//   [2026-11-28 14:30:00] REQUEST: model=..., prompt_len=45, tokens=128, cost=$0.002
//   [2026-11-28 14:30:02] RESPONSE: status=200, latency=1.8s
// Every line carries the request id. No secret ever reaches this record: it holds no headers or
// keys, and error messages are masked by the dialects before they get here.

#include <chrono>
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
  std::string cost;  // formatted ("$0.002"), or "" when unknown
  std::chrono::system_clock::time_point start;
  std::chrono::duration<double> latency{0};
  std::string error_code;  // our code, when the request failed
  std::string error_message;
};

class RequestLog {
 public:
  // Writes to stderr. `enabled` false turns it into a no-op (benchmarks of the bare path).
  explicit RequestLog(LogFormat format, bool enabled = true) : format_(format), enabled_(enabled) {}
  void Write(const RequestRecord& r) const;
  // Formats without writing (for tests).
  [[nodiscard]] std::string Format(const RequestRecord& r) const;

 private:
  LogFormat format_;
  bool enabled_;
};

[[nodiscard]] std::string JsonEscape(std::string_view s);

}  // namespace modelmux::telemetry
