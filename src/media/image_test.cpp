// NormalizeImage and ProbeImage on images made with libvips in the test (media/image_testing.hpp).

#include "media/image.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "media/image_testing.hpp"
#include "media/limits.hpp"

namespace modelmux::media {
namespace {

using testing::Decode;
using testing::Flat;
using testing::Photo;
using testing::Pixel;

ImageLimits Limits(std::vector<ImageFormat> accepted, size_t max_bytes = 0, int max_side = 0) {
  ImageLimits l;
  l.accepted = std::move(accepted);
  l.max_bytes = max_bytes;
  l.max_side = max_side;
  return l;
}

const std::vector<ImageFormat> kJpegPng = {ImageFormat::kJpeg, ImageFormat::kPng};

ImagePolicy Force() {
  ImagePolicy p;
  p.force = true;
  return p;
}

bool HasExif(VipsImage* im) {
  return vips_image_get_typeof(im, VIPS_META_EXIF_NAME) != 0;
}

Result<NormalizedImage> Normalize(const std::string& bytes, const ImageLimits& limits,
                                  const ImagePolicy& policy = {}) {
  return NormalizeImage(bytes, limits, policy, "messages[0].content[1].image_url");
}

void ExpectError(const Result<NormalizedImage>& r, std::string_view code) {
  ASSERT_FALSE(r.ok()) << "expected " << code;
  EXPECT_EQ(r.error().code, code) << r.error().message;
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidRequest);
  EXPECT_EQ(r.error().param, "messages[0].content[1].image_url");
}

TEST(ProbeImage, ReadsTheHeaderOfEachFormat) {
  auto photo = Photo(320, 200);
  auto info = ProbeImage(testing::Jpeg(photo.get()));
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->format, ImageFormat::kJpeg);
  EXPECT_EQ(info->width, 320);
  EXPECT_EQ(info->height, 200);
  EXPECT_EQ(info->bands, 3);
  EXPECT_EQ(info->interpretation, "srgb");
  EXPECT_FALSE(info->has_alpha);
  EXPECT_EQ(info->orientation, 1);
  EXPECT_EQ(info->frames, 1);

  auto cmyk = Flat(64, 48, {255, 0, 0, 0}, VIPS_INTERPRETATION_CMYK);
  info = ProbeImage(testing::Jpeg(cmyk.get()));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->interpretation, "cmyk");
  EXPECT_EQ(info->bands, 4);
  EXPECT_FALSE(info->has_alpha);

  auto deep = Flat(30, 20, {32768, 1000, 65535}, VIPS_INTERPRETATION_RGB16, VIPS_FORMAT_USHORT);
  info = ProbeImage(testing::Png(deep.get(), 16));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->format, ImageFormat::kPng);
  EXPECT_EQ(info->interpretation, "rgb16");

  auto alpha = testing::WithAlpha(photo.get(), false);
  info = ProbeImage(testing::Png(alpha.get()));
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->has_alpha);
  EXPECT_EQ(info->bands, 4);

  auto rotated = testing::WithInt(photo.get(), "orientation", 6);
  info = ProbeImage(testing::Jpeg(rotated.get()));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->orientation, 6);
  EXPECT_EQ(info->width, 320);  // as stored
}

TEST(ProbeImage, CountsTheFramesOfAnAnimatedGif) {
  auto strip = Photo(40, 90);  // three 40x30 frames
  auto paged = testing::WithInt(strip.get(), "page-height", 30);
  auto info = ProbeImage(testing::Gif(paged.get()));
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->format, ImageFormat::kGif);
  EXPECT_EQ(info->frames, 3);
  EXPECT_EQ(info->width, 40);
  EXPECT_EQ(info->height, 30);
}

TEST(NormalizeImage, LeavesAFittingImageUntouched) {
  auto photo = Photo(800, 600);
  const std::string jpeg = testing::Jpeg(photo.get());
  auto r = Normalize(jpeg, ImageLimitsFor("anthropic"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->changed);
  EXPECT_TRUE(r->bytes.empty());
  EXPECT_EQ(r->Bytes(jpeg), jpeg);
  EXPECT_EQ(r->format, ImageFormat::kJpeg);
  EXPECT_EQ(r->format_before, ImageFormat::kJpeg);
  EXPECT_EQ(r->width, 800);
  EXPECT_EQ(r->height, 600);
  EXPECT_EQ(r->bytes_before, jpeg.size());
}

TEST(NormalizeImage, ShrinksALargeJpegToTheTargetSideAndStripsMetadata) {
  auto photo = Photo(3000, 2000);
  auto tagged = testing::WithInt(photo.get(), "orientation", 1);  // carries EXIF when saved
  const std::string jpeg = testing::Jpeg(tagged.get());
  {
    auto in = Decode(jpeg);
    ASSERT_TRUE(HasExif(in.get()));
  }
  const ImageLimits& limits = ImageLimitsFor("anthropic");
  auto r = Normalize(jpeg, limits);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->changed);
  EXPECT_EQ(r->format, ImageFormat::kJpeg);
  // libvips 8.14's thumbnail may round the long side one pixel under the box, never over.
  EXPECT_GE(r->width, 1567);
  EXPECT_LE(r->width, 1568);
  EXPECT_NEAR(r->height, 1045, 1);  // 2000 * 1568 / 3000 = 1045.3
  EXPECT_EQ(r->quality, 82);
  EXPECT_LE(r->bytes.size(), limits.max_bytes);
  EXPECT_EQ(r->width_before, 3000);
  auto out = Decode(r->bytes);
  ASSERT_TRUE(out);
  EXPECT_EQ(vips_image_get_width(out.get()), r->width);
  EXPECT_FALSE(HasExif(out.get()));
  EXPECT_EQ(vips_image_get_typeof(out.get(), VIPS_META_ICC_NAME), 0u);
}

TEST(NormalizeImage, DecodesAProgressiveJpeg) {
  auto photo = Photo(2400, 1200);
  const std::string jpeg = testing::Jpeg(photo.get(), 90, /*interlace=*/true);
  auto r = Normalize(jpeg, ImageLimitsFor("anthropic"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->changed);
  EXPECT_EQ(r->width, 1568);
  EXPECT_EQ(r->height, 784);
}

TEST(NormalizeImage, ConvertsCmykToSrgb) {
  auto cmyk = Flat(200, 100, {255, 0, 0, 0}, VIPS_INTERPRETATION_CMYK);  // pure cyan ink
  const std::string jpeg = testing::Jpeg(cmyk.get(), 95);
  auto r = Normalize(jpeg, ImageLimitsFor("openai"));  // fits by size, but CMYK
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->changed);
  auto out = Decode(r->bytes);
  EXPECT_EQ(vips_image_get_bands(out.get()), 3);
  EXPECT_EQ(vips_image_get_interpretation(out.get()), VIPS_INTERPRETATION_sRGB);
  const auto px = Pixel(out.get(), 100, 50);
  EXPECT_LT(px[0], 100);  // cyan: little red, much green and blue
  EXPECT_GT(px[1], 120);
  EXPECT_GT(px[2], 180);
}

TEST(NormalizeImage, AppliesExifOrientationSoSidesSwap) {
  auto photo = Photo(400, 200);
  auto rotated = testing::WithInt(photo.get(), "orientation", 6);
  const std::string jpeg = testing::Jpeg(rotated.get());
  auto r = Normalize(jpeg, ImageLimitsFor("anthropic"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->changed);
  EXPECT_EQ(r->width, 200);
  EXPECT_EQ(r->height, 400);
  EXPECT_EQ(r->width_before, 400);
  auto info = ProbeImage(r->bytes);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->width, 200);
  EXPECT_EQ(info->height, 400);
  EXPECT_EQ(info->orientation, 1);
}

TEST(NormalizeImage, TurnsAnOpaquePngIntoJpeg) {
  auto photo = Photo(1800, 600);
  const std::string png = testing::Png(photo.get());
  auto r = Normalize(png, ImageLimitsFor("anthropic"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->format_before, ImageFormat::kPng);
  EXPECT_EQ(r->format, ImageFormat::kJpeg);
  EXPECT_EQ(r->width, 1568);
  EXPECT_LT(r->bytes.size(), png.size());

  auto opaque = testing::WithAlpha(photo.get(), /*opaque=*/true);
  r = Normalize(testing::Png(opaque.get()), ImageLimitsFor("anthropic"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->format, ImageFormat::kJpeg);
  EXPECT_EQ(vips_image_get_bands(Decode(r->bytes).get()), 3);
}

TEST(NormalizeImage, KeepsRealAlphaAsPng) {
  auto photo = Photo(2000, 500);
  auto alpha = testing::WithAlpha(photo.get(), /*opaque=*/false);
  auto r = Normalize(testing::Png(alpha.get()), ImageLimitsFor("anthropic"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->format, ImageFormat::kPng);
  EXPECT_EQ(r->quality, 0);
  EXPECT_EQ(r->width, 1568);
  auto out = Decode(r->bytes);
  ASSERT_EQ(vips_image_get_bands(out.get()), 4);
  EXPECT_LT(Pixel(out.get(), 0, 10)[3], 10);      // left edge transparent
  EXPECT_GT(Pixel(out.get(), 1567, 10)[3], 245);  // right edge opaque
}

TEST(NormalizeImage, FlattensAlphaOnWhiteWhenPngIsNotAccepted) {
  auto black = Flat(300, 100, {0, 0, 0}, VIPS_INTERPRETATION_sRGB);
  auto alpha = testing::WithAlpha(black.get(), /*opaque=*/false);
  auto r = Normalize(testing::Png(alpha.get()), Limits({ImageFormat::kJpeg}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->format, ImageFormat::kJpeg);
  auto out = Decode(r->bytes);
  EXPECT_GT(Pixel(out.get(), 0, 50)[0], 240);   // transparent black -> white
  EXPECT_LT(Pixel(out.get(), 299, 50)[0], 15);  // opaque black stays black
}

TEST(NormalizeImage, Reduces16BitPngTo8BitWithoutClipping) {
  auto deep = Flat(300, 200, {32768, 0, 65535}, VIPS_INTERPRETATION_RGB16, VIPS_FORMAT_USHORT);
  ImagePolicy policy = Force();
  policy.format = ImageFormat::kPng;
  auto r = Normalize(testing::Png(deep.get(), 16), ImageLimitsFor("openai"), policy);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->format, ImageFormat::kPng);
  auto info = ProbeImage(r->bytes);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->interpretation, "srgb");
  const auto px = Pixel(Decode(r->bytes).get(), 10, 10);
  EXPECT_NEAR(px[0], 128, 2);
  EXPECT_NEAR(px[1], 0, 2);
  EXPECT_NEAR(px[2], 255, 2);
}

TEST(NormalizeImage, WebpStaysWhenAcceptedAndIsWrittenWhenAsked) {
  auto photo = Photo(640, 480);
  const std::string webp = testing::Webp(photo.get());
  EXPECT_EQ(SniffImageFormat(webp), ImageFormat::kWebp);
  auto r = Normalize(webp, ImageLimitsFor("gemini"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->changed);

  r = Normalize(webp, ImageLimitsFor("default"));  // JPEG/PNG only
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->format, ImageFormat::kJpeg);

  ImagePolicy policy;
  policy.format = ImageFormat::kWebp;
  policy.max_side = 320;
  r = Normalize(testing::Jpeg(photo.get()), ImageLimitsFor("openai"), policy);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->format, ImageFormat::kWebp);
  EXPECT_EQ(SniffImageFormat(r->bytes), ImageFormat::kWebp);
  EXPECT_EQ(r->width, 320);
  EXPECT_EQ(r->height, 240);
}

TEST(NormalizeImage, GifIsKeptOrReducedToItsFirstFrame) {
  auto photo = Photo(200, 150);
  const std::string still = testing::Gif(photo.get());
  auto r = Normalize(still, ImageLimitsFor("openai"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->changed);
  r = Normalize(still, ImageLimitsFor("gemini"));  // no GIF there
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->format, ImageFormat::kJpeg);

  auto strip = Photo(40, 90);
  auto paged = testing::WithInt(strip.get(), "page-height", 30);
  const std::string animated = testing::Gif(paged.get());
  r = Normalize(animated, ImageLimitsFor("openai"));  // GIF yes, animation no
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->changed);
  EXPECT_EQ(r->width, 40);
  EXPECT_EQ(r->height, 30);
  auto info = ProbeImage(r->bytes);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->frames, 1);

  ImageLimits animation = ImageLimitsFor("openai");
  animation.accepts_animation = true;
  r = Normalize(animated, animation);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->changed);
}

TEST(NormalizeImage, HeicAndAvif) {
  auto photo = Photo(320, 200);
  const std::string heic = testing::Heif(photo.get(), /*av1=*/false);
  if (heic.empty()) GTEST_SKIP() << "libheif here cannot encode HEVC";
  EXPECT_EQ(SniffImageFormat(heic), ImageFormat::kHeif);
  EXPECT_TRUE(vips_detail::LoaderMatches(heic, ImageFormat::kHeif));
  auto r = Normalize(heic, ImageLimitsFor("gemini"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->changed);
  r = Normalize(heic, ImageLimitsFor("openai"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->format, ImageFormat::kJpeg);
  EXPECT_EQ(r->width, 320);
  EXPECT_EQ(r->height, 200);

  const std::string avif = testing::Heif(photo.get(), /*av1=*/true);
  if (avif.empty()) GTEST_SKIP() << "libheif here cannot encode AV1";
  EXPECT_EQ(SniffImageFormat(avif), ImageFormat::kAvif);
  r = Normalize(avif, ImageLimitsFor("anthropic"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->format_before, ImageFormat::kAvif);
  EXPECT_EQ(r->format, ImageFormat::kJpeg);
}

TEST(NormalizeImage, TiffAndBmpBecomeJpegWhereNotAccepted) {
  auto photo = Photo(300, 200);
  const std::string tiff = testing::Tiff(photo.get());
  EXPECT_EQ(SniffImageFormat(tiff), ImageFormat::kTiff);
  auto r = Normalize(tiff, ImageLimitsFor("openai"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->format, ImageFormat::kJpeg);
  EXPECT_EQ(r->width, 300);
  r = Normalize(tiff, ImageLimitsFor("dashscope"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->changed);

  const std::string bmp = testing::Bmp(photo.get());
  if (bmp.empty()) GTEST_SKIP() << "no BMP writer (ImageMagick) in this libvips";
  EXPECT_EQ(SniffImageFormat(bmp), ImageFormat::kBmp);
  r = Normalize(bmp, ImageLimitsFor("anthropic"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->format, ImageFormat::kJpeg);
  EXPECT_EQ(r->height, 200);
}

TEST(NormalizeImage, RefusesCorruptAndTruncatedData) {
  auto photo = Photo(800, 600);
  const std::string jpeg = testing::Jpeg(photo.get());
  ExpectError(Normalize(jpeg.substr(0, jpeg.size() / 2), ImageLimitsFor("openai"), Force()),
              "image_unreadable");
  ExpectError(Normalize(jpeg.substr(0, 40), ImageLimitsFor("openai")), "image_unreadable");
  const std::string png = testing::Png(photo.get());
  ExpectError(Normalize(png.substr(0, png.size() * 2 / 3), ImageLimitsFor("openai"), Force()),
              "image_unreadable");
  // Bytes overwritten in the middle of the PNG data: the zlib stream or a CRC breaks.
  std::string broken = png;
  for (size_t i = broken.size() / 2; i < broken.size() / 2 + 64; ++i) broken[i] ^= 0x5A;
  ExpectError(Normalize(broken, ImageLimitsFor("openai"), Force()), "image_unreadable");
  // A JPEG whose start-of-frame segment is garbage.
  std::string bad_sof = jpeg;
  const size_t sof = bad_sof.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  for (size_t i = sof + 4; i < sof + 10; ++i) bad_sof[i] = '\0';
  ExpectError(Normalize(bad_sof, ImageLimitsFor("openai"), Force()), "image_unreadable");
}

TEST(NormalizeImage, RefusesEmptyAndUnknownInput) {
  ExpectError(Normalize("", ImageLimitsFor("openai")), "empty_image");
  ExpectError(Normalize("hello, this is not an image at all", ImageLimitsFor("openai")),
              "unsupported_image_format");
  ExpectError(Normalize("<svg xmlns='http://www.w3.org/2000/svg'/>", ImageLimitsFor("openai")),
              "unsupported_image_format");
  auto photo = Photo(50, 50);
  ExpectError(Normalize(testing::Jpeg(photo.get()), ImageLimitsFor("deepseek")),
              "image_input_unsupported");
}

// A PNG whose header declares width x height, with an empty zlib stream for data.
std::string PngHeader(uint32_t width, uint32_t height) {
  auto crc32 = [](std::string_view data) {
    uint32_t c = 0xFFFFFFFFu;
    for (unsigned char b : data) {
      c ^= b;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
  };
  auto be32 = [](uint32_t v) {
    return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  };
  auto chunk = [&](std::string_view type, std::string_view data) {
    const std::string body = std::string(type) + std::string(data);
    return be32(static_cast<uint32_t>(data.size())) + body + be32(crc32(body));
  };
  const std::string ihdr = be32(width) + be32(height) + std::string("\x08\x02\x00\x00\x00", 5);
  return std::string("\x89PNG\r\n\x1A\n", 8) + chunk("IHDR", ihdr) +
         chunk("IDAT", std::string("\x78\x9C\x03\x00\x00\x00\x00\x01", 8)) + chunk("IEND", "");
}

TEST(NormalizeImage, RefusesDecompressionBombsBeforeDecoding) {
  const std::string bomb = PngHeader(30000, 30000);
  auto info = ProbeImage(bomb);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->width, 30000);
  const auto start = std::chrono::steady_clock::now();
  const auto r = Normalize(bomb, ImageLimitsFor("openai"));
  ExpectError(r, "image_too_large");
  EXPECT_NE(r.error().message.find("30000x30000"), std::string::npos) << r.error().message;
  // Refused on the header's word: decoding 900 MP would take far longer than this.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  // Under the side limit but over the pixel limit (12000 x 9000 = 108 MP).
  ExpectError(Normalize(PngHeader(12000, 9000), ImageLimitsFor("openai"), Force()),
              "image_too_large");
  // A real (tiny-on-disk) PNG just inside the limits is decoded.
  auto black = Flat(10000, 1000, {0}, VIPS_INTERPRETATION_B_W);
  auto r2 = Normalize(testing::Png(black.get(), 8, 9), ImageLimitsFor("anthropic"));
  ASSERT_TRUE(r2.ok()) << r2.error().message;
  EXPECT_EQ(r2->width, 1568);
}

TEST(NormalizeImage, TheBytesDecideTheFormatNotTheMimeType) {
  auto photo = Photo(300, 300);
  const std::string png = testing::Png(photo.get());
  EXPECT_EQ(ImageFormatFromMime("image/jpeg"), ImageFormat::kJpeg);  // what the client claimed
  auto r = Normalize(png, Limits({ImageFormat::kJpeg}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->format_before, ImageFormat::kPng);
  EXPECT_TRUE(r->changed);  // a PNG is not accepted, whatever the label said
  EXPECT_EQ(SniffImageFormat(r->bytes), ImageFormat::kJpeg);
}

TEST(NormalizeImage, NeverUpscales) {
  auto photo = Photo(300, 200);
  auto r = Normalize(testing::Jpeg(photo.get()), ImageLimitsFor("anthropic"), Force());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->changed);
  EXPECT_EQ(r->width, 300);
  EXPECT_EQ(r->height, 200);
}

TEST(NormalizeImage, DetailLowLeanAndPolicySideChooseTheSize) {
  auto photo = Photo(3200, 1600);
  const std::string jpeg = testing::Jpeg(photo.get());
  ImagePolicy low;
  low.detail = "low";
  auto r = Normalize(jpeg, ImageLimitsFor("openai"), low);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->width, 512);
  EXPECT_EQ(r->height, 256);

  ImagePolicy smaller;
  smaller.lean = Lean::kSmaller;
  r = Normalize(jpeg, ImageLimitsFor("anthropic"), smaller);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->width, 1024);
  EXPECT_EQ(r->quality, 70);

  ImagePolicy sharper;
  sharper.lean = Lean::kSharper;
  r = Normalize(jpeg, ImageLimitsFor("anthropic"), sharper);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->changed);  // 3200 px is within Anthropic's 8000 px and 3.75 MiB
  r = Normalize(jpeg, ImageLimitsFor("openai"), sharper);  // no max side: nothing to do
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->changed);

  ImagePolicy side;
  side.max_side = 9000;  // above the provider's limit: the provider wins
  r = Normalize(testing::Jpeg(Photo(9000, 100).get()), ImageLimitsFor("anthropic"), side);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->width, 8000);
  side.max_side = 1000;
  side.quality = 40;
  r = Normalize(jpeg, ImageLimitsFor("anthropic"), side);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->width, 1000);
  EXPECT_EQ(r->quality, 40);
}

TEST(NormalizeImage, KeepsWithinMaxPixels) {
  auto photo = Photo(2000, 1000);
  ImageLimits limits = Limits(kJpegPng);
  limits.max_pixels = 500'000;
  auto r = Normalize(testing::Jpeg(photo.get()), limits);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_LE(int64_t{r->width} * r->height, 500'000);
  EXPECT_GE(int64_t{r->width} * r->height, 480'000);
  EXPECT_NEAR(double(r->width) / r->height, 2.0, 0.01);
}

TEST(NormalizeImage, StepsQualityThenSizeDownToFitMaxBytes) {
  auto photo = Photo(1568, 1000, 40.0);  // very noisy: large JPEGs
  const std::string jpeg = testing::Jpeg(photo.get(), 95);
  ImageLimits limits = Limits(kJpegPng, 120'000);
  auto r = Normalize(jpeg, limits);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_LE(r->bytes.size(), 120'000u);
  EXPECT_LT(r->width, 1568);  // quality alone was not enough
  EXPECT_EQ(r->quality, 50);

  limits.max_bytes = 300;
  auto bad = Normalize(jpeg, limits);
  ExpectError(bad, "image_too_large");
  EXPECT_NE(bad.error().message.find("300 bytes"), std::string::npos) << bad.error().message;
}

TEST(NormalizeImage, LeavesNoLibvipsObjectsBehind) {
  auto photo = Photo(700, 500);
  const std::string jpeg = testing::Jpeg(photo.get());
  const std::string png = testing::Png(testing::WithAlpha(photo.get(), false).get());
  const int objects = vips_detail::LiveObjects();
  ASSERT_GT(objects, 0);  // the fixtures above are counted, so the count is real
  const int allocs = vips_detail::TrackedAllocations();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Normalize(jpeg, ImageLimitsFor("anthropic"), Force()).ok());
    ASSERT_TRUE(Normalize(png, ImageLimitsFor("bedrock"), Force()).ok());
    ASSERT_FALSE(
        Normalize(jpeg.substr(0, jpeg.size() / 2), ImageLimitsFor("openai"), Force()).ok());
    ASSERT_FALSE(Normalize(jpeg, Limits(kJpegPng, 200)).ok());
    ASSERT_TRUE(ProbeImage(png).ok());
  }
  EXPECT_EQ(vips_detail::LiveObjects(), objects);
  EXPECT_EQ(vips_detail::TrackedAllocations(), allocs);
}

}  // namespace
}  // namespace modelmux::media
