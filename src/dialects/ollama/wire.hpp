#pragma once
// Internal to the Ollama dialect (not a public header): Boost.JSON helpers and the value maps
// shared by the request, response and stream translators.

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/chat.hpp"
#include "core/usage.hpp"

namespace modelmux::dialects::ollama::detail {

namespace json = boost::json;

[[nodiscard]] std::string Str(const json::object& o, std::string_view key);
[[nodiscard]] std::optional<int64_t> AsInt(const json::value& v);
[[nodiscard]] std::optional<json::value> Parse(std::string_view text);
[[nodiscard]] const json::object* Obj(const json::object& o, std::string_view key);
[[nodiscard]] bool IsTrue(const json::object& o, std::string_view key);

// Unix seconds of an RFC 3339 time such as "2023-08-04T19:22:45.499127Z" or
// "2024-01-01T08:00:00.5+08:00"; 0 when it cannot be read.
[[nodiscard]] int64_t ParseCreatedAt(std::string_view text);
// A response id from created_at: "ollama-" + its digits (Ollama's answers carry no id; the
// timestamp has nanosecond precision, so ids differ between answers); "" for an empty time.
[[nodiscard]] std::string IdFromCreatedAt(std::string_view created_at);

// {prompt_eval_count, eval_count} of a done:true object; nullopt when neither is present.
[[nodiscard]] std::optional<Usage> UsageOf(const json::object& o);

// done_reason: stop -> kStop (kToolCalls when the answer called tools), length -> kLength,
// "" -> kStop, anything else (load, unload) -> kOther.
[[nodiscard]] FinishReason ParseFinishReason(std::string_view raw, bool called_tools);

// message.tool_calls [{id?, function: {name, arguments (object)}}] -> ToolCalls with arguments
// as JSON text and id = the call's own id, else "call_<first_index + i>".
[[nodiscard]] std::vector<ToolCall> ToolCallsOf(const json::object& message, size_t first_index);

}  // namespace modelmux::dialects::ollama::detail
