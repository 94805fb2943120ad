#pragma once
// Static facts about Alibaba DashScope's native API (see /work/shared/providers.md §6).

#include <cstdint>
#include <string_view>

namespace modelmux::dialects::dashscope {

struct Capabilities {
  // Paths relative to the host (https://dashscope.aliyuncs.com or the -intl one); the provider
  // drops a trailing /api/v1 from a configured base URL so both spellings work.
  static constexpr std::string_view kTextPath = "/api/v1/services/aigc/text-generation/generation";
  static constexpr std::string_view kMultimodalPath =
      "/api/v1/services/aigc/multimodal-generation/generation";
  static constexpr std::string_view kEmbeddingsPath =
      "/api/v1/services/embeddings/text-embedding/text-embedding";
  // Streaming is asked for with this header (the body has no `stream` field).
  static constexpr std::string_view kSseHeader = "X-DashScope-SSE";
  // temperature is in [0, 2): values are clamped into [0, kMaxTemperature].
  static constexpr double kMaxTemperature = 1.99;
  // top_p is in (0, 1]: values are clamped into [kMinTopP, 1].
  static constexpr double kMinTopP = 0.0001;
  static constexpr bool kTools = true;       // OpenAI-shaped `tools` under `parameters`
  static constexpr bool kImages = true;      // multimodal path, {image: url}
  static constexpr bool kVideoInput = true;  // multimodal path, {video: url}
  static constexpr bool kAudioInput = true;  // multimodal path, {audio: url} (qwen-audio, omni)
  static constexpr bool kSeed = true;
  static constexpr bool kResponseFormat = true;
  static constexpr bool kStreamUsage = true;  // usage rides on every event
  // Streams repeat the whole text so far unless `incremental_output: true` is sent; requests
  // always send it and the decoder also copes with cumulative streams.
  static constexpr bool kCumulativeStreamByDefault = true;
};

}  // namespace modelmux::dialects::dashscope
