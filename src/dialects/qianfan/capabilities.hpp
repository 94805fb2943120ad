#pragma once
// Static facts about Baidu Qianfan's legacy ERNIE chat API (see /work/shared/providers.md §5).

#include <cstdint>
#include <string_view>

namespace modelmux::dialects::qianfan {

struct Capabilities {
  // The chat path; the endpoint (from the model name, see QianfanEndpointFor) is appended.
  static constexpr std::string_view kChatPath = "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/";
  // ERNIE's temperature range is (0, 1]: values are clamped into [kMinTemperature, 1] (OpenAI's
  // 0..2 is not rescaled, so 0.7 means the same on both sides).
  static constexpr double kMinTemperature = 0.01;
  static constexpr double kMaxTemperature = 1.0;
  // max_output_tokens must be at least 2.
  static constexpr int64_t kMinOutputTokens = 2;
  static constexpr bool kTools = true;  // as `functions` (one call per answer)
  static constexpr bool kImages = false;
  static constexpr bool kVideoInput = false;
  static constexpr bool kAudioInput = false;
  static constexpr bool kMultipleChoices = false;  // no `n`
  static constexpr bool kSeed = false;             // dropped on encode
  static constexpr bool kResponseFormat = false;   // dropped on encode
  static constexpr bool kStreamUsage = true;       // usage rides on the chunks
};

}  // namespace modelmux::dialects::qianfan
