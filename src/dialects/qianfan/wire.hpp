#pragma once
// Internal to the Qianfan dialect (not a public header): Boost.JSON helpers and the value maps
// (finish reasons, usage) shared by the request, response and stream translators.

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "core/chat.hpp"
#include "core/usage.hpp"

namespace modelmux::dialects::qianfan::detail {

namespace json = boost::json;

// String member, or "" when absent or not a string.
[[nodiscard]] std::string Str(const json::object& o, std::string_view key);
// Integer value of v when it is an int64/uint64 that fits int64 (or an integral double).
[[nodiscard]] std::optional<int64_t> AsInt(const json::value& v);
// Parses `text` as JSON; nullopt on a syntax error.
[[nodiscard]] std::optional<json::value> Parse(std::string_view text);
// True when o[key] is the boolean true.
[[nodiscard]] bool IsTrue(const json::object& o, std::string_view key);

// {prompt_tokens, completion_tokens} (total_tokens ignored); nullopt when absent.
[[nodiscard]] std::optional<Usage> UsageOf(const json::object& o);

// normal/stop -> kStop, length -> kLength, content_filter -> kContentFilter, function_call ->
// kToolCalls, "" -> kNone (kLength when `is_truncated`), anything else -> kOther.
[[nodiscard]] FinishReason ParseFinishReason(std::string_view raw, bool is_truncated);

}  // namespace modelmux::dialects::qianfan::detail
