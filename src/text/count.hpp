#pragma once
// Token counts for a model: exact with OpenAI's tokenizers (tiktoken.hpp) where the model's
// encoding is known, else the conservative estimate (token_estimator.hpp). Pure and thread-safe;
// the first exact count builds the shared tokenizer (a few milliseconds).

#include <cstdint>
#include <string>
#include <string_view>

#include "core/chat.hpp"

namespace modelmux::text {

// The name TokenCount::encoding carries when the count is the estimator's.
inline constexpr std::string_view kEstimateEncoding = "estimate";

struct TokenCount {
  int64_t tokens = 0;
  // true: the count is what the model's own tokenizer gives (for a prompt: what OpenAI's counting
  // recipe gives for text-only messages). false: an estimate or approximation.
  bool exact = false;
  std::string encoding;  // "o200k_base", "cl100k_base" or "estimate"
};

// The model name without a provider prefix: everything up to the last '/' is dropped
// ("openai/gpt-4o" -> "gpt-4o", "azure/gpt-4o-mini" -> "gpt-4o-mini", "gpt-4o" unchanged).
[[nodiscard]] std::string_view StripProviderPrefix(std::string_view model);

// Tokens of UTF-8 `text` for `model`: exact when the model (provider prefix stripped) has a known
// OpenAI encoding (EncodingForModel), else EstimateTokens with exact = false.
[[nodiscard]] TokenCount CountText(std::string_view model, std::string_view text);

// Prompt tokens of a chat request for `model` (req.model is not read).
// OpenAI models: OpenAI's documented counting recipe for chat messages (the cookbook's
// num_tokens_from_messages): 3 tokens per message, the role and every text part encoded, the
// name encoded plus 1, tool_call_id encoded, and 3 for priming the reply. Exact for text-only
// messages. Anything else is approximate and makes exact = false: tool calls and tool
// definitions (and response_format) are counted as their JSON text encoded, which is close to
// but not what OpenAI's server-side rendering costs; images cost the fixed tile estimate of
// token_estimator.hpp (kImageTokensHigh, or kImageTokensLow for detail "low"), audio and video
// its placeholders.
// Other models: EstimatePromptTokens, exact = false, encoding "estimate".
[[nodiscard]] TokenCount CountPrompt(std::string_view model, const modelmux::ChatRequest& req);

}  // namespace modelmux::text
