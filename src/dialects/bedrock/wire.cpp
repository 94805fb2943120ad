#include "dialects/bedrock/wire.hpp"

namespace modelmux::dialects::bedrock::detail {

std::string Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::optional<int64_t> AsInt(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v.get_uint64());
  }
  return std::nullopt;
}

const json::object* ObjectOf(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

const json::array* ArrayOf(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_array() ? &v->get_array() : nullptr;
}

std::optional<json::value> Parse(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return std::nullopt;
  return v;
}

Usage UsageFrom(const json::object& m) {
  auto count = [&m](std::string_view key) -> int64_t {
    const json::value* v = m.if_contains(key);
    return v == nullptr ? 0 : AsInt(*v).value_or(0);
  };
  Usage u;
  u.cache_read_tokens = count("cacheReadInputTokens");
  u.cache_write_tokens = count("cacheWriteInputTokens");
  u.prompt_tokens = count("inputTokens") + u.cache_read_tokens + u.cache_write_tokens;
  u.completion_tokens = count("outputTokens");
  return u;
}

FinishReason ParseStopReason(std::string_view raw) {
  if (raw.empty()) return FinishReason::kNone;
  if (raw == "end_turn" || raw == "stop_sequence") return FinishReason::kStop;
  if (raw == "max_tokens" || raw == "model_context_window_exceeded") return FinishReason::kLength;
  if (raw == "tool_use") return FinishReason::kToolCalls;
  if (raw == "guardrail_intervened" || raw == "content_filtered") {
    return FinishReason::kContentFilter;
  }
  return FinishReason::kOther;
}

std::optional<std::pair<std::string, std::string>> SplitDataUrl(std::string_view url) {
  constexpr std::string_view kPrefix = "data:";
  constexpr std::string_view kBase64 = ";base64,";
  if (url.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  const size_t at = url.find(kBase64);
  if (at == std::string_view::npos) return std::nullopt;
  std::string media(url.substr(kPrefix.size(), at - kPrefix.size()));
  if (const size_t semi = media.find(';'); semi != std::string::npos) media.resize(semi);
  return std::make_pair(std::move(media), std::string(url.substr(at + kBase64.size())));
}

std::string ImageFormat(std::string_view mime_type) {
  if (mime_type == "image/png") return "png";
  if (mime_type == "image/jpeg" || mime_type == "image/jpg") return "jpeg";
  if (mime_type == "image/gif") return "gif";
  if (mime_type == "image/webp") return "webp";
  return {};
}

}  // namespace modelmux::dialects::bedrock::detail
