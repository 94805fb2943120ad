// make_photo WIDTH HEIGHT OUT.jpg [QUALITY]: writes a photo-like JPEG (gradients plus noise, so
// that JPEG cannot squeeze it) for benchmarks that need large real images, such as
// bench/media_memory.sh. Made with libvips; no image files are checked in.

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "media/image_testing.hpp"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: make_photo WIDTH HEIGHT OUT.jpg [QUALITY]\n");
    return 2;
  }
  const int width = std::atoi(argv[1]);
  const int height = std::atoi(argv[2]);
  const int quality = argc > 4 ? std::atoi(argv[4]) : 95;
  if (width <= 0 || height <= 0 || quality <= 0 || quality > 100) {
    std::fprintf(stderr, "make_photo: bad size or quality\n");
    return 2;
  }
  auto image = modelmux::media::testing::Photo(width, height, 40.0);
  const std::string jpeg = modelmux::media::testing::Jpeg(image.get(), quality);
  std::ofstream out(argv[3], std::ios::binary);
  out.write(jpeg.data(), static_cast<std::streamsize>(jpeg.size()));
  if (!out) {
    std::fprintf(stderr, "make_photo: cannot write %s\n", argv[3]);
    return 1;
  }
  std::printf("%s: %dx%d, %zu bytes\n", argv[3], width, height, jpeg.size());
  return 0;
}
