#pragma once
// Hunyuan native answers -> the neutral ChatResponse / EmbeddingResponse. Pure, thread-safe.

#include <string_view>

#include "core/chat.hpp"
#include "core/embedding.hpp"
#include "core/result.hpp"

namespace modelmux::dialects::hunyuan {

// Decodes {"Response": {Id, Created, Choices: [{Index?, Message: {Role, Content, ToolCalls,
// ReasoningContent?}, FinishReason}], Usage: {PromptTokens, CompletionTokens, TotalTokens},
// Note, RequestId}} (HTTP 200; a body without the Response wrapper is read the same way):
// - Response.Error (or ErrorMsg) -> the mapped error (errors.hpp), never a response;
// - each choice -> a Choice with its text, reasoning and tool calls {Id, Function {Name,
//   Arguments}} (arguments "{}" when empty);
// - FinishReason stop/length/sensitive/tool_calls -> kStop/kLength/kContentFilter/kToolCalls
//   (raw kept); none -> kToolCalls with tool calls, else kStop;
// - Usage prompt/completion; model is left empty (the API does not name it).
// Errors: kUpstreamError "bad_upstream_response" for a body that is not a JSON object or holds
// no Choices.
[[nodiscard]] Result<ChatResponse> DecodeChatResponse(std::string_view body);

// Decodes GetEmbedding's {"Response": {Data: [{Embedding: [...], Index, Object}], Usage:
// {PromptTokens, TotalTokens}, RequestId}}; errors as DecodeChatResponse.
[[nodiscard]] Result<EmbeddingResponse> DecodeEmbeddingResponse(std::string_view body);

}  // namespace modelmux::dialects::hunyuan
