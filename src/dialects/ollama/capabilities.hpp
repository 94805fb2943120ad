#pragma once
// Static facts about Ollama's native API (/api/chat, /api/embed; see /work/shared/providers.md
// §10 and Ollama's docs/api.md).

#include <string_view>

namespace modelmux::dialects::ollama {

struct Capabilities {
  static constexpr std::string_view kChatPath = "/api/chat";
  static constexpr std::string_view kEmbedPath = "/api/embed";
  static constexpr std::string_view kTagsPath = "/api/tags";
  static constexpr std::string_view kDefaultBaseUrl = "http://127.0.0.1:11434";
  // Streaming is on by default on the wire: `stream` is always sent explicitly.
  static constexpr bool kStreamDefault = true;
  static constexpr bool kTools = true;          // OpenAI-shaped tools; arguments are objects
  static constexpr bool kImages = true;         // `images` (raw base64) from data: URLs only
  static constexpr bool kRemoteImages = false;  // http(s) image URLs are refused (400)
  static constexpr bool kVideoInput = false;
  static constexpr bool kAudioInput = false;
  static constexpr bool kMultipleChoices = false;  // no `n`
  static constexpr bool kSeed = true;              // options.seed
  static constexpr bool kResponseFormat = true;    // format: "json" or a JSON schema
  static constexpr bool kToolChoice = false;       // dropped
  static constexpr bool kStreamUsage = true;       // counts on the final done:true object
};

}  // namespace modelmux::dialects::ollama
