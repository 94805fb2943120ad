// libFuzzer target: videos from callers are untrusted bytes. Every input goes through
// media::ProbeVideo and media::SampleFrames (at most 2 frames, 5 s). Neither may crash, hang or
// leak; every error must be one of the documented codes of media/video.hpp; and the frames
// produced must be JPEGs of the size they claim, in time order, within the limits asked for.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "media/image.hpp"
#include "media/video.hpp"

using namespace modelmux;  // NOLINT

namespace {

bool KnownCode(const Error& e) {
  if (e.kind != ErrorKind::kInvalidRequest) return false;
  for (std::string_view code : {"empty_video", "unsupported_video_format", "video_unreadable",
                                "video_too_long", "video_too_large"}) {
    if (e.code == code) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto info = media::ProbeVideo(in);
  if (info.ok()) {
    if (info->bytes != size || info->container.empty()) __builtin_trap();
  } else if (!KnownCode(info.error())) {
    __builtin_trap();
  }

  media::SampleOptions options;
  options.max_frames = 2;
  options.max_duration_s = 5;
  auto sampled = media::SampleFrames(in, options);
  if (!sampled.ok()) {
    if (!KnownCode(sampled.error())) __builtin_trap();
    return 0;
  }
  if (sampled->frames.empty() || sampled->frames.size() > 2) __builtin_trap();
  double last = -1;
  for (const auto& f : sampled->frames) {
    if (f.timestamp_s < last) __builtin_trap();
    last = f.timestamp_s;
    if (std::max(f.width, f.height) > options.max_side) __builtin_trap();
    auto jpeg = media::ProbeImage(f.jpeg);
    if (!jpeg.ok() || jpeg->format != media::ImageFormat::kJpeg || jpeg->width != f.width ||
        jpeg->height != f.height) {
      __builtin_trap();
    }
  }
  return 0;
}
