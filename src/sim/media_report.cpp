#include "sim/media_report.hpp"

#include <cstdio>

#include "media/base64.hpp"
#include "media/image.hpp"
#include "media/prepare.hpp"
#include "media/video.hpp"

namespace modelmux::sim {

std::string DescribeMedia(MediaKind kind, std::string_view source, bool raw_base64,
                          std::string_view mime) {
  const char* name = kind == MediaKind::kImage ? "image" : "video";
  std::string_view payload;
  if (auto d = media::ParseDataUrl(source)) {
    payload = d->payload;
    if (mime.empty()) mime = d->mime;
  } else if (raw_base64) {
    payload = source;
  } else {
    return "[" + std::string(name) + ": url " + std::string(source.substr(0, 200)) + "]";
  }
  media::Base64DecodeOptions opts;
  opts.lenient = true;
  auto bytes = media::Base64Decode(payload, opts);
  if (!bytes.ok()) return "[" + std::string(name) + ": invalid base64]";
  return DescribeMediaBytes(kind, *bytes);
}

std::string DescribeMediaBytes(MediaKind kind, std::string_view bytes, std::string_view marker) {
  std::string size = std::to_string(bytes.size()) + " bytes";
  if (!marker.empty()) size += ", " + std::string(marker);
  const bool as_video = kind == MediaKind::kVideo ||
                        (media::SniffImageFormat(bytes) == media::ImageFormat::kUnknown &&
                         media::LooksLikeVideo(bytes));
  if (as_video) {
    auto info = media::ProbeVideo(bytes);
    if (!info.ok()) return "[video: unreadable (" + info.error().code + "), " + size + "]";
    char line[256];
    std::snprintf(line, sizeof line, "[video: %s %dx%d, %lld frames, %.1f s, %s]",
                  info->container.c_str(), info->width, info->height,
                  static_cast<long long>(info->frames), info->duration_s, size.c_str());
    return line;
  }
  auto info = media::ProbeImage(bytes);
  if (!info.ok()) return "[image: unreadable (" + info.error().code + "), " + size + "]";
  std::string line = "[image: " + std::string(media::ImageFormatName(info->format)) + " " +
                     std::to_string(info->width) + "x" + std::to_string(info->height);
  if (info->frames > 1) line += ", " + std::to_string(info->frames) + " frames";
  line += ", " + size + "]";
  return line;
}

}  // namespace modelmux::sim
