#include "dialects/anthropic/wire.hpp"

#include <algorithm>

namespace modelmux::dialects::anthropic::detail {

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

std::optional<double> AsNumber(const json::value& v) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return std::nullopt;
}

std::optional<json::value> Parse(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return std::nullopt;
  return v;
}

void WireUsage::Take(const json::object& usage) {
  auto take = [&usage](std::string_view key, int64_t& field) {
    const json::value* v = usage.if_contains(key);
    if (v == nullptr) return;
    if (auto n = AsInt(*v)) field = *n;
  };
  take("input_tokens", input);
  take("output_tokens", output);
  take("cache_read_input_tokens", cache_read);
  take("cache_creation_input_tokens", cache_creation);
  seen = true;
}

Usage WireUsage::ToUsage() const {
  Usage u;
  u.prompt_tokens = input + cache_read + cache_creation;
  u.completion_tokens = output;
  u.cache_read_tokens = cache_read;
  u.cache_write_tokens = cache_creation;
  return u;
}

json::object UsageToJson(const Usage& u) {
  const int64_t input =
      std::max<int64_t>(0, u.prompt_tokens - u.cache_read_tokens - u.cache_write_tokens);
  return json::object{{"input_tokens", input},
                      {"cache_creation_input_tokens", u.cache_write_tokens},
                      {"cache_read_input_tokens", u.cache_read_tokens},
                      {"output_tokens", u.completion_tokens}};
}

FinishReason ParseStopReason(std::string_view raw) {
  if (raw.empty()) return FinishReason::kNone;
  if (raw == "end_turn" || raw == "stop_sequence") return FinishReason::kStop;
  if (raw == "max_tokens" || raw == "model_context_window_exceeded") return FinishReason::kLength;
  if (raw == "tool_use") return FinishReason::kToolCalls;
  if (raw == "refusal") return FinishReason::kContentFilter;
  return FinishReason::kOther;  // pause_turn and values added later
}

std::string StopReasonFor(FinishReason reason, std::string_view raw) {
  static constexpr std::string_view kKnown[] = {"end_turn",
                                                "stop_sequence",
                                                "max_tokens",
                                                "tool_use",
                                                "refusal",
                                                "pause_turn",
                                                "model_context_window_exceeded"};
  const bool known = std::find(std::begin(kKnown), std::end(kKnown), raw) != std::end(kKnown);
  if (known && ParseStopReason(raw) == reason) return std::string(raw);
  switch (reason) {
    case FinishReason::kLength:
      return "max_tokens";
    case FinishReason::kToolCalls:
      return "tool_use";
    case FinishReason::kContentFilter:
      return "refusal";
    case FinishReason::kNone:
    case FinishReason::kStop:
    case FinishReason::kError:
    case FinishReason::kOther:
      break;
  }
  return "end_turn";
}

std::optional<std::pair<std::string, std::string>> SplitDataUrl(std::string_view url) {
  constexpr std::string_view kPrefix = "data:";
  constexpr std::string_view kBase64 = ";base64,";
  if (url.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  const size_t at = url.find(kBase64);
  if (at == std::string_view::npos) return std::nullopt;
  std::string media(url.substr(kPrefix.size(), at - kPrefix.size()));
  // Parameters other than base64 (e.g. ";charset=...") are not part of the media type.
  if (const size_t semi = media.find(';'); semi != std::string::npos) media.resize(semi);
  return std::make_pair(std::move(media), std::string(url.substr(at + kBase64.size())));
}

}  // namespace modelmux::dialects::anthropic::detail
