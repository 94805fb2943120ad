// Image normalisation cost per input megapixel: a 12 MP photo-like JPEG (gradient + noise) to a
// 1568 px JPEG (Anthropic's target), a 4 MP PNG to JPEG, a 4 MP PNG with real alpha to PNG, and
// the header-only probe. Each iteration checks the answer (format and size).
//
// Counters: MP/s (input megapixels per second) and ms_per_MP (its inverse), both wall clock:
// libvips decodes on its own worker thread, so CPU time of the calling thread says little.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "media/image.hpp"
#include "media/image_testing.hpp"
#include "media/limits.hpp"

namespace modelmux::media {
namespace {

using Clock = std::chrono::steady_clock;

void Counters(benchmark::State& state, int width, int height, size_t in_bytes,
              Clock::duration elapsed) {
  const double mp = double(width) * height / 1e6;
  state.counters["MP/s"] =
      benchmark::Counter(mp * double(state.iterations()), benchmark::Counter::kIsRate);
  // Wall-clock milliseconds per input megapixel, measured around the loop.
  const double ms = std::chrono::duration<double, std::milli>(elapsed).count();
  state.counters["ms_per_MP"] = ms / (mp * double(std::max<int64_t>(1, state.iterations())));
  state.counters["in_MB"] = double(in_bytes) / 1e6;
}

void Run(benchmark::State& state, const std::string& input, ImageFormat want, int want_side,
         int width, int height) {
  const ImageLimits& limits = ImageLimitsFor("anthropic");
  size_t out_bytes = 0;
  const Clock::time_point start = Clock::now();
  for (auto _ : state) {
    auto r = NormalizeImage(input, limits, {});
    if (!r.ok() || r->format != want || std::max(r->width, r->height) < want_side - 1 ||
        std::max(r->width, r->height) > want_side) {
      const std::string why =
          r.ok() ? "unexpected output " + std::string(ImageFormatName(r->format)) + " " +
                       std::to_string(r->width) + "x" + std::to_string(r->height)
                 : r.error().message;
      state.SkipWithError(why.c_str());
      return;
    }
    out_bytes = r->bytes.size();
    benchmark::DoNotOptimize(r->bytes.data());
  }
  Counters(state, width, height, input.size(), Clock::now() - start);
  state.counters["out_KB"] = double(out_bytes) / 1e3;
}

void BM_Jpeg12MpTo1568(benchmark::State& state) {
  auto photo = testing::Photo(4000, 3000);
  const std::string jpeg = testing::Jpeg(photo.get(), 90);
  Run(state, jpeg, ImageFormat::kJpeg, 1568, 4000, 3000);
}
BENCHMARK(BM_Jpeg12MpTo1568)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Png4MpToJpeg(benchmark::State& state) {
  auto photo = testing::Photo(2400, 1680);
  const std::string png = testing::Png(photo.get());
  Run(state, png, ImageFormat::kJpeg, 1568, 2400, 1680);
}
BENCHMARK(BM_Png4MpToJpeg)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Png4MpAlphaToPng(benchmark::State& state) {
  auto photo = testing::Photo(2400, 1680, 0.0);  // no noise: a PNG that fits in 3.75 MiB
  auto alpha = testing::WithAlpha(photo.get(), /*opaque=*/false);
  const std::string png = testing::Png(alpha.get());
  Run(state, png, ImageFormat::kPng, 1568, 2400, 1680);
}
BENCHMARK(BM_Png4MpAlphaToPng)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Probe12MpJpeg(benchmark::State& state) {
  auto photo = testing::Photo(4000, 3000);
  const std::string jpeg = testing::Jpeg(photo.get(), 90);
  const Clock::time_point start = Clock::now();
  for (auto _ : state) {
    auto info = ProbeImage(jpeg);
    if (!info.ok() || info->width != 4000) {
      state.SkipWithError("probe failed");
      return;
    }
    benchmark::DoNotOptimize(info->width);
  }
  Counters(state, 4000, 3000, jpeg.size(), Clock::now() - start);
}
BENCHMARK(BM_Probe12MpJpeg)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace modelmux::media
