#include "dialects/gemini/wire.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace modelmux::dialects::gemini::detail {

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
  u.prompt_tokens = count("promptTokenCount") + count("toolUsePromptTokenCount");
  u.reasoning_tokens = count("thoughtsTokenCount");
  u.completion_tokens = count("candidatesTokenCount") + u.reasoning_tokens;
  u.cache_read_tokens = count("cachedContentTokenCount");
  return u;
}

FinishReason ParseFinishReason(std::string_view raw, bool called_functions) {
  if (raw.empty() || raw == "FINISH_REASON_UNSPECIFIED") return FinishReason::kNone;
  if (raw == "STOP") return called_functions ? FinishReason::kToolCalls : FinishReason::kStop;
  if (raw == "MAX_TOKENS") return FinishReason::kLength;
  static constexpr std::string_view kFiltered[] = {"SAFETY",
                                                   "RECITATION",
                                                   "BLOCKLIST",
                                                   "PROHIBITED_CONTENT",
                                                   "SPII",
                                                   "IMAGE_SAFETY",
                                                   "IMAGE_PROHIBITED_CONTENT"};
  if (std::find(std::begin(kFiltered), std::end(kFiltered), raw) != std::end(kFiltered)) {
    return FinishReason::kContentFilter;
  }
  if (raw == "MALFORMED_FUNCTION_CALL" || raw == "UNEXPECTED_TOOL_CALL") {
    return FinishReason::kError;
  }
  return FinishReason::kOther;
}

std::string ToolCallId(std::string_view provider_id, std::string_view name,
                       std::string_view arguments, int order, std::string_view thought_signature) {
  std::string id;
  if (!provider_id.empty()) {
    id = provider_id;
  } else {
    uint64_t h = 14695981039346656037ULL;  // FNV-1a
    auto mix = [&h](std::string_view bytes) {
      for (unsigned char c : bytes) {
        h ^= c;
        h *= 1099511628211ULL;
      }
    };
    mix(name);
    mix(std::string_view("\0", 1));
    mix(arguments);
    char buf[48];
    std::snprintf(buf, sizeof(buf), "call_%012llx_%d",
                  static_cast<unsigned long long>(h & 0xFFFFFFFFFFFFULL), order);
    id = buf;
  }
  if (!thought_signature.empty()) {
    id += kSignatureMark;
    id += thought_signature;
  }
  return id;
}

std::pair<std::string, std::string> SplitToolCallId(std::string_view id) {
  const size_t at = id.find(kSignatureMark);
  if (at == std::string_view::npos) return {std::string(id), std::string()};
  return {std::string(id.substr(0, at)), std::string(id.substr(at + kSignatureMark.size()))};
}

std::string ArgsText(const json::object& function_call) {
  const json::value* args = function_call.if_contains("args");
  if (args == nullptr || args->is_null()) return "{}";
  return json::serialize(*args);
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

std::string GuessMimeType(std::string_view url) {
  url = url.substr(0, std::min(url.find_first_of("?#"), url.size()));
  const size_t dot = url.rfind('.');
  const size_t slash = url.rfind('/');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) return {};
  std::string ext(url.substr(dot + 1));
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {"png", "image/png"},   {"jpg", "image/jpeg"},      {"jpeg", "image/jpeg"},
      {"webp", "image/webp"}, {"heic", "image/heic"},     {"heif", "image/heif"},
      {"gif", "image/gif"},   {"mp4", "video/mp4"},       {"mpeg", "video/mpeg"},
      {"mpg", "video/mpg"},   {"mov", "video/mov"},       {"avi", "video/avi"},
      {"flv", "video/x-flv"}, {"webm", "video/webm"},     {"wmv", "video/wmv"},
      {"3gp", "video/3gpp"},  {"wav", "audio/wav"},       {"mp3", "audio/mp3"},
      {"aiff", "audio/aiff"}, {"aac", "audio/aac"},       {"ogg", "audio/ogg"},
      {"flac", "audio/flac"}, {"pdf", "application/pdf"}, {"txt", "text/plain"},
  };
  for (const auto& [e, type] : kTypes) {
    if (ext == e) return std::string(type);
  }
  return {};
}

}  // namespace modelmux::dialects::gemini::detail
