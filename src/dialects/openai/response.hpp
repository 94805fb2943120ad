#pragma once
// OpenAI Chat Completions responses: wire JSON <-> ChatResponse. Pure, thread-safe.

#include <string>
#include <string_view>

#include "core/chat.hpp"
#include "core/result.hpp"

namespace modelmux::dialects::openai {

// Decodes a non-streamed chat.completion body. `reasoning_content` (DeepSeek, Moonshot, Qwen)
// becomes Message::reasoning; finish_reason is mapped and the raw value kept. Usage is
// normalised: prompt_tokens_details.cached_tokens, DeepSeek's prompt_cache_hit_tokens or
// Moonshot's usage.cached_tokens -> cache_read_tokens; completion_tokens_details.reasoning_tokens
// -> reasoning_tokens; Moonshot's choices[0].usage is used when top-level usage is absent.
// Errors: kUpstreamError when the body is not a JSON object with a `choices` array.
[[nodiscard]] Result<ChatResponse> DecodeChatResponse(std::string_view body);

// Writes an OpenAI chat.completion body (object, id, created, model, choices with message,
// logprobs:null, finish_reason; usage with total and details; system_fingerprint when known).
[[nodiscard]] std::string EncodeChatResponse(const ChatResponse& resp);

// Writes the legacy text_completion shape: object "text_completion", choices[].text.
[[nodiscard]] std::string EncodeCompletionResponse(const ChatResponse& resp);

}  // namespace modelmux::dialects::openai
