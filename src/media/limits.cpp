// The image-input limits of each provider type, and their markdown rendering.

#include "media/limits.hpp"

#include <string>
#include <vector>

namespace modelmux::media {
namespace {

using F = ImageFormat;

struct Row {
  std::string_view type;
  size_t max_bytes;
  int max_side;
  int target_side;
  int max_images;
  size_t max_total_bytes;
  std::vector<ImageFormat> accepted;
  std::string_view note;
  bool accepts_images = true;
};

ProviderImageLimits Make(Row r) {
  ImageLimits l;
  l.max_bytes = r.max_bytes;
  l.max_side = r.max_side;
  l.target_side = r.target_side;
  l.max_images = r.max_images;
  l.max_total_bytes = r.max_total_bytes;
  l.accepted = std::move(r.accepted);
  l.accepts_images = r.accepts_images;
  return {r.type, std::move(l), r.note};
}

// 5 MiB of base64 text holds 5 MiB * 3 / 4 raw bytes.
constexpr size_t kAnthropicRaw = 5ull * 1024 * 1024 * 3 / 4;

const std::vector<ProviderImageLimits>& Table() {
  static const std::vector<ProviderImageLimits> kTable = [] {
    std::vector<ProviderImageLimits> t;
    const std::vector<F> openai_formats = {F::kPng, F::kJpeg, F::kWebp, F::kGif};
    t.push_back(Make({"openai", 20'000'000, 0, 2048, 500, 50'000'000, openai_formats,
                      "20 MB per image, 500 images and 50 MB per request; GIF not animated; "
                      "detail high fits the image in 2048 px, so 2048 is the target side"}));
    t.push_back(Make({"azure", 20'000'000, 0, 2048, 500, 50'000'000, openai_formats,
                      "as OpenAI (unconfirmed)"}));
    t.push_back(Make({"anthropic",
                      kAnthropicRaw,
                      8000,
                      1568,
                      100,
                      24'000'000,
                      {F::kJpeg, F::kPng, F::kGif, F::kWebp},
                      "5 MB per image measured on the base64 text (raw = 5 MiB * 3/4); 8000 px "
                      "(2000 px when over 20 images, not applied here); long edge over 1568 px "
                      "is downscaled by the provider; 32 MB request body (so 24 MB of raw images); "
                      "animation "
                      "(unconfirmed): first frame sent"}));
    t.push_back(Make({"gemini",
                      7'000'000,
                      0,
                      0,
                      3000,
                      20'000'000,
                      {F::kPng, F::kJpeg, F::kWebp, F::kHeif},
                      "PNG, JPEG, WebP, HEIC/HEIF; inline data 20 MB per request (older docs, "
                      "conservative); 7 MB per image is Vertex AI's inline limit, used for AI "
                      "Studio too (unconfirmed); 3000 images (Vertex, varies by model)"}));
    t.push_back(Make({"bedrock",
                      3'750'000,
                      8000,
                      0,
                      20,
                      0,
                      {F::kPng, F::kJpeg, F::kGif, F::kWebp},
                      "Converse: 20 images, each 3.75 MB and 8000 px; user role only"}));
    t.push_back(Make({"dashscope",
                      7'500'000,
                      0,
                      0,
                      0,
                      0,
                      {F::kBmp, F::kJpeg, F::kPng, F::kTiff, F::kWebp, F::kHeif},
                      "about 10 MB of base64 per image (unconfirmed), so 7.5 MB raw; no side "
                      "limit published (unconfirmed)"}));
    t.push_back(Make({"qianfan",
                      5'000'000,
                      4096,
                      0,
                      0,
                      0,
                      {F::kJpeg, F::kPng},
                      "ERNIE VL limits not published (unconfirmed): the conservative default"}));
    t.push_back(Make({"zhipu",
                      5'000'000,
                      6000,
                      0,
                      0,
                      0,
                      {F::kJpeg, F::kPng},
                      "GLM-4V: 5 MB and 6000 px often cited, JPEG/PNG (unconfirmed); early "
                      "glm-4v took one image per request"}));
    t.push_back(Make({"hunyuan",
                      5'000'000,
                      4096,
                      0,
                      0,
                      0,
                      {F::kJpeg, F::kPng},
                      "hunyuan-vision limits not published (unconfirmed): the conservative "
                      "default"}));
    t.push_back(Make({"ollama",
                      20'000'000,
                      0,
                      0,
                      0,
                      0,
                      {F::kJpeg, F::kPng},
                      "local server; decodes JPEG and PNG (unconfirmed for others); the model's "
                      "projector resizes"}));
    t.push_back(
        Make({"deepseek", 0, 0, 0, 0, 0, {}, "the DeepSeek API has no image input", false}));
    t.push_back(Make({"moonshot",
                      5'000'000,
                      4096,
                      0,
                      0,
                      0,
                      {F::kPng, F::kJpeg, F::kWebp, F::kGif},
                      "moonshot-v1-*-vision-preview: limits not published (unconfirmed)"}));
    t.push_back(Make({"vllm",
                      20'000'000,
                      0,
                      0,
                      0,
                      0,
                      {F::kPng, F::kJpeg, F::kWebp, F::kGif},
                      "local OpenAI-compatible server (decodes with Pillow); per-model limits "
                      "are set by its --limit-mm-per-prompt"}));
    t.push_back(Make({"default",
                      5'000'000,
                      4096,
                      0,
                      0,
                      0,
                      {F::kJpeg, F::kPng},
                      "any other provider type: JPEG/PNG, 5 MB, 4096 px (conservative)"}));
    return t;
  }();
  return kTable;
}

std::string Count(int64_t n) {
  if (n == 0) return "-";
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string Formats(const ImageLimits& l) {
  if (!l.accepts_images) return "none";
  if (l.accepted.empty()) return "any";
  std::string out;
  for (ImageFormat f : l.accepted) {
    if (!out.empty()) out += ", ";
    out += ImageFormatName(f);
  }
  return out;
}

}  // namespace

std::span<const ProviderImageLimits> AllImageLimits() {
  return Table();
}

const ImageLimits& ImageLimitsFor(std::string_view provider_type) {
  const auto& table = Table();
  for (const ProviderImageLimits& row : table) {
    if (row.provider_type == provider_type) return row.limits;
  }
  return table.back().limits;
}

std::string LimitsTableMarkdown() {
  std::string md =
      "| provider type | formats | bytes per image | max side (px) | target side (px) | "
      "images per request | bytes per request | notes |\n"
      "|---|---|---|---|---|---|---|---|\n";
  for (const ProviderImageLimits& row : Table()) {
    const ImageLimits& l = row.limits;
    md += "| " + std::string(row.provider_type) + " | " + Formats(l) + " | " +
          Count(static_cast<int64_t>(l.max_bytes)) + " | " + Count(l.max_side) + " | " +
          Count(l.target_side) + " | " + Count(l.max_images) + " | " +
          Count(static_cast<int64_t>(l.max_total_bytes)) + " | " + std::string(row.note) + " |\n";
  }
  md +=
      "\nBytes are raw image bytes (before base64). `-` means no limit (or none published, for "
      "counts). The target side is the longest side the provider actually uses; the balanced "
      "policy shrinks to it.\n";
  return md;
}

}  // namespace modelmux::media
