#pragma once
// A conservative token estimator for rate limits and budgets, used before (or instead of) exact
// tokenizers. It is calibrated against OpenAI's cl100k_base and o200k_base encodings (see
// token_estimator_test.cpp for the measured table): it may over-count (up to ~2.5x on some
// scripts) but is designed never to under-count by more than ~10% against either encoding.
// Pure and thread-safe; no allocation.

#include <cstdint>
#include <string_view>

#include "core/chat.hpp"

namespace modelmux::text {

// Fixed per-image estimates (OpenAI's tile model: a 1024x1024 "high" image is 765 tokens; a
// "low" detail image is 85 tokens).
inline constexpr int64_t kImageTokensHigh = 765;
inline constexpr int64_t kImageTokensLow = 85;
// Placeholders for media whose real cost depends on duration, which we do not know here.
inline constexpr int64_t kAudioTokens = 1500;
inline constexpr int64_t kVideoTokens = 3000;
// OpenAI chat framing: each message costs ~4 tokens of overhead, the reply is primed with 3.
inline constexpr int64_t kPerMessageTokens = 4;
inline constexpr int64_t kReplyPrimingTokens = 3;

// Estimated token count of UTF-8 text (invalid bytes are counted as one token each).
[[nodiscard]] int64_t EstimateTokens(std::string_view utf8_text);

// Estimated prompt tokens of a chat request: message text, names, tool calls and tool
// definitions, per-message overhead, reply priming, and fixed costs for media parts.
[[nodiscard]] int64_t EstimatePromptTokens(const modelmux::ChatRequest& req);

}  // namespace modelmux::text
