// libFuzzer target: images from callers are untrusted bytes. Every input goes through
// media::ProbeImage and media::NormalizeImage with Anthropic's limits (the smallest common target:
// 1568 px, about 3.75 MB, JPEG/PNG/GIF/WebP) and the default policy (plus `force` on odd-sized
// inputs, so that images that already fit are decoded too). Neither may crash, hang or leak; every
// error must be one of the documented codes of media/image.hpp; and whatever is produced must fit
// the limits and read back as the image it claims to be.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "media/image.hpp"
#include "media/limits.hpp"

using namespace modelmux;  // NOLINT

namespace {

bool KnownCode(const Error& e) {
  if (e.kind != ErrorKind::kInvalidRequest) return false;
  for (std::string_view code : {"empty_image", "unsupported_image_format", "image_unreadable",
                                "image_too_large", "image_input_unsupported"}) {
    if (e.code == code) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto info = media::ProbeImage(in);
  if (info.ok()) {
    if (info->width <= 0 || info->height <= 0 || info->frames < 1) __builtin_trap();
    if (info->format != media::SniffImageFormat(in)) __builtin_trap();
  } else if (!KnownCode(info.error())) {
    __builtin_trap();
  }

  const media::ImageLimits& limits = media::ImageLimitsFor("anthropic");
  media::ImagePolicy policy;
  policy.force = size % 2 == 1;
  auto fitted = media::NormalizeImage(in, limits, policy, "messages[0].content[1].image_url");
  if (!fitted.ok()) {
    if (!KnownCode(fitted.error())) __builtin_trap();
    if (fitted.error().param != "messages[0].content[1].image_url") __builtin_trap();
    return 0;
  }
  // Something that normalises must also probe.
  if (!info.ok()) __builtin_trap();
  const std::string_view out = fitted->Bytes(in);
  if (out.size() > limits.max_bytes) __builtin_trap();
  if (std::find(limits.accepted.begin(), limits.accepted.end(), fitted->format) ==
      limits.accepted.end()) {
    __builtin_trap();
  }
  if (fitted->changed) {
    if (fitted->bytes.empty() || std::max(fitted->width, fitted->height) > limits.target_side) {
      __builtin_trap();
    }
    // A re-encoded image reads back as what it says it is.
    auto again = media::ProbeImage(fitted->bytes);
    if (!again.ok() || again->format != fitted->format || again->width != fitted->width ||
        again->height != fitted->height) {
      __builtin_trap();
    }
  }
  return 0;
}
