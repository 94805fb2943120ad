#pragma once
// Internal to the DashScope dialect (not a public header): Boost.JSON helpers and the value maps
// (finish reasons, usage, message content) shared by the request, response and stream
// translators.

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "core/chat.hpp"
#include "core/usage.hpp"

namespace modelmux::dialects::dashscope::detail {

namespace json = boost::json;

// String member, or "" when absent or not a string.
[[nodiscard]] std::string Str(const json::object& o, std::string_view key);
// Integer value of v when it is an int64/uint64 that fits int64 (or an integral double).
[[nodiscard]] std::optional<int64_t> AsInt(const json::value& v);
// Parses `text` as JSON; nullopt on a syntax error.
[[nodiscard]] std::optional<json::value> Parse(std::string_view text);
// The object member `key`, or nullptr when absent or not an object.
[[nodiscard]] const json::object* Obj(const json::object& o, std::string_view key);

// usage {input_tokens, output_tokens, prompt_tokens_details.cached_tokens,
// output_tokens_details.reasoning_tokens} of `o` (a response or stream event); nullopt when
// absent. total_tokens is ignored.
[[nodiscard]] std::optional<Usage> UsageOf(const json::object& o);

// "stop" -> kStop, "length" -> kLength, "tool_calls" -> kToolCalls, "content_filter" and
// "sensitive" -> kContentFilter, "" and "null" (DashScope's string before the end) -> kNone,
// anything else -> kOther.
[[nodiscard]] FinishReason ParseFinishReason(std::string_view raw);
// The raw finish reason of a choice: the string, or "" for JSON null / "null" / absent.
[[nodiscard]] std::string RawFinishReason(const json::object& choice);

// Message content as text: a string as it is; an array of parts ({text}, {image}, ...) gives
// the concatenation of its text parts (multimodal answers).
[[nodiscard]] std::string ContentText(const json::value* content);

}  // namespace modelmux::dialects::dashscope::detail
