#include "dialects/hunyuan/wire.hpp"

#include <cmath>

namespace modelmux::dialects::hunyuan::detail {

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

std::optional<Usage> UsageOf(const json::object& o) {
  const json::object* u = Obj(o, "Usage");
  if (u == nullptr) return std::nullopt;
  Usage usage;
  if (const json::value* p = u->if_contains("PromptTokens")) {
    usage.prompt_tokens = AsInt(*p).value_or(0);
  }
  if (const json::value* c = u->if_contains("CompletionTokens")) {
    usage.completion_tokens = AsInt(*c).value_or(0);
  }
  return usage;
}

FinishReason ParseFinishReason(std::string_view raw) {
  if (raw == "stop") return FinishReason::kStop;
  if (raw == "length") return FinishReason::kLength;
  if (raw == "sensitive") return FinishReason::kContentFilter;
  if (raw == "tool_calls") return FinishReason::kToolCalls;
  if (raw.empty()) return FinishReason::kNone;
  return FinishReason::kOther;
}

}  // namespace modelmux::dialects::hunyuan::detail
