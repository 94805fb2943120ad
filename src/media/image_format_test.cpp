// Format names, MIME types and sniffing; the image policy's parsing and merging.

#include <gtest/gtest.h>

#include "media/image.hpp"
#include "media/image_testing.hpp"

namespace modelmux::media {
namespace {

TEST(ImageFormat, NamesAndMimeTypesRoundTrip) {
  for (ImageFormat f :
       {ImageFormat::kJpeg, ImageFormat::kPng, ImageFormat::kWebp, ImageFormat::kGif,
        ImageFormat::kHeif, ImageFormat::kAvif, ImageFormat::kTiff, ImageFormat::kBmp}) {
    EXPECT_EQ(ImageFormatFromMime(ImageMime(f)), f) << ImageMime(f);
    EXPECT_EQ(ImageFormatFromName(ImageFormatName(f)), f) << ImageFormatName(f);
  }
  EXPECT_EQ(ImageFormatName(ImageFormat::kJpeg), "jpeg");
  EXPECT_EQ(ImageMime(ImageFormat::kHeif), "image/heic");
  EXPECT_EQ(ImageMime(ImageFormat::kUnknown), "application/octet-stream");
}

TEST(ImageFormat, MimeAliasesCaseAndParameters) {
  EXPECT_EQ(ImageFormatFromMime("image/jpg"), ImageFormat::kJpeg);
  EXPECT_EQ(ImageFormatFromMime("IMAGE/JPEG"), ImageFormat::kJpeg);
  EXPECT_EQ(ImageFormatFromMime(" image/png ; charset=binary"), ImageFormat::kPng);
  EXPECT_EQ(ImageFormatFromMime("image/heif"), ImageFormat::kHeif);
  EXPECT_EQ(ImageFormatFromMime("image/x-ms-bmp"), ImageFormat::kBmp);
  EXPECT_EQ(ImageFormatFromMime("image/svg+xml"), ImageFormat::kUnknown);
  EXPECT_EQ(ImageFormatFromMime("text/plain"), ImageFormat::kUnknown);
  EXPECT_EQ(ImageFormatFromMime(""), ImageFormat::kUnknown);
}

TEST(SniffImageFormat, RecognisesWhatLibvipsWrites) {
  auto photo = testing::Photo(64, 48);
  EXPECT_EQ(SniffImageFormat(testing::Jpeg(photo.get())), ImageFormat::kJpeg);
  EXPECT_EQ(SniffImageFormat(testing::Png(photo.get())), ImageFormat::kPng);
  EXPECT_EQ(SniffImageFormat(testing::Webp(photo.get())), ImageFormat::kWebp);
  EXPECT_EQ(SniffImageFormat(testing::Gif(photo.get())), ImageFormat::kGif);
  EXPECT_EQ(SniffImageFormat(testing::Tiff(photo.get())), ImageFormat::kTiff);
  if (const std::string bmp = testing::Bmp(photo.get()); !bmp.empty()) {
    EXPECT_EQ(SniffImageFormat(bmp), ImageFormat::kBmp);
  }
  if (const std::string heic = testing::Heif(photo.get(), false); !heic.empty()) {
    EXPECT_EQ(SniffImageFormat(heic), ImageFormat::kHeif);
  }
  if (const std::string avif = testing::Heif(photo.get(), true); !avif.empty()) {
    EXPECT_EQ(SniffImageFormat(avif), ImageFormat::kAvif);
  }
}

TEST(SniffImageFormat, HandCraftedMagic) {
  using namespace std::string_view_literals;
  EXPECT_EQ(SniffImageFormat("\xFF\xD8\xFF\xE0"sv), ImageFormat::kJpeg);
  EXPECT_EQ(SniffImageFormat("\xFF\xD8"sv), ImageFormat::kUnknown);
  EXPECT_EQ(SniffImageFormat("GIF89a...."sv), ImageFormat::kGif);
  EXPECT_EQ(SniffImageFormat("GIF90a...."sv), ImageFormat::kUnknown);
  EXPECT_EQ(SniffImageFormat("RIFF\x10\0\0\0WEBPVP8 "sv), ImageFormat::kWebp);
  EXPECT_EQ(SniffImageFormat("RIFF\x10\0\0\0WAVEfmt "sv), ImageFormat::kUnknown);
  EXPECT_EQ(SniffImageFormat("MM\0*\0\0\0\x08"sv), ImageFormat::kTiff);
  // ISO-BMFF: the brands decide.
  EXPECT_EQ(SniffImageFormat("\0\0\0\x18"
                             "ftypheic\0\0\0\0mif1heic"sv),
            ImageFormat::kHeif);
  EXPECT_EQ(SniffImageFormat("\0\0\0\x18"
                             "ftypavif\0\0\0\0mif1miaf"sv),
            ImageFormat::kAvif);
  EXPECT_EQ(SniffImageFormat("\0\0\0\x18"
                             "ftypmif1\0\0\0\0mif1avif"sv),
            ImageFormat::kAvif);
  EXPECT_EQ(SniffImageFormat("\0\0\0\x18"
                             "ftypisom\0\0\0\0isomavc1"sv),
            ImageFormat::kUnknown);
  // "BM" alone is not enough: the header must be plausible.
  EXPECT_EQ(SniffImageFormat("BM this is just a sentence ok"sv), ImageFormat::kUnknown);
  EXPECT_EQ(SniffImageFormat(""sv), ImageFormat::kUnknown);
  EXPECT_EQ(SniffImageFormat("<svg></svg>"sv), ImageFormat::kUnknown);
}

TEST(ImagePolicy, ParsesEveryField) {
  auto p = ParseImagePolicy(
      R"({"max_side":1024,"quality":75,"format":"webp","detail":"low","lean":"smaller",)"
      R"("force":true})");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->max_side, 1024);
  EXPECT_EQ(p->quality, 75);
  EXPECT_EQ(p->format, ImageFormat::kWebp);
  EXPECT_EQ(p->detail, "low");
  EXPECT_EQ(p->lean, Lean::kSmaller);
  EXPECT_TRUE(p->force);

  p = ParseImagePolicy(R"({"format":"auto","lean":"sharper","max_side":null})");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->format, ImageFormat::kUnknown);
  EXPECT_EQ(p->lean, Lean::kSharper);
  EXPECT_EQ(p->max_side, 0);
  p = ParseImagePolicy(R"({"format":"jpg","max_side":2048.0})");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->format, ImageFormat::kJpeg);
  EXPECT_EQ(p->max_side, 2048);
  ASSERT_TRUE(ParseImagePolicy("{}").ok());
}

TEST(ImagePolicy, ErrorsNameTheField) {
  struct Case {
    const char* json;
    const char* param;
  };
  for (const Case& c :
       {Case{R"({"max_side":-1})", "image_policy.max_side"},
        Case{R"({"max_side":"big"})", "image_policy.max_side"},
        Case{R"({"max_side":1.5})", "image_policy.max_side"},
        Case{R"({"max_side":99999999999999999999})", "image_policy.max_side"},
        Case{R"({"quality":101})", "image_policy.quality"},
        Case{R"({"format":"gif"})", "image_policy.format"},
        Case{R"({"format":1})", "image_policy.format"},
        Case{R"({"detail":"medium"})", "image_policy.detail"},
        Case{R"({"lean":"fast"})", "image_policy.lean"},
        Case{R"({"force":"yes"})", "image_policy.force"},
        Case{R"({"maxside":10})", "image_policy.maxside"}, Case{R"([1,2])", "image_policy"},
        Case{R"({"max_side":)", "image_policy"}}) {
    auto p = ParseImagePolicy(c.json);
    ASSERT_FALSE(p.ok()) << c.json;
    EXPECT_EQ(p.error().param, c.param) << c.json;
    EXPECT_EQ(p.error().code, "invalid_image_policy");
    EXPECT_EQ(p.error().kind, ErrorKind::kInvalidRequest);
  }
}

TEST(ImagePolicy, RequestOverridesModelConfig) {
  ImagePolicy base;
  base.max_side = 1024;
  base.quality = 70;
  base.format = ImageFormat::kWebp;
  base.lean = Lean::kSmaller;
  base.detail = "high";
  ImagePolicy over;
  over.quality = 90;
  over.detail = "low";
  ImagePolicy m = MergePolicy(base, over);
  EXPECT_EQ(m.max_side, 1024);  // not set in the request: inherited
  EXPECT_EQ(m.quality, 90);
  EXPECT_EQ(m.format, ImageFormat::kWebp);
  EXPECT_EQ(m.detail, "low");
  EXPECT_EQ(m.lean, Lean::kSmaller);
  EXPECT_FALSE(m.force);
  over.lean = Lean::kSharper;
  over.format = ImageFormat::kPng;
  over.force = true;
  m = MergePolicy(base, over);
  EXPECT_EQ(m.lean, Lean::kSharper);
  EXPECT_EQ(m.format, ImageFormat::kPng);
  EXPECT_TRUE(m.force);
}

}  // namespace
}  // namespace modelmux::media
