#include "media/limits.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace modelmux::media {
namespace {

bool Accepts(const ImageLimits& l, ImageFormat f) {
  return std::find(l.accepted.begin(), l.accepted.end(), f) != l.accepted.end();
}

TEST(ImageLimits, EveryConfiguredProviderTypeHasItsOwnRow) {
  const ImageLimits& fallback = ImageLimitsFor("no-such-provider");
  for (std::string_view type :
       {"openai", "azure", "anthropic", "gemini", "dashscope", "bedrock", "qianfan", "zhipu",
        "hunyuan", "ollama", "deepseek", "moonshot", "vllm"}) {
    EXPECT_NE(&ImageLimitsFor(type), &fallback) << type;
  }
  EXPECT_EQ(&ImageLimitsFor("default"), &fallback);
  EXPECT_EQ(AllImageLimits().back().provider_type, "default");
}

TEST(ImageLimits, DocumentedValues) {
  const ImageLimits& openai = ImageLimitsFor("openai");
  EXPECT_EQ(openai.max_bytes, 20'000'000u);
  EXPECT_EQ(openai.max_images, 500);
  EXPECT_TRUE(Accepts(openai, ImageFormat::kGif));
  EXPECT_FALSE(Accepts(openai, ImageFormat::kHeif));
  EXPECT_FALSE(openai.accepts_animation);

  const ImageLimits& anthropic = ImageLimitsFor("anthropic");
  // 5 MB of base64 (5,242,880 characters) carries 3,932,160 raw bytes.
  EXPECT_EQ(anthropic.max_bytes, 3'932'160u);
  EXPECT_EQ((anthropic.max_bytes + 2) / 3 * 4, 5'242'880u);
  EXPECT_EQ(anthropic.max_side, 8000);
  EXPECT_EQ(anthropic.target_side, 1568);
  EXPECT_EQ(anthropic.max_images, 100);

  const ImageLimits& gemini = ImageLimitsFor("gemini");
  EXPECT_TRUE(Accepts(gemini, ImageFormat::kHeif));
  EXPECT_FALSE(Accepts(gemini, ImageFormat::kGif));
  EXPECT_LE(gemini.max_total_bytes, 20'000'000u);

  const ImageLimits& bedrock = ImageLimitsFor("bedrock");
  EXPECT_EQ(bedrock.max_bytes, 3'750'000u);
  EXPECT_EQ(bedrock.max_side, 8000);
  EXPECT_EQ(bedrock.max_images, 20);

  const ImageLimits& dashscope = ImageLimitsFor("dashscope");
  EXPECT_TRUE(Accepts(dashscope, ImageFormat::kBmp));
  EXPECT_TRUE(Accepts(dashscope, ImageFormat::kTiff));
  EXPECT_LE(dashscope.max_bytes, 10'000'000u);

  EXPECT_LE(ImageLimitsFor("zhipu").max_bytes, 5'000'000u);
  EXPECT_LE(ImageLimitsFor("zhipu").max_side, 6000);
  EXPECT_FALSE(ImageLimitsFor("deepseek").accepts_images);
}

TEST(ImageLimits, EveryRowThatTakesImagesCanBeEncodedFor) {
  for (const ProviderImageLimits& row : AllImageLimits()) {
    if (!row.limits.accepts_images) continue;
    EXPECT_TRUE(Accepts(row.limits, ImageFormat::kJpeg)) << row.provider_type;
    EXPECT_FALSE(row.note.empty()) << row.provider_type;
    if (row.limits.target_side != 0 && row.limits.max_side != 0) {
      EXPECT_LE(row.limits.target_side, row.limits.max_side) << row.provider_type;
    }
  }
}

TEST(ImageLimits, MarkdownTableHasARowPerProvider) {
  const std::string md = LimitsTableMarkdown();
  EXPECT_EQ(md.rfind("| provider type |", 0), 0u);
  for (const ProviderImageLimits& row : AllImageLimits()) {
    EXPECT_NE(md.find("| " + std::string(row.provider_type) + " |"), std::string::npos)
        << row.provider_type;
  }
  EXPECT_NE(md.find("| anthropic | jpeg, png, gif, webp | 3,932,160 | 8,000 | 1,568 | 100 |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("(unconfirmed)"), std::string::npos);
  const size_t rows = static_cast<size_t>(std::count(md.begin(), md.end(), '\n'));
  EXPECT_GE(rows, AllImageLimits().size() + 2);
}

}  // namespace
}  // namespace modelmux::media
