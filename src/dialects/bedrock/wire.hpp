#pragma once
// Internal to the Bedrock dialect (not a public header): Boost.JSON helpers and the value maps
// (stop reasons, usage, image formats) shared by the request, response and stream translators.

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/chat.hpp"
#include "core/usage.hpp"

namespace modelmux::dialects::bedrock::detail {

namespace json = boost::json;

// String member, or "" when absent or not a string.
[[nodiscard]] std::string Str(const json::object& o, std::string_view key);
// Integer value of v when it is an int64/uint64 that fits int64.
[[nodiscard]] std::optional<int64_t> AsInt(const json::value& v);
// Member `key` of `o` when it is an object / array, else nullptr.
[[nodiscard]] const json::object* ObjectOf(const json::object& o, std::string_view key);
[[nodiscard]] const json::array* ArrayOf(const json::object& o, std::string_view key);
// Parses `text` as JSON; nullopt on a syntax error.
[[nodiscard]] std::optional<json::value> Parse(std::string_view text);

// Converse `usage` -> Usage: prompt = inputTokens + cacheReadInputTokens +
// cacheWriteInputTokens (Bedrock counts cached tokens apart, as Anthropic does; the neutral
// prompt count includes them); completion = outputTokens; cache_read / cache_write as given.
[[nodiscard]] Usage UsageFrom(const json::object& usage);

// end_turn, stop_sequence -> kStop; max_tokens, model_context_window_exceeded -> kLength;
// tool_use -> kToolCalls; guardrail_intervened, content_filtered -> kContentFilter; "" -> kNone;
// anything else -> kOther.
[[nodiscard]] FinishReason ParseStopReason(std::string_view raw);

// Splits "data:<media type>;base64,<data>"; nullopt when `url` is not a base64 data URL.
[[nodiscard]] std::optional<std::pair<std::string, std::string>> SplitDataUrl(std::string_view url);
// Converse image format for a MIME type: image/png -> png, image/jpeg|jpg -> jpeg, image/gif ->
// gif, image/webp -> webp; "" for anything else.
[[nodiscard]] std::string ImageFormat(std::string_view mime_type);

}  // namespace modelmux::dialects::bedrock::detail
