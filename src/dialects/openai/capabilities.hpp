#pragma once
// Static facts about the OpenAI Chat Completions dialect (see /work/shared/providers.md §1).

#include <cstdint>

namespace modelmux::dialects::openai {

struct Capabilities {
  // stream_options.include_usage is honoured: one usage chunk with choices:[] before [DONE].
  static constexpr bool kStreamUsage = true;
  static constexpr bool kTools = true;
  static constexpr bool kImages = true;
  static constexpr bool kAudioInput = true;   // input_audio parts (audio-capable models)
  static constexpr bool kVideoInput = false;  // no native video: send frames as images
  static constexpr bool kLegacyCompletions = true;
  // Image limits (placeholders from the public docs; verify per model).
  static constexpr int64_t kMaxImageBytes = 20LL << 20;
  static constexpr int64_t kMaxImagesPerRequest = 500;
  static constexpr int64_t kMaxImageBytesPerRequest = 50LL << 20;
  static constexpr int kMaxStopSequences = 4;
  static constexpr double kMaxTemperature = 2.0;
};

}  // namespace modelmux::dialects::openai
