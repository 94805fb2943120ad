#include "media/local_file.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "media/image.hpp"
#include "media/prepare.hpp"
#include "media/video.hpp"

namespace modelmux::media {
namespace {

Error Bad(std::string message, std::string_view param, std::string code) {
  Error e = InvalidRequest(std::move(message), std::string(param));
  e.code = std::move(code);
  return e;
}

}  // namespace

Result<std::string> MediaArgToUrl(std::string_view arg, MediaArgKind kind, uint64_t max_bytes,
                                  std::string_view param) {
  if (arg.starts_with("http://") || arg.starts_with("https://") || arg.starts_with("data:")) {
    return std::string(arg);
  }
  const std::string path(arg);
  if (param.empty()) param = path;
  std::ifstream in(path, std::ios::binary);
  if (!in) return Bad("cannot read '" + path + "'", param, "file_unreadable");
  in.seekg(0, std::ios::end);
  const auto size = static_cast<uint64_t>(in.tellg());
  if (size > max_bytes) {
    Error e = Bad("'" + path + "' is " + std::to_string(size) + " bytes; at most " +
                      std::to_string(max_bytes) + " are read",
                  param, "media_too_large");
    e.kind = ErrorKind::kPayloadTooLarge;
    return e;
  }
  in.seekg(0);
  std::string bytes(size, '\0');
  if (size > 0 && !in.read(bytes.data(), static_cast<std::streamsize>(size))) {
    return Bad("cannot read '" + path + "'", param, "file_unreadable");
  }
  if (kind == MediaArgKind::kImage) {
    const ImageFormat f = SniffImageFormat(bytes);
    if (f == ImageFormat::kUnknown) {
      return Bad("'" + path +
                     "' is not an image this build reads (jpeg, png, webp, gif, heif, "
                     "avif, tiff, bmp)",
                 param, "unsupported_image_format");
    }
    return MakeDataUrl(ImageMime(f), bytes);
  }
  if (!LooksLikeVideo(bytes)) {
    return Bad("'" + path + "' is not a video this build reads (mp4, mov, webm, mkv, avi)", param,
               "unsupported_video_format");
  }
  auto info = ProbeVideo(bytes);
  if (!info.ok()) {
    Error e = std::move(info).error();
    e.param = std::string(param);
    return e;
  }
  return MakeDataUrl(info->mime.empty() ? "video/mp4" : info->mime, bytes);
}

}  // namespace modelmux::media
