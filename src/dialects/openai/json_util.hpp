#pragma once
// Internal to the OpenAI dialect (not a public header): Boost.JSON helpers shared by the full
// decoder (request.cpp) and the fast-path scanner (fast_path.cpp), so both reject the same inputs
// with the same errors.

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/usage.hpp"

namespace modelmux::dialects::openai::detail {

namespace json = boost::json;

// "We could not parse the JSON body of your request." (OpenAI's wording).
[[nodiscard]] Error ParseBodyError();
// "Invalid type for 'param': expected X, but got Y instead." with code invalid_type.
[[nodiscard]] Error InvalidType(std::string param, std::string_view expected,
                                const json::value& got);
[[nodiscard]] Error MissingParam(std::string param);
// JSON kind name as OpenAI words it: "a string", "an array", ...
[[nodiscard]] std::string_view DescribeKind(const json::value& v);

// Checks the top-level fields both the decoder and the scanner look at: the body is an object,
// `model` (string), `messages` (non-empty array), `stream` (bool), `temperature` (number 0..2),
// `top_p` (number 0..1), `max_tokens` / `max_completion_tokens` (positive integer), `n`
// (integer 1..128). Returns the first error found, in that order.
[[nodiscard]] std::optional<Error> CheckTopLevel(const json::value& body);

// Integer value of v when it is an int64/uint64 that fits int64.
[[nodiscard]] std::optional<int64_t> AsInt(const json::value& v);
// Number value of v when it is any JSON number.
[[nodiscard]] std::optional<double> AsNumber(const json::value& v);

// Usage from an OpenAI-style usage object; nullopt when `v` is null/absent or not an object.
// Normalises DeepSeek (prompt_cache_hit_tokens) and Moonshot (usage.cached_tokens).
[[nodiscard]] std::optional<Usage> UsageFromJson(const json::value* v);
// Usage of a response body or chunk: top-level `usage`, else Moonshot's `choices[0].usage`.
[[nodiscard]] std::optional<Usage> UsageFromBody(const json::object& body);

// Usage as OpenAI writes it (with total and the details objects).
[[nodiscard]] json::object UsageToJson(const Usage& u);

// Serialises a value compactly.
[[nodiscard]] std::string ToText(const json::value& v);

}  // namespace modelmux::dialects::openai::detail
