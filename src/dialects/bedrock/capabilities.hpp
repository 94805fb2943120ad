#pragma once
// Static facts about the Bedrock Converse dialect (see /work/shared/providers.md §4).

#include <cstdint>
#include <string_view>

namespace modelmux::dialects::bedrock {

struct Capabilities {
  // SigV4 signing service name.
  static constexpr std::string_view kSigningService = "bedrock";
  static constexpr bool kTools = true;
  static constexpr bool kImages = true;  // base64 bytes only (data URLs); no URL fetch
  static constexpr bool kVideoInput = false;
  static constexpr bool kAudioInput = false;
  static constexpr bool kMultipleChoices = false;  // n > 1 is refused
  static constexpr bool kSeed = false;
  static constexpr bool kResponseFormat = false;
  // A `metadata` event with usage ends every ConverseStream.
  static constexpr bool kStreamUsage = true;
  static constexpr int64_t kMaxImages = 20;
  static constexpr int64_t kMaxImageBytes = 3'932'160;  // 3.75 MB
  // Titan text embeddings take one text per call.
  static constexpr int64_t kTitanInputsPerCall = 1;
  static constexpr std::string_view kTitanPrefix = "amazon.titan-embed-text";
};

}  // namespace modelmux::dialects::bedrock
