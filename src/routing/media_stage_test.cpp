// The file-API decision of the media stage: which parts go up, and the per-provider defaults.
#include "routing/media_stage.hpp"

#include <gtest/gtest.h>

#include "media/limits.hpp"

namespace modelmux::routing {
namespace {

using Sizes = std::vector<uint64_t>;
using Picks = std::vector<size_t>;

TEST(PartsToUpload, PartsOverTheThreshold) {
  EXPECT_EQ(PartsToUpload(Sizes{10, 200, 50, 300}, 100, 0), (Picks{1, 3}));
  EXPECT_EQ(PartsToUpload(Sizes{100}, 100, 0), Picks{}) << "at the threshold stays inline";
  EXPECT_EQ(PartsToUpload(Sizes{}, 100, 0), Picks{});
}

TEST(PartsToUpload, LargestFirstWhileTheInlineTotalIsOverTheLimit) {
  // Inline total 90 + 80 + 30 + 20 = 220 over 100: 90 goes (130 left), then 80 (50 left).
  EXPECT_EQ(PartsToUpload(Sizes{30, 90, 20, 80}, 1000, 100), (Picks{1, 3}));
  // Already under: nothing.
  EXPECT_EQ(PartsToUpload(Sizes{30, 20}, 1000, 100), Picks{});
  // Parts over the threshold do not count towards the inline total.
  EXPECT_EQ(PartsToUpload(Sizes{500, 60, 30}, 400, 100), (Picks{0}));
}

TEST(UploadAboveBytes, DefaultsFromTheProviderLimits) {
  MediaConfig m;
  // Gemini: a part whose base64 would be the whole 20 MB inline request.
  const uint64_t gemini_total = media::ImageLimitsFor("gemini").max_total_bytes;
  EXPECT_EQ(UploadAboveBytes(m, "gemini"), gemini_total / 4 * 3);
  EXPECT_EQ(UploadAboveBytes(m, "gemini"), 15'000'000u);
  // Anthropic: the 5 MiB base64 per image, in raw bytes.
  EXPECT_EQ(UploadAboveBytes(m, "anthropic"), 5u * 1024 * 1024 / 4 * 3);
  EXPECT_EQ(UploadAboveBytes(m, "openai"), 0u) << "no file API the chat API references";
  m.upload_above_bytes = 65536;
  EXPECT_EQ(UploadAboveBytes(m, "gemini"), 65536u);
  EXPECT_EQ(UploadAboveBytes(m, "bedrock"), 0u);
  m.upload = false;
  EXPECT_EQ(UploadAboveBytes(m, "gemini"), 0u);
}

}  // namespace
}  // namespace modelmux::routing
