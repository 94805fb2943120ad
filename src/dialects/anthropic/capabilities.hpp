#pragma once
// Static facts about the Anthropic Messages dialect (see /work/shared/providers.md §2).

#include <cstdint>
#include <string_view>

namespace modelmux::dialects::anthropic {

struct Capabilities {
  // The `anthropic-version` header every call carries (CallOptions::api_version overrides it).
  static constexpr std::string_view kApiVersion = "2023-06-01";
  // max_tokens is required by Anthropic; used when the neutral request has none.
  static constexpr int64_t kDefaultMaxTokens = 4096;
  // Anthropic's temperature range is 0..1. OpenAI's 0..2 is NOT rescaled: values above 1 are
  // clamped to 1 (and below 0 to 0) on encode, so 0.7 means the same on both sides.
  static constexpr double kMaxTemperature = 1.0;
  static constexpr bool kTools = true;
  static constexpr bool kImages = true;  // base64 and url sources
  static constexpr bool kVideoInput = false;
  static constexpr bool kAudioInput = false;
  static constexpr bool kMultipleChoices = false;  // no `n`
  static constexpr bool kSeed = false;             // dropped on encode
  static constexpr bool kResponseFormat = false;   // dropped on encode
  // Usage in streams is always sent (message_start + cumulative message_delta).
  static constexpr bool kStreamUsage = true;
  static constexpr int64_t kMaxImageBytes = 5LL << 20;  // measured on the base64 string
  static constexpr int64_t kMaxImagesPerRequest = 100;
  static constexpr int64_t kMaxRequestBytes = 32LL << 20;
};

}  // namespace modelmux::dialects::anthropic
