#pragma once
// Test and benchmark helpers: images made with libvips itself (no files checked in). Header-only,
// included only by *_test.cpp and *_benchmark.cpp of the media layer. Every helper aborts the
// test binary on a libvips failure (these are fixtures, not the code under test).

#include <vips/vips.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "media/image_vips.hpp"

namespace modelmux::media::testing {

using vips_detail::ImagePtr;

inline void Check(int rc, const char* what) {
  if (rc != 0) {
    std::fprintf(stderr, "libvips fixture %s failed: %s\n", what, vips_error_buffer());
    std::abort();
  }
}

inline ImagePtr Own(VipsImage* image) {
  return ImagePtr(image);
}

// A photo-like sRGB image: colour gradients plus gaussian noise (so JPEG cannot squeeze it).
inline ImagePtr Photo(int width, int height, double noise = 12.0) {
  if (!vips_detail::EnsureVips().ok()) std::abort();
  VipsImage *xyz, *x, *y, *r, *g, *sum, *b, *rgb, *n, *noisy, *u, *out;
  VipsImage* channels[3];
  Check(vips_xyz(&xyz, width, height, nullptr), "xyz");
  Check(vips_extract_band(xyz, &x, 0, nullptr), "x");
  Check(vips_extract_band(xyz, &y, 1, nullptr), "y");
  Check(vips_linear1(x, &r, 255.0 / width, 0.0, nullptr), "r");
  Check(vips_linear1(y, &g, 255.0 / height, 0.0, nullptr), "g");
  Check(vips_add(x, y, &sum, nullptr), "sum");
  Check(vips_linear1(sum, &b, -255.0 / (width + height), 255.0, nullptr), "b");
  channels[0] = r;
  channels[1] = g;
  channels[2] = b;
  Check(vips_bandjoin(channels, &rgb, 3, nullptr), "rgb");
  Check(vips_gaussnoise(&n, width, height, "sigma", noise, "mean", 0.0, nullptr), "noise");
  Check(vips_add(rgb, n, &noisy, nullptr), "noisy");
  Check(vips_cast(noisy, &u, VIPS_FORMAT_UCHAR, nullptr), "cast");
  Check(vips_copy(u, &out, "interpretation", VIPS_INTERPRETATION_sRGB, nullptr), "copy");
  VipsImage* mem = vips_image_copy_memory(out);
  for (VipsImage* i : {xyz, x, y, r, g, sum, b, rgb, n, noisy, u, out}) g_object_unref(i);
  if (mem == nullptr) std::abort();
  return Own(mem);
}

// A flat image of `bands` bands, every pixel `value`, with the given interpretation and format.
inline ImagePtr Flat(int width, int height, std::vector<double> value, VipsInterpretation type,
                     VipsBandFormat format = VIPS_FORMAT_UCHAR) {
  if (!vips_detail::EnsureVips().ok()) std::abort();
  VipsImage *black, *lin, *cast, *out;
  Check(vips_black(&black, width, height, "bands", static_cast<int>(value.size()), nullptr),
        "black");
  std::vector<double> zero(value.size(), 1.0);
  Check(
      vips_linear(black, &lin, zero.data(), value.data(), static_cast<int>(value.size()), nullptr),
      "linear");
  Check(vips_cast(lin, &cast, format, nullptr), "cast");
  Check(vips_copy(cast, &out, "interpretation", type, nullptr), "copy");
  VipsImage* mem = vips_image_copy_memory(out);
  for (VipsImage* i : {black, lin, cast, out}) g_object_unref(i);
  if (mem == nullptr) std::abort();
  return Own(mem);
}

// Appends an alpha band: a left-to-right ramp 0..255 (real alpha) or constant 255 (opaque).
inline ImagePtr WithAlpha(VipsImage* rgb, bool opaque) {
  const int w = vips_image_get_width(rgb);
  const int h = vips_image_get_height(rgb);
  VipsImage *xyz, *x, *a, *ua, *joined, *out;
  Check(vips_xyz(&xyz, w, h, nullptr), "xyz");
  Check(vips_extract_band(xyz, &x, 0, nullptr), "x");
  Check(vips_linear1(x, &a, opaque ? 0.0 : 255.0 / (w - 1), opaque ? 255.0 : 0.0, nullptr), "a");
  Check(vips_cast(a, &ua, VIPS_FORMAT_UCHAR, nullptr), "ua");
  Check(vips_bandjoin2(rgb, ua, &joined, nullptr), "join");
  Check(vips_copy(joined, &out, "interpretation", VIPS_INTERPRETATION_sRGB, nullptr), "copy");
  VipsImage* mem = vips_image_copy_memory(out);
  for (VipsImage* i : {xyz, x, a, ua, joined, out}) g_object_unref(i);
  return Own(mem);
}

// A copy with one integer metadata field set (e.g. "orientation", "page-height").
inline ImagePtr WithInt(VipsImage* in, const char* field, int value) {
  VipsImage* out;
  Check(vips_copy(in, &out, nullptr), "copy");
  vips_image_set_int(out, field, value);
  return Own(out);
}

inline std::string Take(void* buf, size_t len) {
  std::string s(static_cast<const char*>(buf), len);
  g_free(buf);
  return s;
}

inline std::string Jpeg(VipsImage* in, int q = 90, bool interlace = false) {
  void* buf;
  size_t len;
  Check(
      vips_jpegsave_buffer(in, &buf, &len, "Q", q, "interlace", interlace ? TRUE : FALSE, nullptr),
      "jpegsave");
  return Take(buf, len);
}

inline std::string Png(VipsImage* in, int bitdepth = 8, int compression = 6) {
  void* buf;
  size_t len;
  Check(vips_pngsave_buffer(in, &buf, &len, "bitdepth", bitdepth, "compression", compression,
                            nullptr),
        "pngsave");
  return Take(buf, len);
}

inline std::string Webp(VipsImage* in, int q = 80) {
  void* buf;
  size_t len;
  Check(vips_webpsave_buffer(in, &buf, &len, "Q", q, nullptr), "webpsave");
  return Take(buf, len);
}

inline std::string Gif(VipsImage* in) {
  void* buf;
  size_t len;
  Check(vips_gifsave_buffer(in, &buf, &len, nullptr), "gifsave");
  return Take(buf, len);
}

inline std::string Tiff(VipsImage* in) {
  void* buf;
  size_t len;
  Check(vips_tiffsave_buffer(in, &buf, &len, nullptr), "tiffsave");
  return Take(buf, len);
}

// HEIC (HEVC) or AVIF (AV1); empty when this libvips/libheif cannot encode it.
inline std::string Heif(VipsImage* in, bool av1) {
  void* buf = nullptr;
  size_t len = 0;
  const int rc = vips_heifsave_buffer(
      in, &buf, &len, "compression",
      av1 ? VIPS_FOREIGN_HEIF_COMPRESSION_AV1 : VIPS_FOREIGN_HEIF_COMPRESSION_HEVC, "Q", 60,
      nullptr);
  if (rc != 0) {
    vips_error_clear();
    return {};
  }
  return Take(buf, len);
}

// BMP through ImageMagick; empty when libvips has no magick saver.
inline std::string Bmp(VipsImage* in) {
  void* buf = nullptr;
  size_t len = 0;
  if (vips_magicksave_buffer(in, &buf, &len, "format", "bmp", nullptr) != 0) {
    vips_error_clear();
    return {};
  }
  return Take(buf, len);
}

// Decodes fully (for assertions on the output of NormalizeImage).
inline ImagePtr Decode(const std::string& bytes) {
  VipsImage* im = vips_image_new_from_buffer(bytes.data(), bytes.size(), "", nullptr);
  if (im == nullptr) return nullptr;
  VipsImage* mem = vips_image_copy_memory(im);
  g_object_unref(im);
  return Own(mem);
}

inline std::vector<double> Pixel(VipsImage* im, int x, int y) {
  double* v = nullptr;
  int n = 0;
  Check(vips_getpoint(im, &v, &n, x, y, nullptr), "getpoint");
  std::vector<double> out(v, v + n);
  g_free(v);
  return out;
}

}  // namespace modelmux::media::testing
