#pragma once
// Internal to the Gemini dialect (not a public header): Boost.JSON helpers and the value maps
// (finish reasons, usage, tool-call ids) shared by the request, response and stream translators.

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/chat.hpp"
#include "core/usage.hpp"

namespace modelmux::dialects::gemini::detail {

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

// usageMetadata -> Usage: prompt = promptTokenCount (cached included) + toolUsePromptTokenCount;
// completion = candidatesTokenCount + thoughtsTokenCount; cache_read = cachedContentTokenCount;
// reasoning = thoughtsTokenCount. Absent counters are 0.
[[nodiscard]] Usage UsageFrom(const json::object& usage_metadata);

// STOP -> kStop; MAX_TOKENS -> kLength; SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII,
// IMAGE_SAFETY, IMAGE_PROHIBITED_CONTENT -> kContentFilter; MALFORMED_FUNCTION_CALL,
// UNEXPECTED_TOOL_CALL -> kError; "" and FINISH_REASON_UNSPECIFIED -> kNone; anything else
// (OTHER, LANGUAGE, values added later) -> kOther. A STOP of a candidate that called functions is
// kToolCalls (Gemini says STOP there; callers expect tool_calls).
[[nodiscard]] FinishReason ParseFinishReason(std::string_view raw, bool called_functions);

// Gemini's functionCall has no id before some API versions, and carries a thoughtSignature that
// must come back with the call on the next turn. The neutral id is the provider's id when given,
// else "call_<12 hex of a hash of name and arguments>_<order>" (the same for a whole and a
// streamed answer); a signature is appended after kSignatureMark so callers return it to us
// through the tool_call_id they echo.
inline constexpr std::string_view kSignatureMark = "__thought__";
[[nodiscard]] std::string ToolCallId(std::string_view provider_id, std::string_view name,
                                     std::string_view arguments, int order,
                                     std::string_view thought_signature);
// The inverse: {id without the signature, signature or ""}.
[[nodiscard]] std::pair<std::string, std::string> SplitToolCallId(std::string_view id);

// A functionCall part's `args` as JSON text ("{}" when absent).
[[nodiscard]] std::string ArgsText(const json::object& function_call);

// Splits "data:<media type>;base64,<data>"; nullopt when `url` is not a base64 data URL.
[[nodiscard]] std::optional<std::pair<std::string, std::string>> SplitDataUrl(std::string_view url);
// A MIME type guessed from a URL's file extension ("" when unknown).
[[nodiscard]] std::string GuessMimeType(std::string_view url);

}  // namespace modelmux::dialects::gemini::detail
