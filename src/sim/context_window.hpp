#pragma once
// The simulator's context windows: a model whose name holds "ctx<N>" ("echo-ctx50",
// "chat-ctx4000") accepts prompts of at most N tokens (prompt plus max_tokens, as the real
// providers count), and answers a longer request with its dialect's context-length error. Lets
// tests drive context-window fallbacks with the provider's real error shapes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace modelmux::sim {

// N from the first "ctx<digits>" in the model name; nullopt when there is none.
[[nodiscard]] std::optional<int64_t> SimContextWindow(std::string_view model);

// The error body for a request of `tokens` against `window` (OpenAI: 400
// {"error":{..., "code":"context_length_exceeded"}}; Anthropic: 400 invalid_request_error
// "prompt is too long: N tokens > M maximum").
[[nodiscard]] std::string ContextLengthErrorJson(bool anthropic, int64_t tokens, int64_t window);

}  // namespace modelmux::sim
