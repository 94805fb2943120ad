// Image format names, MIME types and magic-byte sniffing (no decoding).

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>

#include "media/image.hpp"

namespace modelmux::media {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

uint32_t Be32(std::string_view b, size_t at) {
  return static_cast<uint32_t>(static_cast<unsigned char>(b[at])) << 24 |
         static_cast<uint32_t>(static_cast<unsigned char>(b[at + 1])) << 16 |
         static_cast<uint32_t>(static_cast<unsigned char>(b[at + 2])) << 8 |
         static_cast<uint32_t>(static_cast<unsigned char>(b[at + 3]));
}

uint32_t Le32(std::string_view b, size_t at) {
  return static_cast<uint32_t>(static_cast<unsigned char>(b[at])) |
         static_cast<uint32_t>(static_cast<unsigned char>(b[at + 1])) << 8 |
         static_cast<uint32_t>(static_cast<unsigned char>(b[at + 2])) << 16 |
         static_cast<uint32_t>(static_cast<unsigned char>(b[at + 3])) << 24;
}

bool IsAvifBrand(std::string_view brand) {
  return brand == "avif" || brand == "avis";
}

bool IsHeifBrand(std::string_view brand) {
  static constexpr std::array<std::string_view, 8> kBrands = {"heic", "heix", "hevc", "hevx",
                                                              "heim", "heis", "mif1", "msf1"};
  for (std::string_view b : kBrands) {
    if (brand == b) return true;
  }
  return false;
}

// ISO-BMFF: [u32 size]["ftyp"][major brand][u32 minor][compatible brands...].
ImageFormat SniffFtyp(std::string_view b) {
  if (b.size() < 16 || b.substr(4, 4) != "ftyp") return ImageFormat::kUnknown;
  const std::string_view major = b.substr(8, 4);
  if (IsAvifBrand(major)) return ImageFormat::kAvif;
  size_t box = Be32(b, 0);
  if (box < 16 || box > b.size()) box = std::min<size_t>(b.size(), 256);
  bool heif = IsHeifBrand(major);
  for (size_t at = 16; at + 4 <= box; at += 4) {
    const std::string_view brand = b.substr(at, 4);
    // mif1 files list what codes them: an AV1 one is AVIF.
    if (IsAvifBrand(brand)) return ImageFormat::kAvif;
    heif = heif || IsHeifBrand(brand);
  }
  return heif ? ImageFormat::kHeif : ImageFormat::kUnknown;
}

}  // namespace

std::string_view ImageFormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg:
      return "jpeg";
    case ImageFormat::kPng:
      return "png";
    case ImageFormat::kWebp:
      return "webp";
    case ImageFormat::kGif:
      return "gif";
    case ImageFormat::kHeif:
      return "heif";
    case ImageFormat::kAvif:
      return "avif";
    case ImageFormat::kTiff:
      return "tiff";
    case ImageFormat::kBmp:
      return "bmp";
    case ImageFormat::kUnknown:
      break;
  }
  return "unknown";
}

std::string_view ImageMime(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg:
      return "image/jpeg";
    case ImageFormat::kPng:
      return "image/png";
    case ImageFormat::kWebp:
      return "image/webp";
    case ImageFormat::kGif:
      return "image/gif";
    case ImageFormat::kHeif:
      return "image/heic";
    case ImageFormat::kAvif:
      return "image/avif";
    case ImageFormat::kTiff:
      return "image/tiff";
    case ImageFormat::kBmp:
      return "image/bmp";
    case ImageFormat::kUnknown:
      break;
  }
  return "application/octet-stream";
}

ImageFormat ImageFormatFromMime(std::string_view mime) {
  if (const size_t semi = mime.find(';'); semi != std::string_view::npos)
    mime = mime.substr(0, semi);
  const std::string m = Lower(Trim(mime));
  if (m == "image/jpeg" || m == "image/jpg" || m == "image/pjpeg") return ImageFormat::kJpeg;
  if (m == "image/png" || m == "image/x-png") return ImageFormat::kPng;
  if (m == "image/webp") return ImageFormat::kWebp;
  if (m == "image/gif") return ImageFormat::kGif;
  if (m == "image/heic" || m == "image/heif" || m == "image/heic-sequence" ||
      m == "image/heif-sequence") {
    return ImageFormat::kHeif;
  }
  if (m == "image/avif") return ImageFormat::kAvif;
  if (m == "image/tiff" || m == "image/tif") return ImageFormat::kTiff;
  if (m == "image/bmp" || m == "image/x-ms-bmp" || m == "image/x-bmp") return ImageFormat::kBmp;
  return ImageFormat::kUnknown;
}

ImageFormat ImageFormatFromName(std::string_view name) {
  const std::string n = Lower(Trim(name));
  if (n == "jpeg" || n == "jpg") return ImageFormat::kJpeg;
  if (n == "png") return ImageFormat::kPng;
  if (n == "webp") return ImageFormat::kWebp;
  if (n == "gif") return ImageFormat::kGif;
  if (n == "heif" || n == "heic") return ImageFormat::kHeif;
  if (n == "avif") return ImageFormat::kAvif;
  if (n == "tiff" || n == "tif") return ImageFormat::kTiff;
  if (n == "bmp") return ImageFormat::kBmp;
  return ImageFormat::kUnknown;
}

ImageFormat SniffImageFormat(std::string_view b) {
  if (b.size() >= 3 && b.substr(0, 3) == "\xFF\xD8\xFF") return ImageFormat::kJpeg;
  if (b.size() >= 8 && b.substr(0, 8) == std::string_view("\x89PNG\r\n\x1A\n", 8)) {
    return ImageFormat::kPng;
  }
  if (b.size() >= 12 && b.substr(0, 4) == "RIFF" && b.substr(8, 4) == "WEBP") {
    return ImageFormat::kWebp;
  }
  if (b.size() >= 6 && (b.substr(0, 6) == "GIF87a" || b.substr(0, 6) == "GIF89a")) {
    return ImageFormat::kGif;
  }
  if (b.size() >= 4 && (b.substr(0, 4) == std::string_view("II*\0", 4) ||
                        b.substr(0, 4) == std::string_view("MM\0*", 4))) {
    return ImageFormat::kTiff;
  }
  // BMP: "BM", then a file header whose pixel offset lies past the two headers (14 + >= 12).
  if (b.size() >= 26 && b.substr(0, 2) == "BM") {
    const uint32_t offset = Le32(b, 10);
    const uint32_t dib = Le32(b, 14);
    if (offset >= 26 && (dib == 12 || dib == 40 || dib == 52 || dib == 56 || dib == 64 ||
                         dib == 108 || dib == 124)) {
      return ImageFormat::kBmp;
    }
    return ImageFormat::kUnknown;
  }
  return SniffFtyp(b);
}

}  // namespace modelmux::media
