#pragma once
// Bedrock Converse and Titan embeddings answers -> neutral responses. Pure, thread-safe.

#include <string>
#include <string_view>

#include "core/chat.hpp"
#include "core/embedding.hpp"
#include "core/result.hpp"

namespace modelmux::dialects::bedrock {

// Decodes a Converse answer {output:{message:{role, content}}, stopReason, usage, metrics}:
// one Choice (index 0, role assistant); {text} blocks -> the text (joined), {reasoningContent:
// {reasoningText:{text}}} -> Message::reasoning, {toolUse:{toolUseId, name, input}} -> ToolCall
// {id = toolUseId, name, arguments = input as JSON text}; other blocks are not represented;
// stopReason per wire.hpp ParseStopReason (raw kept); usage per wire.hpp UsageFrom. Converse
// names neither the answer nor the model: id and model are left empty.
// Errors: not a JSON object, or no output.message -> kUpstreamError "bad_upstream_response".
[[nodiscard]] Result<ChatResponse> DecodeConverseResponse(std::string_view body);

// Decodes a Titan embeddings answer {embedding:[...], inputTextTokenCount}: one Embedding
// (index 0); prompt_tokens = inputTextTokenCount. Errors: not a JSON object, or no numeric
// embedding array -> kUpstreamError "bad_upstream_response".
[[nodiscard]] Result<EmbeddingResponse> DecodeTitanEmbeddingResponse(std::string_view body);

namespace detail {
[[nodiscard]] Error BadResponse(std::string message);
}  // namespace detail

}  // namespace modelmux::dialects::bedrock
