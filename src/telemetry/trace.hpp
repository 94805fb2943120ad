#pragma once
// OpenTelemetry spans as plain values: W3C trace context (traceparent) parsing and formatting, a
// span with typed attributes, and the OTLP/HTTP JSON encoding of a batch of spans
// (opentelemetry-proto's ExportTraceServiceRequest in its JSON mapping). Pure functions: no
// clock, no I/O; ids come from an injected generator (or the process's one, NewTraceId/NewSpanId).
// Sending is in telemetry/trace_exporter.hpp.

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace modelmux::telemetry {

struct TraceId {
  uint64_t hi = 0, lo = 0;
  [[nodiscard]] bool valid() const { return hi != 0 || lo != 0; }
  friend bool operator==(const TraceId&, const TraceId&) = default;
};
using SpanId = uint64_t;  // 0 = none

// The part of a trace a request carries: which trace, which span is the parent of what we do
// next, and whether the trace is sampled (recorded).
struct TraceContext {
  TraceId trace_id;
  SpanId span_id = 0;
  bool sampled = true;
  [[nodiscard]] bool valid() const { return trace_id.valid() && span_id != 0; }
};

// "00-<32 hex trace id>-<16 hex span id>-<2 hex flags>" (W3C Trace Context, version 00; later
// versions are read by the same rule, ignoring what follows the flags). nullopt for anything
// malformed, an all-zero id, or version ff.
[[nodiscard]] std::optional<TraceContext> ParseTraceparent(std::string_view header);
[[nodiscard]] std::string FormatTraceparent(const TraceContext& context);
[[nodiscard]] std::string Hex(const TraceId& id);  // 32 lowercase hex digits
[[nodiscard]] std::string Hex(SpanId id);          // 16 lowercase hex digits

// Fresh random ids (never zero) from `rng`, or from a per-thread generator.
[[nodiscard]] TraceId NewTraceId(std::mt19937_64& rng);
[[nodiscard]] SpanId NewSpanId(std::mt19937_64& rng);
[[nodiscard]] TraceId NewTraceId();
[[nodiscard]] SpanId NewSpanId();

enum class SpanKind { kInternal = 1, kServer = 2, kClient = 3 };

struct SpanAttribute {
  std::string key;
  std::variant<std::string, int64_t, bool, double> value;
};

struct Span {
  TraceId trace_id;
  SpanId span_id = 0;
  SpanId parent_span_id = 0;  // 0 for a root span
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  int64_t start_unix_ns = 0;
  int64_t end_unix_ns = 0;
  bool error = false;  // status ERROR (else UNSET)
  std::string status_message;
  std::vector<SpanAttribute> attributes;

  void Set(std::string key, std::string value) {
    attributes.push_back({std::move(key), std::move(value)});
  }
  void Set(std::string key, const char* value) { Set(std::move(key), std::string(value)); }
  void Set(std::string key, int64_t value) { attributes.push_back({std::move(key), value}); }
  void Set(std::string key, int value) { Set(std::move(key), static_cast<int64_t>(value)); }
  void Set(std::string key, bool value) { attributes.push_back({std::move(key), value}); }
  // The attribute named `key`, or nullptr.
  [[nodiscard]] const SpanAttribute* Find(std::string_view key) const;
};

// {"resourceSpans":[{"resource":{"attributes":[service.name, ...]},"scopeSpans":[{"scope":
// {"name":"modelmux"},"spans":[...]}]}]}: ids in hex, times and integers as decimal strings (the
// protobuf JSON mapping of 64-bit fields), kind as its enum number.
[[nodiscard]] std::string EncodeOtlpJson(const std::vector<Span>& spans,
                                         std::string_view service_name,
                                         std::string_view service_version = {});

}  // namespace modelmux::telemetry
