// libvips start-up, loader checks and encoders for the image code.

#include "media/image_vips.hpp"

#include <algorithm>
#include <cctype>
#include <mutex>

namespace modelmux::media::vips_detail {
namespace {

void DropLog(const gchar* /*domain*/, GLogLevelFlags /*level*/, const gchar* /*message*/,
             gpointer /*data*/) {}

bool StartVips() {
  if (VIPS_INIT("modelmux") != 0) return false;
  vips_concurrency_set(1);
  vips_cache_set_max(0);
  vips_cache_set_max_mem(0);
  vips_cache_set_max_files(0);
  g_log_set_handler(
      "VIPS",
      static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO),
      DropLog, nullptr);
  return true;
}

// The part of a loader's class name that names its format.
std::string_view LoaderKey(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg:
      return "jpeg";
    case ImageFormat::kPng:
      return "png";
    case ImageFormat::kWebp:
      return "webp";
    case ImageFormat::kGif:
      return "gif";  // VipsForeignLoadNsgifBuffer
    case ImageFormat::kHeif:
    case ImageFormat::kAvif:
      return "heif";
    case ImageFormat::kTiff:
      return "tiff";
    case ImageFormat::kBmp:
      return "magick";  // libvips reads BMP through ImageMagick
    case ImageFormat::kUnknown:
      break;
  }
  return {};
}

void* CountObject(void* /*object*/, void* a, void* /*b*/) {
  ++*static_cast<int*>(a);
  return nullptr;
}

}  // namespace

Status EnsureVips() {
  static std::once_flag once;
  static bool started = false;
  std::call_once(once, [] { started = StartVips(); });
  if (!started) return Internal("the image library (libvips) failed to start");
  return OkStatus();
}

std::string TakeError() {
  char* text = vips_error_buffer_copy();
  std::string s = text != nullptr ? text : "";
  g_free(text);
  if (const size_t nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  if (s.size() > 160) s.resize(160);
  return s.empty() ? std::string("unknown error") : s;
}

bool LoaderMatches(std::string_view bytes, ImageFormat format) {
  const std::string_view key = LoaderKey(format);
  if (key.empty() || bytes.empty()) return false;
  const char* name = vips_foreign_find_load_buffer(bytes.data(), bytes.size());
  if (name == nullptr) {
    vips_error_clear();
    return false;
  }
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find(key) != std::string::npos && lower.find("buffer") != std::string::npos;
}

Result<ImagePtr> OpenImage(std::string_view bytes, ImageFormat format, std::string_view param) {
  MM_RETURN_IF_ERROR(EnsureVips());
  if (!LoaderMatches(bytes, format)) {
    return InvalidRequest("No decoder for this " + std::string(ImageFormatName(format)) + " image",
                          std::string(param), "unsupported_image_format");
  }
  VipsImage* image =
      vips_image_new_from_buffer(bytes.data(), bytes.size(), "", "access", VIPS_ACCESS_SEQUENTIAL,
                                 "fail_on", VIPS_FAIL_ON_ERROR, nullptr);
  if (image == nullptr) {
    return InvalidRequest(
        "The " + std::string(ImageFormatName(format)) + " image cannot be read: " + TakeError(),
        std::string(param), "image_unreadable");
  }
  return ImagePtr(image);
}

Result<std::string> Encode(VipsImage* image, ImageFormat format, int quality) {
  MM_RETURN_IF_ERROR(EnsureVips());
  void* buf = nullptr;
  size_t len = 0;
  int rc = -1;
  const int q = std::clamp(quality, 1, 100);
  switch (format) {
    case ImageFormat::kJpeg:
      rc = vips_jpegsave_buffer(image, &buf, &len, "Q", q, "strip", TRUE, "optimize_coding", TRUE,
                                nullptr);
      break;
    case ImageFormat::kWebp:
      rc = vips_webpsave_buffer(image, &buf, &len, "Q", q, "strip", TRUE, nullptr);
      break;
    case ImageFormat::kPng:
      rc = vips_pngsave_buffer(image, &buf, &len, "compression", 6, "strip", TRUE, nullptr);
      break;
    default:
      return Internal("no encoder for " + std::string(ImageFormatName(format)));
  }
  const BufferPtr hold(buf);
  if (rc != 0) return Internal("image encoding failed: " + TakeError());
  return std::string(static_cast<const char*>(buf), len);
}

int LiveObjects() {
  int n = 0;
  vips_object_map(CountObject, &n, nullptr);
  return n;
}

int TrackedAllocations() {
  return vips_tracked_get_allocs();
}

}  // namespace modelmux::media::vips_detail
