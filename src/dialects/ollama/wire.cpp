#include "dialects/ollama/wire.hpp"

#include <cmath>
#include <ctime>

namespace modelmux::dialects::ollama::detail {
namespace {

// The integer in s[pos, pos + n) or -1.
int Digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

}  // namespace

std::string Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::optional<int64_t> AsInt(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v.get_uint64());
  }
  if (v.is_double() && std::isfinite(v.get_double()) &&
      std::floor(v.get_double()) == v.get_double() && std::fabs(v.get_double()) < 9e18) {
    return static_cast<int64_t>(v.get_double());
  }
  return std::nullopt;
}

std::optional<json::value> Parse(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return std::nullopt;
  return v;
}

const json::object* Obj(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

bool IsTrue(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_bool() && v->get_bool();
}

int64_t ParseCreatedAt(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':') {
    return 0;
  }
  std::tm tm{};
  const int year = Digits(s, 0, 4), month = Digits(s, 5, 2), day = Digits(s, 8, 2);
  const int hour = Digits(s, 11, 2), minute = Digits(s, 14, 2), second = Digits(s, 17, 2);
  if (year < 0 || month < 1 || day < 1 || hour < 0 || minute < 0 || second < 0) return 0;
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  int64_t t = static_cast<int64_t>(timegm(&tm));
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
  }
  if (pos + 6 == s.size() && (s[pos] == '+' || s[pos] == '-') && s[pos + 3] == ':') {
    const int oh = Digits(s, pos + 1, 2), om = Digits(s, pos + 4, 2);
    if (oh >= 0 && om >= 0) {
      const int64_t offset = oh * 3600 + om * 60;
      t += s[pos] == '+' ? -offset : offset;
    }
  }
  return t;
}

std::string IdFromCreatedAt(std::string_view created_at) {
  if (created_at.empty()) return {};
  std::string id = "ollama-";
  for (char c : created_at) {
    if (c >= '0' && c <= '9') id += c;
  }
  return id;
}

std::optional<Usage> UsageOf(const json::object& o) {
  const json::value* p = o.if_contains("prompt_eval_count");
  const json::value* c = o.if_contains("eval_count");
  if (p == nullptr && c == nullptr) return std::nullopt;
  Usage u;
  if (p != nullptr) u.prompt_tokens = AsInt(*p).value_or(0);
  if (c != nullptr) u.completion_tokens = AsInt(*c).value_or(0);
  return u;
}

FinishReason ParseFinishReason(std::string_view raw, bool called_tools) {
  if (raw == "length") return FinishReason::kLength;
  if (raw == "stop" || raw.empty()) {
    return called_tools ? FinishReason::kToolCalls : FinishReason::kStop;
  }
  return FinishReason::kOther;
}

std::vector<ToolCall> ToolCallsOf(const json::object& message, size_t first_index) {
  std::vector<ToolCall> out;
  const json::value* calls = message.if_contains("tool_calls");
  if (calls == nullptr || !calls->is_array()) return out;
  for (const json::value& c : calls->get_array()) {
    if (!c.is_object()) continue;
    ToolCall call;
    call.id = Str(c.get_object(), "id");
    if (call.id.empty()) call.id = "call_" + std::to_string(first_index + out.size());
    if (const json::object* f = Obj(c.get_object(), "function")) {
      call.name = Str(*f, "name");
      if (const json::value* a = f->if_contains("arguments")) {
        call.arguments = a->is_string() ? std::string(a->get_string()) : json::serialize(*a);
      }
    }
    if (call.arguments.empty()) call.arguments = "{}";
    out.push_back(std::move(call));
  }
  return out;
}

}  // namespace modelmux::dialects::ollama::detail
