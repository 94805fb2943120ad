#pragma once
// Internal to the Anthropic dialect (not a public header): Boost.JSON helpers and the value maps
// (stop reasons, usage) shared by the request, response and stream translators.

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/chat.hpp"
#include "core/usage.hpp"

namespace modelmux::dialects::anthropic::detail {

namespace json = boost::json;

// String member, or "" when absent or not a string.
[[nodiscard]] std::string Str(const json::object& o, std::string_view key);
// Integer value of v when it is an int64/uint64 that fits int64.
[[nodiscard]] std::optional<int64_t> AsInt(const json::value& v);
// Number value of v when it is any JSON number.
[[nodiscard]] std::optional<double> AsNumber(const json::value& v);
// Parses `text` as JSON; nullopt on a syntax error.
[[nodiscard]] std::optional<json::value> Parse(std::string_view text);

// Anthropic's four usage counters as sent (input_tokens excludes the cache).
struct WireUsage {
  int64_t input = 0;
  int64_t output = 0;
  int64_t cache_read = 0;
  int64_t cache_creation = 0;
  bool seen = false;

  // Overwrites the counters present in `usage` (stream usage is cumulative: take, don't add).
  void Take(const json::object& usage);
  // prompt = input + cache_read + cache_creation; completion = output.
  [[nodiscard]] Usage ToUsage() const;
};

// {input_tokens (excluding cache), output_tokens, cache_read_input_tokens,
// cache_creation_input_tokens} from a neutral Usage.
[[nodiscard]] json::object UsageToJson(const Usage& u);

// end_turn/stop_sequence -> kStop, max_tokens/model_context_window_exceeded -> kLength,
// tool_use -> kToolCalls, refusal -> kContentFilter, pause_turn and anything else -> kOther,
// "" -> kNone.
[[nodiscard]] FinishReason ParseStopReason(std::string_view raw);
// The Anthropic stop_reason for a neutral finish reason: `raw` itself when it is an Anthropic
// value that maps back to `reason`, else end_turn/max_tokens/tool_use/refusal (kNone, kError and
// kOther give end_turn).
[[nodiscard]] std::string StopReasonFor(FinishReason reason, std::string_view raw);

// Splits "data:<media type>;base64,<data>"; nullopt when `url` is not a base64 data URL.
[[nodiscard]] std::optional<std::pair<std::string, std::string>> SplitDataUrl(std::string_view url);

}  // namespace modelmux::dialects::anthropic::detail
