#include "telemetry/trace.hpp"

#include <cstdio>

#include "core/json_escape.hpp"

namespace modelmux::telemetry {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

void AppendHex(std::string& out, uint64_t v) {
  for (int i = 15; i >= 0; --i) out += kHexDigits[(v >> (i * 4)) & 15];
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // W3C: lowercase only
}

// Reads exactly `n` (<= 16) lowercase hex digits.
std::optional<uint64_t> ReadHex(std::string_view s, size_t n) {
  if (s.size() < n) return std::nullopt;
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    const int d = HexValue(s[i]);
    if (d < 0) return std::nullopt;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return v;
}

void AppendString(std::string& out, std::string_view s) {
  out += '"';
  AppendJsonEscaped(out, s);
  out += '"';
}

void AppendAttribute(std::string& out, const SpanAttribute& a) {
  out += "{\"key\":";
  AppendString(out, a.key);
  out += ",\"value\":{";
  if (const auto* s = std::get_if<std::string>(&a.value)) {
    out += "\"stringValue\":";
    AppendString(out, *s);
  } else if (const auto* i = std::get_if<int64_t>(&a.value)) {
    out += "\"intValue\":\"" + std::to_string(*i) + "\"";
  } else if (const auto* b = std::get_if<bool>(&a.value)) {
    out += std::string("\"boolValue\":") + (*b ? "true" : "false");
  } else {
    char buf[40];
    snprintf(buf, sizeof(buf), "%.17g", std::get<double>(a.value));
    out += std::string("\"doubleValue\":") + buf;
  }
  out += "}}";
}

}  // namespace

std::optional<TraceContext> ParseTraceparent(std::string_view h) {
  // version "-" trace-id "-" parent-id "-" flags
  if (h.size() < 55 || h[2] != '-' || h[35] != '-' || h[52] != '-') return std::nullopt;
  auto version = ReadHex(h, 2);
  if (!version || *version == 0xff) return std::nullopt;
  if (*version == 0 && h.size() != 55) return std::nullopt;
  if (*version != 0 && h.size() > 55 && h[55] != '-') return std::nullopt;
  TraceContext c;
  auto hi = ReadHex(h.substr(3), 16);
  auto lo = ReadHex(h.substr(19), 16);
  auto span = ReadHex(h.substr(36), 16);
  auto flags = ReadHex(h.substr(53), 2);
  if (!hi || !lo || !span || !flags) return std::nullopt;
  c.trace_id = {*hi, *lo};
  c.span_id = *span;
  c.sampled = (*flags & 1) != 0;
  if (!c.valid()) return std::nullopt;
  return c;
}

std::string FormatTraceparent(const TraceContext& c) {
  std::string out = "00-";
  out.reserve(55);
  AppendHex(out, c.trace_id.hi);
  AppendHex(out, c.trace_id.lo);
  out += '-';
  AppendHex(out, c.span_id);
  out += c.sampled ? "-01" : "-00";
  return out;
}

std::string Hex(const TraceId& id) {
  std::string out;
  out.reserve(32);
  AppendHex(out, id.hi);
  AppendHex(out, id.lo);
  return out;
}

std::string Hex(SpanId id) {
  std::string out;
  out.reserve(16);
  AppendHex(out, id);
  return out;
}

TraceId NewTraceId(std::mt19937_64& rng) {
  TraceId id;
  while (!id.valid()) id = {rng(), rng()};
  return id;
}

SpanId NewSpanId(std::mt19937_64& rng) {
  SpanId id = 0;
  while (id == 0) id = rng();
  return id;
}

namespace {
std::mt19937_64& ThreadRng() {
  thread_local std::mt19937_64 rng{(static_cast<uint64_t>(std::random_device{}()) << 32) ^
                                   std::random_device{}()};
  return rng;
}
}  // namespace

TraceId NewTraceId() {
  return NewTraceId(ThreadRng());
}

SpanId NewSpanId() {
  return NewSpanId(ThreadRng());
}

const SpanAttribute* Span::Find(std::string_view key) const {
  for (const auto& a : attributes) {
    if (a.key == key) return &a;
  }
  return nullptr;
}

std::string EncodeOtlpJson(const std::vector<Span>& spans, std::string_view service_name,
                           std::string_view service_version) {
  std::string out;
  out.reserve(256 + spans.size() * 512);
  out += R"({"resourceSpans":[{"resource":{"attributes":[)";
  AppendAttribute(out, {"service.name", std::string(service_name)});
  if (!service_version.empty()) {
    out += ',';
    AppendAttribute(out, {"service.version", std::string(service_version)});
  }
  out += R"(]},"scopeSpans":[{"scope":{"name":"modelmux"},"spans":[)";
  bool first = true;
  for (const Span& s : spans) {
    if (!first) out += ',';
    first = false;
    out += "{\"traceId\":\"" + Hex(s.trace_id) + "\",\"spanId\":\"" + Hex(s.span_id) + "\"";
    if (s.parent_span_id != 0) out += ",\"parentSpanId\":\"" + Hex(s.parent_span_id) + "\"";
    out += ",\"name\":";
    AppendString(out, s.name);
    out += ",\"kind\":" + std::to_string(static_cast<int>(s.kind));
    out += ",\"startTimeUnixNano\":\"" + std::to_string(s.start_unix_ns) + "\"";
    out += ",\"endTimeUnixNano\":\"" + std::to_string(s.end_unix_ns) + "\"";
    out += ",\"attributes\":[";
    for (size_t i = 0; i < s.attributes.size(); ++i) {
      if (i > 0) out += ',';
      AppendAttribute(out, s.attributes[i]);
    }
    out += "]";
    if (s.error) {
      out += ",\"status\":{\"code\":2";
      if (!s.status_message.empty()) {
        out += ",\"message\":";
        AppendString(out, s.status_message);
      }
      out += "}";
    }
    out += "}";
  }
  out += "]}]}]}";
  return out;
}

}  // namespace modelmux::telemetry
