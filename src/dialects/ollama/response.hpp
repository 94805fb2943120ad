#pragma once
// Ollama native answers -> the neutral ChatResponse / EmbeddingResponse. Pure, thread-safe.

#include <string_view>

#include "core/chat.hpp"
#include "core/embedding.hpp"
#include "core/result.hpp"

namespace modelmux::dialects::ollama {

// Decodes a whole /api/chat answer {model, created_at, message: {role, content, thinking?,
// tool_calls?}, done, done_reason, prompt_eval_count, eval_count, ...}:
// - {"error": "..."} -> the error (errors.hpp);
// - one choice: text, thinking -> reasoning, tool calls (ids "call_<i>" when Ollama gives none);
// - done_reason per wire.hpp (raw kept); usage from the counts; created from created_at; id
//   "ollama-<created_at digits>"; model as Ollama names it.
// Errors: kUpstreamError "bad_upstream_response" for a body that is not a JSON object with a
// message object.
[[nodiscard]] Result<ChatResponse> DecodeChatResponse(std::string_view body);

// Decodes /api/embed's {model, embeddings: [[...]], prompt_eval_count}.
[[nodiscard]] Result<EmbeddingResponse> DecodeEmbeddingResponse(std::string_view body);

}  // namespace modelmux::dialects::ollama
