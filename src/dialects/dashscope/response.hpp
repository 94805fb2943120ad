#pragma once
// DashScope native answers -> the neutral ChatResponse / EmbeddingResponse. Pure, thread-safe.

#include <string_view>

#include "core/chat.hpp"
#include "core/embedding.hpp"
#include "core/result.hpp"

namespace modelmux::dialects::dashscope {

// Decodes {output: {choices: [{finish_reason, message: {role, content, reasoning_content?,
// tool_calls?}}]}, usage: {input_tokens, output_tokens, total_tokens,
// prompt_tokens_details?.cached_tokens}, request_id} (result_format "message"), and the older
// {output: {text, finish_reason}} (result_format "text"):
// - id = request_id; model left empty (the API does not name it); created 0;
// - content: a string, or (multimodal) an array of {text} parts joined; reasoning_content ->
//   Message::reasoning; tool_calls [{id, function {name, arguments}}] -> tool calls;
// - finish_reason per ParseFinishReason with the raw kept; a missing one is kStop (kToolCalls
//   when the message calls tools);
// - usage per UsageOf (cached tokens from prompt_tokens_details.cached_tokens).
// A body with a non-empty `code` is returned as its error (errors.hpp). Errors: kUpstreamError
// "bad_upstream_response" for a body that is not a JSON object or has no output.
[[nodiscard]] Result<ChatResponse> DecodeChatResponse(std::string_view body);

// Decodes {output: {embeddings: [{text_index, embedding: [numbers]}]}, usage: {total_tokens},
// request_id}: one Embedding per entry with index = text_index, sorted by index; prompt_tokens =
// usage.total_tokens. A body with a code -> its error; a malformed body -> kUpstreamError
// "bad_upstream_response".
[[nodiscard]] Result<EmbeddingResponse> DecodeEmbeddingsResponse(std::string_view body);

// Internal to the dialect (also used by the stream decoder): the error for a malformed body.
[[nodiscard]] Error BadResponse(std::string message);

}  // namespace modelmux::dialects::dashscope
