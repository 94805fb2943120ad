#pragma once
// Static facts about Tencent Hunyuan's native API (ChatCompletions, version 2023-09-01; see
// /work/shared/providers.md §8 and Tencent's SDK models for hunyuan/v20230901).

#include <cstdint>
#include <string_view>

namespace modelmux::dialects::hunyuan {

struct Capabilities {
  static constexpr std::string_view kPath = "/";  // every action is POST /
  static constexpr std::string_view kVersion = "2023-09-01";
  static constexpr std::string_view kChatAction = "ChatCompletions";
  static constexpr std::string_view kEmbeddingAction = "GetEmbedding";
  static constexpr std::string_view kService = "hunyuan";
  static constexpr std::string_view kDefaultHost = "hunyuan.tencentcloudapi.com";
  // Temperature is 0..2 as OpenAI's (passed unchanged, clamped); TopP 0..1.
  static constexpr double kMaxTemperature = 2.0;
  static constexpr bool kTools = true;   // Tools / ToolChoice / CustomTool
  static constexpr bool kImages = true;  // Contents image_url (http(s) or data: URLs)
  static constexpr bool kVideoInput = false;
  static constexpr bool kAudioInput = false;
  static constexpr bool kMultipleChoices = false;  // no `n`
  static constexpr bool kMaxTokens = false;        // no output-length field: max_tokens dropped
  static constexpr bool kSeed = false;             // dropped
  static constexpr bool kResponseFormat = false;   // dropped
  static constexpr bool kStreamUsage = true;       // Usage rides on every chunk (cumulative)
  static constexpr bool kEmbeddingsBatch = false;  // GetEmbedding takes one Input
};

}  // namespace modelmux::dialects::hunyuan
