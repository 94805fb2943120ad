#pragma once
// Static facts about the Gemini generateContent dialect (see /work/shared/providers.md §3).

#include <cstdint>
#include <string_view>

namespace modelmux::dialects::gemini {

struct Capabilities {
  // The API version appended to a base URL that names none (the default base URL is the bare
  // host https://generativelanguage.googleapis.com, as for Google's own SDKs).
  static constexpr std::string_view kDefaultApiVersion = "v1beta";
  // Gemini's temperature range is 0..2, as OpenAI's: values are passed unchanged.
  static constexpr bool kTools = true;
  static constexpr bool kImages = true;      // inline_data (data URLs) and file_data (URLs)
  static constexpr bool kVideoInput = true;  // the same two ways
  static constexpr bool kAudioInput = true;
  static constexpr bool kMultipleChoices = true;  // n -> generationConfig.candidateCount
  static constexpr bool kSeed = true;
  static constexpr bool kResponseFormat = true;  // responseMimeType / responseJsonSchema
  // usageMetadata rides on stream chunks (cumulative), so stream usage is always known.
  static constexpr bool kStreamUsage = true;
  static constexpr int64_t kMaxStopSequences = 5;
  // reasoning_effort -> thinkingConfig.thinkingBudget, as Google's OpenAI-compatible surface
  // maps it.
  static constexpr int64_t kThinkingBudgetLow = 1024;
  static constexpr int64_t kThinkingBudgetMedium = 8192;
  static constexpr int64_t kThinkingBudgetHigh = 24576;
};

}  // namespace modelmux::dialects::gemini
