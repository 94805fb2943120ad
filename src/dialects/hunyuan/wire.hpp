#pragma once
// Internal to the Hunyuan dialect (not a public header): Boost.JSON helpers and the value maps
// shared by the request, response and stream translators.

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "core/chat.hpp"
#include "core/usage.hpp"

namespace modelmux::dialects::hunyuan::detail {

namespace json = boost::json;

// String member, or "" when absent or not a string.
[[nodiscard]] std::string Str(const json::object& o, std::string_view key);
// Integer value of v (int64, uint64 that fits, or an integral double).
[[nodiscard]] std::optional<int64_t> AsInt(const json::value& v);
// Parses `text` as JSON; nullopt on a syntax error.
[[nodiscard]] std::optional<json::value> Parse(std::string_view text);
// The object o[key], or nullptr.
[[nodiscard]] const json::object* Obj(const json::object& o, std::string_view key);

// Usage {PromptTokens, CompletionTokens} of o["Usage"] (TotalTokens ignored); nullopt when absent.
[[nodiscard]] std::optional<Usage> UsageOf(const json::object& o);

// stop -> kStop, length -> kLength, sensitive -> kContentFilter, tool_calls -> kToolCalls,
// "" -> kNone, anything else -> kOther.
[[nodiscard]] FinishReason ParseFinishReason(std::string_view raw);

}  // namespace modelmux::dialects::hunyuan::detail
