#pragma once
// What each provider type takes as image input: the data behind NormalizeImage for one upstream.
// Values come from the providers' public documentation (see docs/MULTIMODAL.md); where a value is
// not confirmed, the table picks a conservative one and its note says "(unconfirmed)".
//
// Conventions: byte limits are on the raw image (Anthropic measures its 5 MB on the base64 text,
// so its raw limit is 5 MiB * 3 / 4). Byte and pixel limits that are unconfirmed err small (an
// image is then re-encoded smaller, never refused); counts that are unconfirmed are 0 (not
// checked: we would rather let the provider decide than refuse a request it would take).

#include <span>
#include <string>
#include <string_view>

#include "media/image.hpp"

namespace modelmux::media {

// Limits for a provider type as written in config: "openai", "azure", "anthropic", "gemini",
// "dashscope", "bedrock", "qianfan", "zhipu", "hunyuan", "ollama", "deepseek", "moonshot",
// "vllm". Any other string gets the conservative default (JPEG/PNG, 5 MB, 4096 px). The result
// lives for the whole program.
[[nodiscard]] const ImageLimits& ImageLimitsFor(std::string_view provider_type);

struct ProviderImageLimits {
  std::string_view provider_type;  // "default" for the fallback row
  ImageLimits limits;
  std::string_view note;  // source and caveats, "(unconfirmed)" where it applies
};
// Every row of the table, the default last.
[[nodiscard]] std::span<const ProviderImageLimits> AllImageLimits();

// The table as GitHub markdown, one row per provider type (for docs/MULTIMODAL.md).
[[nodiscard]] std::string LimitsTableMarkdown();

}  // namespace modelmux::media
