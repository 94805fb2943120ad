// Video sampling cost on the 4 s, 160x120, 10 fps synthetic clip of the tests: probe only, even
// mode (8 frames) and scene mode, per container. Each run checks that it got its frames.

#include <benchmark/benchmark.h>

#include <map>
#include <string>

#include "media/video.hpp"
#include "media/video_test_clip.hpp"

namespace modelmux::media {
namespace {

const std::string& Clip(const char* muxer, const char* encoder) {
  static std::map<std::string, std::string> clips;
  std::string& bytes = clips[std::string(muxer) + "/" + encoder];
  if (bytes.empty()) {
    testclip::ClipSpec spec;
    spec.muxer = muxer;
    spec.encoder = encoder;
    bytes = testclip::MakeClip(spec).bytes;
  }
  return bytes;
}

void BM_Probe(benchmark::State& state, const char* muxer, const char* encoder) {
  const std::string& clip = Clip(muxer, encoder);
  for (auto _ : state) {
    auto info = ProbeVideo(clip);
    if (!info.ok()) state.SkipWithError("probe failed");
    benchmark::DoNotOptimize(info);
  }
}

void BM_Sample(benchmark::State& state, const char* muxer, const char* encoder, SampleMode mode) {
  const std::string& clip = Clip(muxer, encoder);
  if (clip.empty()) {
    state.SkipWithError("encoder not available");
    return;
  }
  SampleOptions o;
  o.max_frames = 8;
  o.mode = mode;
  for (auto _ : state) {
    auto v = SampleFrames(clip, o);
    if (!v.ok() || v->frames.empty()) state.SkipWithError("sampling failed");
    benchmark::DoNotOptimize(v);
  }
}

BENCHMARK_CAPTURE(BM_Probe, mp4_mpeg4, "mp4", "mpeg4")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Sample, even_mp4_mpeg4, "mp4", "mpeg4", SampleMode::kEven)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Sample, scene_mp4_mpeg4, "mp4", "mpeg4", SampleMode::kScene)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Sample, even_avi_mjpeg, "avi", "mjpeg", SampleMode::kEven)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Sample, even_mp4_h264, "mp4", "libx264", SampleMode::kEven)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Sample, even_webm_vp9, "webm", "libvpx-vp9", SampleMode::kEven)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace modelmux::media
