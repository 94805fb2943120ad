// ProbeImage and NormalizeImage (see media/image.hpp): header checks, the "already fits" test,
// then decode, orient, convert, shrink and re-encode with libvips.

#include "media/image.hpp"

#include <algorithm>
#include <cmath>

#include "media/image_vips.hpp"

namespace modelmux::media {
namespace {

using vips_detail::ImagePtr;

constexpr int kMaxEncodes = 6;
constexpr int kQualityStep = 12;
constexpr int kMinQuality = 50;
constexpr int kLowDetailSide = 512;
constexpr int kSmallerSide = 1024;
// Balanced target for a provider that publishes no side it really uses: larger images mostly
// cost upload time and (tiled) tokens, and 2048 px is what OpenAI's high detail keeps.
constexpr int kBalancedSide = 2048;

Error Bad(std::string message, std::string_view param, std::string_view code) {
  return InvalidRequest(std::move(message), std::string(param), std::string(code));
}

// The smaller of two limits where 0 means "none".
int MinLimit(int a, int b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return std::min(a, b);
}

int DefaultQuality(Lean lean) {
  switch (lean) {
    case Lean::kSmaller:
      return 70;
    case Lean::kSharper:
      return 90;
    case Lean::kBalanced:
      break;
  }
  return 82;
}

// Longest side the output may have; 0 = no limit.
int TargetSide(const ImageLimits& limits, const ImagePolicy& policy) {
  int side = policy.max_side;
  if (side == 0) {
    const int provider_target = limits.target_side != 0 ? limits.target_side : limits.max_side;
    switch (policy.lean) {
      case Lean::kSmaller:
        side = MinLimit(provider_target, kSmallerSide);
        break;
      case Lean::kSharper:
        side = limits.max_side;
        break;
      case Lean::kBalanced:
        side =
            limits.target_side != 0 ? limits.target_side : MinLimit(limits.max_side, kBalancedSide);
        break;
    }
  }
  if (policy.detail == "low") side = MinLimit(side, kLowDetailSide);
  return MinLimit(side, limits.max_side);
}

bool Accepts(const ImageLimits& limits, ImageFormat format) {
  return limits.accepted.empty() ||
         std::find(limits.accepted.begin(), limits.accepted.end(), format) != limits.accepted.end();
}

bool SwapsSides(int orientation) {
  return orientation >= 5 && orientation <= 8;
}

bool AlreadyFits(const ImageInfo& info, const ImageLimits& limits, const ImagePolicy& policy,
                 int target_side) {
  if (policy.force || !Accepts(limits, info.format)) return false;
  if (policy.format != ImageFormat::kUnknown && policy.format != info.format) return false;
  if (limits.max_bytes != 0 && info.bytes > limits.max_bytes) return false;
  if (target_side != 0 && std::max(info.width, info.height) > target_side) return false;
  if (limits.max_pixels != 0 &&
      static_cast<int64_t>(info.width) * info.height > limits.max_pixels) {
    return false;
  }
  if (info.orientation != 1 || info.interpretation == "cmyk") return false;
  if (info.frames > 1) {
    const bool animation = info.format == ImageFormat::kGif || info.format == ImageFormat::kWebp;
    if (!animation || !limits.accepts_animation) return false;
  }
  return true;
}

// Box (longest side) the decoded, oriented image is shrunk into.
int ShrinkBox(int width, int height, int target_side, int64_t max_pixels) {
  const int longest = std::max(width, height);
  double scale = 1.0;
  if (target_side != 0 && longest > target_side) scale = double(target_side) / longest;
  const double pixels = double(width) * height * scale * scale;
  bool by_pixels = false;
  if (max_pixels != 0 && pixels > double(max_pixels)) {
    scale = std::sqrt(double(max_pixels) / (double(width) * height));
    by_pixels = true;
  }
  // One pixel of margin when the pixel count decides, for the rounding of the short side.
  const int box = static_cast<int>(std::floor(longest * scale)) - (by_pixels ? 1 : 0);
  return std::max(box, 1);
}

// Wraps the output of a libvips operation; `out` is read after the operation ran.
Result<ImagePtr> Step(int rc, VipsImage* const* out, std::string_view what) {
  if (rc != 0) return Internal(std::string(what) + " failed: " + vips_detail::TakeError());
  return ImagePtr(*out);
}

// Decodes the first frame, oriented, shrunk into `box`, as 8-bit sRGB or grey, in memory.
Result<ImagePtr> DecodeShrunk(std::string_view bytes, ImageFormat format, int box,
                              std::string_view param) {
  VipsImage* raw = nullptr;
  // Same loader as OpenImage chose (checked by the caller); decoding stops at the first error.
  if (vips_thumbnail_buffer(const_cast<char*>(bytes.data()), bytes.size(), &raw, box, "height", box,
                            "size", VIPS_SIZE_DOWN, "option_string", "fail_on=error",
                            nullptr) != 0) {
    return Bad("The " + std::string(ImageFormatName(format)) +
                   " image cannot be decoded: " + vips_detail::TakeError(),
               param, "image_unreadable");
  }
  ImagePtr image(raw);
  const VipsInterpretation type = vips_image_get_interpretation(image.get());
  const bool grey = type == VIPS_INTERPRETATION_B_W || type == VIPS_INTERPRETATION_GREY16;
  const VipsInterpretation want = grey ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB;
  if (type != want || vips_image_get_format(image.get()) != VIPS_FORMAT_UCHAR) {
    VipsImage* out = nullptr;
    MM_TRY(image, Step(vips_colourspace(image.get(), &out, want, nullptr), &out, "colourspace"));
  }
  if (vips_image_get_format(image.get()) != VIPS_FORMAT_UCHAR) {
    VipsImage* out = nullptr;
    MM_TRY(image, Step(vips_cast(image.get(), &out, VIPS_FORMAT_UCHAR, nullptr), &out, "cast"));
  }
  // All pixels are decoded here: a truncated or corrupt input fails now.
  VipsImage* mem = vips_image_copy_memory(image.get());
  if (mem == nullptr) {
    return Bad("The " + std::string(ImageFormatName(format)) +
                   " image cannot be decoded: " + vips_detail::TakeError(),
               param, "image_unreadable");
  }
  return ImagePtr(mem);
}

// Some pixel is not fully opaque.
Result<bool> AlphaUsed(VipsImage* image) {
  if (!vips_image_hasalpha(image)) return false;
  VipsImage* band = nullptr;
  MM_TRY(ImagePtr alpha,
         Step(vips_extract_band(image, &band, vips_image_get_bands(image) - 1, nullptr), &band,
              "extract_band"));
  double min = 0;
  if (vips_min(alpha.get(), &min, nullptr) != 0) {
    return Internal("min failed: " + vips_detail::TakeError());
  }
  return min < 255.0;
}

Result<ImagePtr> Flatten(VipsImage* image) {
  VipsArrayDouble* white = vips_array_double_newv(1, 255.0);
  VipsImage* out = nullptr;
  const int rc = vips_flatten(image, &out, "background", white, nullptr);
  vips_area_unref(VIPS_AREA(white));
  return Step(rc, &out, "flatten");
}

ImageFormat ChooseFormat(const ImageLimits& limits, const ImagePolicy& policy, bool alpha_used) {
  if (policy.format != ImageFormat::kUnknown && Accepts(limits, policy.format)) {
    return policy.format;
  }
  if (alpha_used && Accepts(limits, ImageFormat::kPng)) return ImageFormat::kPng;
  for (ImageFormat f : {ImageFormat::kJpeg, ImageFormat::kWebp, ImageFormat::kPng}) {
    if (Accepts(limits, f)) return f;
  }
  return ImageFormat::kUnknown;
}

}  // namespace

Result<ImageInfo> ProbeImage(std::string_view bytes, std::string_view param) {
  if (bytes.empty()) return Bad("The image is empty", param, "empty_image");
  ImageInfo info;
  info.format = SniffImageFormat(bytes);
  info.bytes = bytes.size();
  if (info.format == ImageFormat::kUnknown) {
    return Bad("The image format is not recognised (by its first bytes)", param,
               "unsupported_image_format");
  }
  MM_TRY(ImagePtr image, vips_detail::OpenImage(bytes, info.format, param));
  VipsImage* im = image.get();
  info.width = vips_image_get_width(im);
  info.height = vips_image_get_height(im);
  info.frames = std::max(1, vips_image_get_n_pages(im));
  info.has_alpha = vips_image_hasalpha(im) != 0;
  info.bands = vips_image_get_bands(im);
  const char* nick = vips_enum_nick(VIPS_TYPE_INTERPRETATION, vips_image_get_interpretation(im));
  info.interpretation = nick != nullptr ? nick : "";
  info.orientation = vips_image_get_orientation(im);
  return info;
}

Result<NormalizedImage> NormalizeImage(std::string_view bytes, const ImageLimits& limits,
                                       const ImagePolicy& policy, std::string_view param) {
  if (!limits.accepts_images) {
    return Bad("This provider does not take image input", param, "image_input_unsupported");
  }
  MM_TRY(const ImageInfo info, ProbeImage(bytes, param));
  NormalizedImage result;
  result.bytes_before = info.bytes;
  result.format_before = info.format;
  result.width_before = info.width;
  result.height_before = info.height;
  // Decompression bombs: refused on the header's word, before any pixel is decoded.
  if (info.width > kMaxDecodeSide || info.height > kMaxDecodeSide ||
      int64_t{info.width} * info.height > kMaxDecodePixels) {
    return Bad("The image is " + std::to_string(info.width) + "x" + std::to_string(info.height) +
                   " pixels; at most " + std::to_string(kMaxDecodePixels) + " pixels and " +
                   std::to_string(kMaxDecodeSide) + " per side are decoded",
               param, "image_too_large");
  }
  const int target_side = TargetSide(limits, policy);
  if (AlreadyFits(info, limits, policy, target_side)) {
    result.format = info.format;
    result.width = SwapsSides(info.orientation) ? info.height : info.width;
    result.height = SwapsSides(info.orientation) ? info.width : info.height;
    return result;
  }

  const bool swap = SwapsSides(info.orientation);
  const int box = ShrinkBox(swap ? info.height : info.width, swap ? info.width : info.height,
                            target_side, limits.max_pixels);
  MM_TRY(ImagePtr image, DecodeShrunk(bytes, info.format, box, param));
  MM_TRY(const bool alpha_used, AlphaUsed(image.get()));
  const ImageFormat out_format = ChooseFormat(limits, policy, alpha_used);
  if (out_format == ImageFormat::kUnknown) {
    return Bad("The provider accepts none of the formats we encode (jpeg, png, webp)", param,
               "unsupported_image_format");
  }
  const bool keep_alpha = alpha_used && out_format != ImageFormat::kJpeg;
  if (vips_image_hasalpha(image.get()) && !keep_alpha) {
    MM_TRY(image, Flatten(image.get()));
  }
  // Over max_pixels by rounding of the short side: one more small step.
  if (limits.max_pixels != 0 &&
      int64_t{vips_image_get_width(image.get())} * vips_image_get_height(image.get()) >
          limits.max_pixels) {
    const double scale =
        std::sqrt(double(limits.max_pixels) / (double(vips_image_get_width(image.get())) *
                                               vips_image_get_height(image.get()))) *
        0.995;
    VipsImage* out = nullptr;
    MM_TRY(image,
           Step(vips_resize(image.get(), &out, scale, "kernel", VIPS_KERNEL_LANCZOS3, nullptr),
                &out, "resize"));
  }

  const bool lossy = out_format != ImageFormat::kPng;
  int quality = policy.quality != 0 ? policy.quality : DefaultQuality(policy.lean);
  size_t smallest = 0;
  for (int attempt = 0; attempt < kMaxEncodes; ++attempt) {
    MM_TRY(std::string encoded, vips_detail::Encode(image.get(), out_format, quality));
    if (limits.max_bytes == 0 || encoded.size() <= limits.max_bytes) {
      result.bytes = std::move(encoded);
      result.format = out_format;
      result.width = vips_image_get_width(image.get());
      result.height = vips_image_get_height(image.get());
      result.changed = true;
      result.quality = lossy ? quality : 0;
      return result;
    }
    smallest = smallest == 0 ? encoded.size() : std::min(smallest, encoded.size());
    if (lossy && quality > kMinQuality) {
      quality = std::max(kMinQuality, quality - kQualityStep);
      continue;
    }
    // Bytes scale roughly with the pixel count: shrink both sides by sqrt of the excess.
    const double ratio = double(limits.max_bytes) / double(encoded.size());
    const double scale = std::clamp(std::sqrt(ratio) * 0.9, 0.5, 0.85);
    if (std::max(vips_image_get_width(image.get()), vips_image_get_height(image.get())) < 16) {
      break;
    }
    VipsImage* out = nullptr;
    MM_TRY(image,
           Step(vips_resize(image.get(), &out, scale, "kernel", VIPS_KERNEL_LANCZOS3, nullptr),
                &out, "resize"));
    VipsImage* mem = vips_image_copy_memory(image.get());
    if (mem == nullptr) return Internal("resize failed: " + vips_detail::TakeError());
    image.reset(mem);
  }
  return Bad("The image does not fit in " + std::to_string(limits.max_bytes) +
                 " bytes; the smallest encoding was " + std::to_string(smallest) + " bytes",
             param, "image_too_large");
}

}  // namespace modelmux::media
