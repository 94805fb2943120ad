#pragma once
// Internal to the media layer (image code, its tests and benchmark): libvips start-up and owning
// holders for libvips objects. Other layers use media/image.hpp only.
//
// libvips is started once per process (std::call_once) with one worker thread per pipeline
// (vips_concurrency_set(1): callers bring their own threads) and no operation cache
// (vips_cache_set_max(0): memory stays bounded by what is in flight). Its warnings on hostile
// input are dropped rather than printed to stderr; failures reach callers as Error values.

#include <vips/vips.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "media/image.hpp"

namespace modelmux::media::vips_detail {

// Starts libvips on first use. kInternal if it cannot start (every later call says so too).
[[nodiscard]] Status EnsureVips();

struct ImageUnref {
  void operator()(VipsImage* image) const {
    if (image != nullptr) g_object_unref(image);
  }
};
using ImagePtr = std::unique_ptr<VipsImage, ImageUnref>;

struct GFree {
  void operator()(void* p) const { g_free(p); }
};
using BufferPtr = std::unique_ptr<void, GFree>;

// Takes (and clears) libvips' error text: its first line, at most 160 characters. The buffer is
// process-wide, so under concurrent failures a message may belong to another call.
[[nodiscard]] std::string TakeError();

// The libvips loader that would read `bytes` is the one for `format` (so no other loader, such as
// ImageMagick for a non-BMP, ever sees the bytes).
[[nodiscard]] bool LoaderMatches(std::string_view bytes, ImageFormat format);

// Opens the header with sequential access and fail_on=error; pixels are decoded only when the
// image is read. `bytes` must outlive the image (libvips does not copy them).
// Errors: "unsupported_image_format" (no matching loader), "image_unreadable".
[[nodiscard]] Result<ImagePtr> OpenImage(std::string_view bytes, ImageFormat format,
                                         std::string_view param);

// Encodes without metadata. `quality` is ignored for PNG. kInternal on failure.
[[nodiscard]] Result<std::string> Encode(VipsImage* image, ImageFormat format, int quality);

// Live libvips objects and tracked pixel allocations, for leak checks in tests.
[[nodiscard]] int LiveObjects();
[[nodiscard]] int TrackedAllocations();

}  // namespace modelmux::media::vips_detail
