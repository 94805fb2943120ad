#pragma once
// Gemini GenerateContentResponse -> neutral ChatResponse. Pure, thread-safe.

#include <string_view>

#include "core/chat.hpp"
#include "core/result.hpp"

namespace modelmux::dialects::gemini {

// Decodes a generateContent answer:
// - id = responseId, model = modelVersion; one Choice per candidate (index = its `index`, else
//   its position), role assistant;
// - parts: {text} -> a text part (consecutive texts joined), {text, thought:true} ->
//   Message::reasoning, {functionCall:{id?, name, args}} -> ToolCall {id per wire.hpp
//   ToolCallId (with the part's thoughtSignature), name, args as JSON text}; other parts
//   (executableCode, inlineData, ...) are not represented;
// - finishReason per wire.hpp ParseFinishReason (raw kept; STOP with function calls ->
//   kToolCalls);
// - usage from usageMetadata (wire.hpp UsageFrom).
// Errors: a body with `error` -> errors.hpp DecodeError(200, body); no candidates and
// promptFeedback.blockReason -> kContentFilter (code "content_filter", provider_code = the
// reason); not JSON, or no candidates otherwise -> kUpstreamError "bad_upstream_response".
[[nodiscard]] Result<ChatResponse> DecodeGenerateContentResponse(std::string_view body);

namespace detail {
// The error for a prompt Gemini refused (promptFeedback.blockReason = `reason`).
[[nodiscard]] Error PromptBlocked(std::string_view reason);
[[nodiscard]] Error BadResponse(std::string message);
}  // namespace detail

}  // namespace modelmux::dialects::gemini
