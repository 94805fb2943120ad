#pragma once
// Batched OTLP/HTTP (JSON) export of spans, off the event loops.
//
// Submit() takes a request's spans under a short lock and returns: a bounded queue, and a spans
// that do not fit are dropped and counted, never waited for. One background thread sends a batch
// when max_batch spans are queued or every `interval`, as POST {url} with content-type
// application/json and the configured headers (their values are never logged), each send bounded
// by `timeout`. A collector that is down or slow costs dropped batches (counted), never a
// request. The destructor sends what is queued (bounded by `timeout`) and joins the thread.
//
// Threading: Submit() from any thread. Metrics: `spans` (a counter family with one label,
// `result`: exported, dropped_queue_full, failed).

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "telemetry/metrics.hpp"
#include "telemetry/trace.hpp"

namespace modelmux::telemetry {

struct OtlpOptions {
  std::string url;  // the full traces URL, e.g. http://127.0.0.1:4318/v1/traces
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{5'000};
  std::chrono::milliseconds interval{1'000};
  size_t max_queue = 4096;  // spans
  size_t max_batch = 512;   // spans per request
  std::string service_name = "modelmux";
  std::string service_version;
};

// Where traces go, from the configuration and the environment (the OpenTelemetry variables):
//   traces URL: config `telemetry.otlp_endpoint` + "/v1/traces"; else
//               OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is; else
//               OTEL_EXPORTER_OTLP_ENDPOINT + "/v1/traces"; else tracing is off (nullopt).
//   headers:    OTEL_EXPORTER_OTLP_HEADERS, then OTEL_EXPORTER_OTLP_TRACES_HEADERS, then
//               `telemetry.otlp_headers` (later ones replace earlier ones of the same name).
//   service:    OTEL_SERVICE_NAME, else "modelmux".
// `env` returns a variable's value or nullopt (injected; std::getenv in the server).
using EnvGetter = std::function<std::optional<std::string>(const std::string&)>;
[[nodiscard]] std::optional<OtlpOptions> ResolveOtlpOptions(
    const std::string& config_endpoint, const std::map<std::string, std::string>& config_headers,
    std::chrono::milliseconds timeout, const EnvGetter& env);

// "k1=v1,k2=v2" (the OTEL_EXPORTER_OTLP_HEADERS form: values percent-decoded, blanks trimmed);
// malformed members are skipped.
[[nodiscard]] std::vector<std::pair<std::string, std::string>> ParseOtlpHeaders(
    std::string_view text);

class SpanExporter {
 public:
  // Sends one encoded batch; true when the collector accepted it (2xx).
  using Sender = std::function<bool(const std::string& body)>;

  // Sends with the built-in HTTP client (net::HttpClient on the exporter's own io_context).
  SpanExporter(OtlpOptions options, CounterFamily* spans);
  // Sends with `sender` (tests).
  SpanExporter(OtlpOptions options, CounterFamily* spans, Sender sender);
  ~SpanExporter();
  SpanExporter(const SpanExporter&) = delete;
  SpanExporter& operator=(const SpanExporter&) = delete;

  // Queues `spans` (as many as fit; the rest are dropped and counted).
  void Submit(std::vector<Span> spans);
  // Blocks until everything queued before the call was handed to the sender (tests, shutdown).
  void Flush();

  [[nodiscard]] const OtlpOptions& options() const { return options_; }

 private:
  void Run();
  void Count(const char* result, size_t n);

  OtlpOptions options_;
  CounterFamily* spans_;
  Sender sender_;
  struct Http;
  std::unique_ptr<Http> http_;

  std::mutex mu_;
  std::condition_variable cv_;       // wakes the sender thread
  std::condition_variable flushed_;  // wakes Flush()
  std::vector<Span> queue_;          // guarded by mu_
  uint64_t submitted_ = 0;           // guarded by mu_: batches of spans accepted so far
  uint64_t handled_ = 0;             // guarded by mu_
  bool stop_ = false;                // guarded by mu_
  bool flush_requested_ = false;     // guarded by mu_
  std::thread thread_;
};

}  // namespace modelmux::telemetry
