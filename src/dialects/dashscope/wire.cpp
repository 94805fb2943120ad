#include "dialects/dashscope/wire.hpp"

#include <cmath>

namespace modelmux::dialects::dashscope::detail {

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
  return v != nullptr ? v->if_object() : nullptr;
}

namespace {

int64_t IntAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr ? AsInt(*v).value_or(0) : 0;
}

}  // namespace

std::optional<Usage> UsageOf(const json::object& o) {
  const json::object* u = Obj(o, "usage");
  if (u == nullptr) return std::nullopt;
  Usage usage;
  usage.prompt_tokens = IntAt(*u, "input_tokens");
  usage.completion_tokens = IntAt(*u, "output_tokens");
  if (const json::object* d = Obj(*u, "prompt_tokens_details")) {
    usage.cache_read_tokens = IntAt(*d, "cached_tokens");
  }
  if (const json::object* d = Obj(*u, "output_tokens_details")) {
    usage.reasoning_tokens = IntAt(*d, "reasoning_tokens");
  }
  return usage;
}

FinishReason ParseFinishReason(std::string_view raw) {
  if (raw.empty() || raw == "null") return FinishReason::kNone;
  if (raw == "stop") return FinishReason::kStop;
  if (raw == "length") return FinishReason::kLength;
  if (raw == "tool_calls") return FinishReason::kToolCalls;
  if (raw == "content_filter" || raw == "sensitive") return FinishReason::kContentFilter;
  return FinishReason::kOther;
}

std::string RawFinishReason(const json::object& choice) {
  std::string raw = Str(choice, "finish_reason");
  return raw == "null" ? std::string() : raw;
}

std::string ContentText(const json::value* content) {
  if (content == nullptr) return {};
  if (content->is_string()) return std::string(content->get_string());
  std::string text;
  if (const json::array* parts = content->if_array()) {
    for (const json::value& p : *parts) {
      if (const json::object* po = p.if_object()) text += Str(*po, "text");
    }
  }
  return text;
}

}  // namespace modelmux::dialects::dashscope::detail
