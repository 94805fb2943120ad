#pragma once
// Anthropic Messages responses: wire JSON <-> neutral ChatResponse. Pure, thread-safe.

#include <string>
#include <string_view>

#include "core/chat.hpp"
#include "core/result.hpp"

namespace modelmux::dialects::anthropic {

// Decodes a non-streamed {type:"message"} body into one choice: each text block -> a text part
// (content_is_string), tool_use -> a ToolCall (input serialised compactly as arguments),
// thinking -> Message::reasoning (concatenated; signatures and redacted_thinking dropped).
// stop_reason mapped (end_turn/stop_sequence -> kStop, max_tokens -> kLength, tool_use ->
// kToolCalls, refusal -> kContentFilter, pause_turn -> kOther) with the raw value kept; usage
// normalised (prompt = input + cache read + cache creation). created is 0 (no clock here).
// Errors: a {type:"error"} body -> its mapped error (see errors.hpp); anything else that is not
// a JSON object with a `content` array -> kUpstreamError, code "bad_upstream_response".
[[nodiscard]] Result<ChatResponse> DecodeMessagesResponse(std::string_view body);

// Writes a {type:"message"} body from choice 0: id ("msg_" prepended unless already there),
// role assistant, content [thinking (signature ""), text blocks, tool_use blocks], model,
// stop_reason (the raw value when it is Anthropic's and agrees with the finish reason),
// stop_sequence null, usage {input_tokens (excluding cache), cache_creation_input_tokens,
// cache_read_input_tokens, output_tokens} (zeros when unknown).
[[nodiscard]] std::string EncodeMessagesResponse(const ChatResponse& resp);

// "msg_" + id unless id already starts with "msg_" ("msg_" alone for an empty id).
[[nodiscard]] std::string MessageId(std::string_view id);

}  // namespace modelmux::dialects::anthropic
