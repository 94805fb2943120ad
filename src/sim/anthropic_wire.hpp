#pragma once
// Anthropic Messages wire bodies written by the simulator: messages, stream events, token counts
// and error bodies. Pure: ids come in through ResponseMeta, text and usage through ReplyPlan (the
// same plan the OpenAI side answers with, so both dialects say the same thing).

#include <cstdint>
#include <string>
#include <string_view>

#include "sim/request.hpp"
#include "sim/wire.hpp"

namespace modelmux::sim {

// {"type":"error","error":{"type":type,"message":message}}
[[nodiscard]] std::string AnthropicErrorJson(std::string_view type, std::string_view message);

// Anthropic's error type for an HTTP status: 400 invalid_request_error, 401 authentication_error,
// 402 billing_error, 403 permission_error, 404 not_found_error, 413 request_too_large, 429
// rate_limit_error, 529 overloaded_error, other 5xx api_error, other 4xx invalid_request_error.
[[nodiscard]] std::string_view AnthropicErrorType(int status);

// The error body a provider sends with `status`; the 404 message names `model`.
[[nodiscard]] std::string AnthropicStatusErrorJson(int status, std::string_view model);

// "stop" -> "end_turn", "length" -> "max_tokens", "tool_calls" -> "tool_use".
[[nodiscard]] std::string_view AnthropicStopReason(std::string_view finish_reason);

// "toolu_sim_<hex>": the tool call's id with the same hash as the OpenAI side's "call_sim_<hex>".
[[nodiscard]] std::string ToolUseId(const SimToolCall& call);

// {id, type:"message", role:"assistant", model, content:[text | tool_use], stop_reason,
//  stop_sequence:null, usage{input_tokens, output_tokens, cache_*: 0}}
[[nodiscard]] std::string AnthropicMessageJson(const ResponseMeta& meta, const ReplyPlan& plan);

// The events of a stream with their names: message_start, content_block_start, ping, one
// content_block_delta per piece (text_delta) or argument fragment (input_json_delta),
// content_block_stop, message_delta, message_stop. done_sentinel is false.
[[nodiscard]] StreamEvents AnthropicStreamEvents(const ResponseMeta& meta, const ReplyPlan& plan);

// The in-band error event's data: {"type":"error","error":{"type":"overloaded_error",...}}.
[[nodiscard]] std::string AnthropicMidStreamErrorJson();

// {"input_tokens": N}
[[nodiscard]] std::string CountTokensJson(int64_t input_tokens);

}  // namespace modelmux::sim
