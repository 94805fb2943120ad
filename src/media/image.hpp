#pragma once
// Image probing and normalisation for multimodal input: every image a request carries is made to
// fit what one provider accepts (formats, bytes, pixels per side, pixel count), following an
// image policy (the model's config, overridden by the request's `image_policy`).
//
// Decoding uses libvips (C API) behind media/image_vips.hpp: one pipeline thread per call
// (vips_concurrency_set(1)), no operation cache, every image and buffer released before return.
// All functions are thread-safe and may run concurrently on worker threads; they block (decode
// and encode), so callers keep them off event-loop threads.
//
// Untrusted bytes: the format is decided by magic bytes only (the declared MIME type is ignored),
// only that format's loader is used, the header is checked against kMaxDecodePixels and
// kMaxDecodeSide before a single pixel is decoded, and decoding fails on the first error
// (truncated or corrupt data is an error, never a half image).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace modelmux::media {

enum class ImageFormat { kUnknown, kJpeg, kPng, kWebp, kGif, kHeif, kAvif, kTiff, kBmp };

// "jpeg", "png", "webp", "gif", "heif", "avif", "tiff", "bmp"; "unknown".
[[nodiscard]] std::string_view ImageFormatName(ImageFormat format);
// "image/jpeg", ... ; kHeif is "image/heic" (HEVC-coded HEIF, what phones write); kUnknown is
// "application/octet-stream".
[[nodiscard]] std::string_view ImageMime(ImageFormat format);
// Case-insensitive, parameters (";...") ignored. Accepts the usual aliases: image/jpg,
// image/pjpeg, image/heif, image/heic-sequence, image/x-ms-bmp, image/x-bmp. kUnknown otherwise.
[[nodiscard]] ImageFormat ImageFormatFromMime(std::string_view mime);
// A policy/config name ("jpeg" or "jpg", "png", "webp", ...) to a format; kUnknown otherwise.
[[nodiscard]] ImageFormat ImageFormatFromName(std::string_view name);
// From magic bytes only (no decoding): JPEG FF D8 FF, PNG signature, RIFF....WEBP, GIF87a/89a,
// ISO-BMFF "ftyp" with an AVIF brand (avif, avis) or a HEIF brand (heic, heix, hevc, hevx, heim,
// heis, mif1, msf1), TIFF II*\0 / MM\0*, BMP "BM" with a plausible header.
[[nodiscard]] ImageFormat SniffImageFormat(std::string_view bytes);

// Largest image the header may declare before we refuse to decode it (decompression bombs).
inline constexpr int64_t kMaxDecodePixels = 100'000'000;
inline constexpr int kMaxDecodeSide = 16384;

struct ImageInfo {
  ImageFormat format = ImageFormat::kUnknown;
  int width = 0, height = 0;  // as stored, before EXIF orientation is applied
  int frames = 1;             // pages of an animated GIF/WebP or a multi-image HEIF/TIFF
  bool has_alpha = false;     // an alpha band is present (it may still be fully opaque)
  int bands = 0;
  std::string interpretation;  // libvips' name: "srgb", "cmyk", "b-w", "rgb16", "grey16", ...
  int orientation = 1;         // EXIF orientation 1..8
  size_t bytes = 0;
};

// Reads the header only (no pixel decode). Errors (kInvalidRequest, `param`): "empty_image",
// "unsupported_image_format" (unknown magic bytes or no loader for it), "image_unreadable"
// (the header cannot be parsed). Does not apply the decode limits; NormalizeImage does.
[[nodiscard]] Result<ImageInfo> ProbeImage(std::string_view bytes,
                                           std::string_view param = "image");

// What one provider takes (see media/limits.hpp for the table). Zero means "no limit".
struct ImageLimits {
  size_t max_bytes = 0;               // encoded bytes per image (raw, i.e. before base64)
  int max_side = 0;                   // longest side in pixels the provider accepts
  int64_t max_pixels = 0;             // width * height
  int max_images = 0;                 // images per request (checked by the caller)
  std::vector<ImageFormat> accepted;  // empty: any format we can sniff
  // Longest side the provider actually uses (it downsamples anything larger itself), so the
  // balanced default target; 0: max_side.
  int target_side = 0;
  size_t max_total_bytes = 0;      // all images of one request (checked by the caller)
  bool accepts_animation = false;  // animated GIF/WebP kept; else reduced to the first frame
  bool accepts_images = true;      // false: the provider has no image input at all
};

// The trade-off the caller leans towards: smaller is faster to send, the model may see less.
//   kSmaller:  quality 70, longest side at most 1024 (below the provider's target)
//   kBalanced: quality 82, the provider's target side (target_side, else the smaller of
//              max_side and 2048 px)
//   kSharper:  quality 90, the provider's max_side (what it accepts, even if it downsamples)
enum class Lean { kBalanced, kSmaller, kSharper };

struct ImagePolicy {
  int max_side = 0;  // 0: by lean and provider; never above the provider's max_side
  int quality = 0;   // 1..100 for JPEG/WebP; 0: by lean
  ImageFormat format = ImageFormat::kUnknown;  // kJpeg, kWebp, kPng or kUnknown (auto)
  std::string detail;                          // "low" (longest side 512), "high", "auto", ""
  Lean lean = Lean::kBalanced;
  bool force = false;  // re-encode even if the image already fits
};

// {"max_side":1024,"quality":80,"format":"jpeg|webp|png|auto","detail":"low|high|auto",
//  "lean":"smaller|balanced|sharper","force":true}. Every key is optional; null means absent.
// Errors: kInvalidRequest, code "invalid_image_policy", param "image_policy.<field>" (or
// "image_policy" for non-object input); unknown keys are errors too.
[[nodiscard]] Result<ImagePolicy> ParseImagePolicy(std::string_view json_object);
// `override_` (the request's) over `base` (the model config's): each field of the override that
// is not at its default value wins (max_side/quality != 0, format != auto, detail != "",
// lean != kBalanced); force is or-ed. So a request cannot reset a configured lean to balanced.
[[nodiscard]] ImagePolicy MergePolicy(const ImagePolicy& base, const ImagePolicy& override_);

struct NormalizedImage {
  // The new encoding when `changed`. EMPTY when !changed: the input already fits and is to be
  // sent as it is (no copy is made); use Bytes(original) to get whichever applies.
  std::string bytes;
  ImageFormat format = ImageFormat::kUnknown;
  int width = 0, height = 0;  // as sent (after EXIF rotation)
  size_t bytes_before = 0;
  ImageFormat format_before = ImageFormat::kUnknown;
  int width_before = 0, height_before = 0;  // as stored in the input
  bool changed = false;
  int quality = 0;  // JPEG/WebP quality used when changed (0 for PNG or unchanged)

  [[nodiscard]] std::string_view Bytes(std::string_view original) const {
    return changed ? std::string_view(bytes) : original;
  }
};

// Makes one image fit `limits` under `policy`.
//
// Unchanged (changed=false, bytes empty) when all hold: not policy.force; the format is accepted
// (and equals policy.format if one is set); bytes <= max_bytes; longest side <= the target side;
// pixels <= max_pixels; EXIF orientation 1; not CMYK; one frame, or an animation the provider
// takes. EXIF and other metadata of an unchanged image are left as they are.
//
// Otherwise: decodes the first frame, applies the EXIF orientation, converts to 8-bit sRGB (or
// 8-bit grey), shrinks (never enlarges) so the longest side <= the target side and
// pixels <= max_pixels, and encodes without any metadata as: policy.format if set and accepted;
// else PNG when the alpha band is really used (some pixel not opaque) and PNG is accepted; else
// JPEG (alpha flattened on white). If the result is over max_bytes, lowers the quality and then
// the size, at most 6 encodings in all.
//
// Target side: the smallest non-zero of policy.max_side (else by lean, see Lean), 512 for
// detail "low", and limits.max_side.
//
// Errors, all kInvalidRequest naming `param` ("messages[0].content[1].image_url"):
// "empty_image"; "unsupported_image_format" (by magic bytes, or no accepted output format);
// "image_input_unsupported" (limits.accepts_images false); "image_too_large" (the header
// declares more than kMaxDecodePixels or kMaxDecodeSide, checked before decoding; or no
// encoding fits max_bytes, the message naming both sizes); "image_unreadable" (decoding failed,
// including truncated or corrupt data). kInternal if libvips cannot start or encode.
[[nodiscard]] Result<NormalizedImage> NormalizeImage(std::string_view bytes,
                                                     const ImageLimits& limits,
                                                     const ImagePolicy& policy,
                                                     std::string_view param = "image");

}  // namespace modelmux::media
