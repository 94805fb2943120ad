#include "media/video.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <map>
#include <ostream>
#include <random>
#include <set>
#include <string>

#include "media/video_av.hpp"
#include "media/video_test_clip.hpp"

namespace modelmux::media {
namespace {

using testclip::ClipSpec;

// Clips are made once per process and shared by the tests.
const std::string& ClipOrEmpty(const char* muxer, const char* encoder) {
  static std::map<std::pair<std::string, std::string>, std::string> cache;
  auto key = std::make_pair(std::string(muxer), std::string(encoder));
  auto it = cache.find(key);
  if (it == cache.end()) {
    ClipSpec spec;
    spec.muxer = muxer;
    spec.encoder = encoder;
    it = cache.emplace(key, testclip::MakeClip(spec).bytes).first;
  }
  return it->second;
}

const std::string& Mp4() {
  return ClipOrEmpty("mp4", "mpeg4");
}

struct Decoded {
  int width = 0;
  int height = 0;
  double mean_luma = 0;  // full range 0..255
};

// Decodes a JPEG back with FFmpeg's mjpeg decoder; width 0 when it does not decode.
Decoded DecodeJpeg(const std::string& jpeg) {
  using namespace video_av;
  Decoded out;
  const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_MJPEG);
  CodecPtr ctx(avcodec_alloc_context3(codec));
  if (avcodec_open2(ctx.get(), codec, nullptr) < 0) return out;
  PacketPtr pkt(av_packet_alloc());
  if (av_new_packet(pkt.get(), static_cast<int>(jpeg.size())) < 0) return out;
  std::memcpy(pkt->data, jpeg.data(), jpeg.size());
  FramePtr frame(av_frame_alloc());
  if (avcodec_send_packet(ctx.get(), pkt.get()) < 0) return out;
  if (avcodec_receive_frame(ctx.get(), frame.get()) < 0) return out;
  out.width = frame->width;
  out.height = frame->height;
  // Mean over the lower half of the picture (the moving square is near the top).
  double sum = 0;
  int n = 0;
  for (int y = frame->height / 2; y < frame->height; ++y) {
    for (int x = 0; x < frame->width; ++x) {
      sum += frame->data[0][static_cast<ptrdiff_t>(y) * frame->linesize[0] + x];
      ++n;
    }
  }
  out.mean_luma = n > 0 ? sum / n : 0;
  return out;
}

// Full-range luma expected for the scene at t, plus the texture's mean of 3.5. MJPEG clips are
// painted with the same numbers but are full range already.
double ExpectedFullLuma(double t, bool full_range_clip = false) {
  const double y = testclip::SceneLuma(t) + 3.5;
  return full_range_clip ? y : (y - 16) * 255.0 / 219.0;
}

void ExpectValidFrames(const SampledVideo& v, int width, int height) {
  double previous = -1;
  for (const VideoFrame& f : v.frames) {
    ASSERT_GE(f.jpeg.size(), 4u);
    EXPECT_EQ(static_cast<unsigned char>(f.jpeg[0]), 0xFF);
    EXPECT_EQ(static_cast<unsigned char>(f.jpeg[1]), 0xD8);
    EXPECT_EQ(static_cast<unsigned char>(f.jpeg[f.jpeg.size() - 2]), 0xFF);
    EXPECT_EQ(static_cast<unsigned char>(f.jpeg.back()), 0xD9);
    EXPECT_EQ(f.width, width);
    EXPECT_EQ(f.height, height);
    const Decoded d = DecodeJpeg(f.jpeg);
    EXPECT_EQ(d.width, width);
    EXPECT_EQ(d.height, height);
    EXPECT_GT(f.timestamp_s, previous);
    previous = f.timestamp_s;
  }
}

std::string CodeOf(std::string_view bytes) {
  auto r = SampleFrames(bytes, SampleOptions{});
  if (r.ok()) return "ok";
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidRequest);
  return r.error().code;
}

TEST(VideoTest, ClipsAreGenerated) {
  ASSERT_FALSE(Mp4().empty());
  ASSERT_FALSE(ClipOrEmpty("avi", "mpeg4").empty());
  ASSERT_FALSE(ClipOrEmpty("avi", "mjpeg").empty());
}

TEST(VideoTest, ProbeReportsTheStream) {
  auto info = ProbeVideo(Mp4());
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->container, "mp4");
  EXPECT_EQ(info->mime, "video/mp4");
  EXPECT_EQ(info->codec, "mpeg4");
  EXPECT_EQ(info->width, 160);
  EXPECT_EQ(info->height, 120);
  EXPECT_NEAR(info->duration_s, 4.0, 0.15);
  EXPECT_NEAR(info->fps, 10.0, 0.01);
  EXPECT_NEAR(static_cast<double>(info->frames), 40, 1);
  EXPECT_EQ(info->bytes, Mp4().size());
}

struct ContainerCase {
  const char* muxer;
  const char* encoder;
  const char* container;
  const char* codec;
  bool optional;  // the encoder may be missing from this FFmpeg build
};

void PrintTo(const ContainerCase& c, std::ostream* os) {
  *os << c.muxer << "/" << c.encoder;
}

class VideoContainerTest : public ::testing::TestWithParam<ContainerCase> {};

TEST_P(VideoContainerTest, ProbesAndSamples) {
  const ContainerCase& c = GetParam();
  const std::string& clip = ClipOrEmpty(c.muxer, c.encoder);
  if (clip.empty() && c.optional) GTEST_SKIP() << c.encoder << " not available";
  ASSERT_FALSE(clip.empty());
  EXPECT_TRUE(LooksLikeVideo(clip));
  auto info = ProbeVideo(clip);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->container, c.container);
  EXPECT_EQ(info->codec, c.codec);
  EXPECT_EQ(info->width, 160);
  EXPECT_NEAR(info->duration_s, 4.0, 0.25);
  SampleOptions o;
  o.max_frames = 4;
  auto v = SampleFrames(clip, o);
  ASSERT_TRUE(v.ok()) << v.error().message;
  ASSERT_EQ(v->frames.size(), 4u);
  ExpectValidFrames(*v, 160, 120);
  // The content at each timestamp is the scene shown then.
  for (const VideoFrame& f : v->frames) {
    const bool full_range = std::string_view(c.encoder) == "mjpeg";
    EXPECT_NEAR(DecodeJpeg(f.jpeg).mean_luma, ExpectedFullLuma(f.timestamp_s, full_range), 12)
        << "at " << f.timestamp_s;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Containers, VideoContainerTest,
    ::testing::Values(ContainerCase{"mp4", "mpeg4", "mp4", "mpeg4", false},
                      ContainerCase{"avi", "mpeg4", "avi", "mpeg4", false},
                      ContainerCase{"avi", "mjpeg", "avi", "mjpeg", false},
                      ContainerCase{"matroska", "mpeg4", "matroska", "mpeg4", false},
                      ContainerCase{"mpegts", "mpeg4", "mpegts", "mpeg4", false},
                      ContainerCase{"mov", "mpeg4", "mov", "mpeg4", false},
                      ContainerCase{"mp4", "libx264", "mp4", "h264", true},
                      ContainerCase{"webm", "libvpx", "webm", "vp8", true},
                      ContainerCase{"webm", "libvpx-vp9", "webm", "vp9", true}),
    [](const auto& test) {
      std::string name = std::string(test.param.muxer) + "_" + test.param.encoder;
      for (char& ch : name) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return name;
    });

TEST(VideoTest, EvenModeSpreadsFramesOverTheDuration) {
  SampleOptions o;
  o.max_frames = 4;
  auto v = SampleFrames(Mp4(), o);
  ASSERT_TRUE(v.ok()) << v.error().message;
  ASSERT_EQ(v->frames.size(), 4u);
  ExpectValidFrames(*v, 160, 120);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_NEAR(v->frames[i].timestamp_s, (i + 0.5) * 1.0, 0.11) << i;
    EXPECT_LT(v->frames[i].timestamp_s, 4.0);
  }
  EXPECT_NEAR(v->info.duration_s, 4.0, 0.15);
}

// A 60 s clip: targets 15 s apart, so even mode seeks to each keyframe instead of decoding all.
TEST(VideoTest, EvenModeOnALongClipSeeks) {
  ClipSpec spec;
  spec.width = 64;
  spec.height = 48;
  spec.fps = 5;
  spec.seconds = 60;
  for (const char* muxer : {"mp4", "matroska", "avi", "mpegts"}) {
    spec.muxer = muxer;
    const testclip::Clip clip = testclip::MakeClip(spec);
    ASSERT_FALSE(clip.bytes.empty()) << clip.error;
    SampleOptions o;
    o.max_frames = 4;
    auto v = SampleFrames(clip.bytes, o);
    ASSERT_TRUE(v.ok()) << v.error().message;
    ASSERT_EQ(v->frames.size(), 4u) << muxer;
    ExpectValidFrames(*v, 64, 48);
    for (size_t i = 0; i < 4; ++i) {
      EXPECT_NEAR(v->frames[i].timestamp_s, (i + 0.5) * 15.0, 0.21) << muxer << " " << i;
    }
  }
}

TEST(VideoTest, FpsTakesOneFrameEverySecond) {
  SampleOptions o;
  o.fps = 1;
  auto v = SampleFrames(Mp4(), o);
  ASSERT_TRUE(v.ok()) << v.error().message;
  ASSERT_EQ(v->frames.size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(v->frames[i].timestamp_s, i * 1.0, 0.11) << i;
}

TEST(VideoTest, FpsCappedByMaxFramesSpreadsEvenly) {
  SampleOptions o;
  o.fps = 5;  // would be 20 frames
  o.max_frames = 2;
  auto v = SampleFrames(Mp4(), o);
  ASSERT_TRUE(v.ok()) << v.error().message;
  ASSERT_EQ(v->frames.size(), 2u);
  EXPECT_NEAR(v->frames[0].timestamp_s, 1.0, 0.11);
  EXPECT_NEAR(v->frames[1].timestamp_s, 3.0, 0.11);
}

TEST(VideoTest, FramesAreScaledDownNeverUp) {
  SampleOptions o;
  o.max_frames = 2;
  o.max_side = 768;
  auto big = SampleFrames(Mp4(), o);
  ASSERT_TRUE(big.ok());
  ExpectValidFrames(*big, 160, 120);
  o.max_side = 80;
  auto small = SampleFrames(Mp4(), o);
  ASSERT_TRUE(small.ok());
  ASSERT_EQ(small->frames.size(), 2u);
  ExpectValidFrames(*small, 80, 60);
}

TEST(VideoTest, JpegQualityChangesTheSize) {
  SampleOptions o;
  o.max_frames = 1;
  o.jpeg_quality = 95;
  auto fine = SampleFrames(Mp4(), o);
  o.jpeg_quality = 10;
  auto coarse = SampleFrames(Mp4(), o);
  ASSERT_TRUE(fine.ok() && coarse.ok());
  EXPECT_GT(fine->frames[0].jpeg.size(), coarse->frames[0].jpeg.size() * 3 / 2);
}

TEST(VideoTest, SceneModeFindsTheCuts) {
  SampleOptions o;
  o.mode = SampleMode::kScene;
  auto v = SampleFrames(Mp4(), o);
  ASSERT_TRUE(v.ok()) << v.error().message;
  ASSERT_EQ(v->frames.size(), 3u);
  ExpectValidFrames(*v, 160, 120);
  EXPECT_NEAR(v->frames[0].timestamp_s, 0.0, 0.11);
  EXPECT_NEAR(v->frames[1].timestamp_s, 1.5, 0.11);
  EXPECT_NEAR(v->frames[2].timestamp_s, 3.0, 0.11);
}

TEST(VideoTest, SceneModeKeepsTheStrongestChanges) {
  SampleOptions o;
  o.mode = SampleMode::kScene;
  o.max_frames = 2;  // dark->bright (0.63) is a stronger change than bright->grey (0.35)
  auto v = SampleFrames(ClipOrEmpty("avi", "mjpeg"), o);
  ASSERT_TRUE(v.ok()) << v.error().message;
  ASSERT_EQ(v->frames.size(), 2u);
  EXPECT_NEAR(v->frames[0].timestamp_s, 0.0, 0.11);
  EXPECT_NEAR(v->frames[1].timestamp_s, 1.5, 0.11);
  o.scene_threshold = 0.95;  // nothing changes that much: the first frame only
  auto one = SampleFrames(Mp4(), o);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->frames.size(), 1u);
  EXPECT_NEAR(one->frames[0].timestamp_s, 0.0, 0.11);
}

TEST(VideoTest, LimitsAreCheckedBeforeDecoding) {
  SampleOptions o;
  o.max_duration_s = 2;
  auto too_long = SampleFrames(Mp4(), o);
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().code, "video_too_long");
  EXPECT_EQ(too_long.error().kind, ErrorKind::kInvalidRequest);
  o = SampleOptions{};
  o.max_decode_pixels = 160 * 119;
  auto too_large = SampleFrames(Mp4(), o);
  ASSERT_FALSE(too_large.ok());
  EXPECT_EQ(too_large.error().code, "video_too_large");
  o.max_decode_pixels = 160 * 120;
  auto fits = SampleFrames(Mp4(), o);
  EXPECT_TRUE(fits.ok()) << fits.error().code << " " << fits.error().message;
}

TEST(VideoTest, RefusesWhatIsNotAVideo) {
  EXPECT_EQ(CodeOf(""), "empty_video");
  EXPECT_EQ(ProbeVideo("").error().code, "empty_video");
  std::mt19937 rng(7);
  std::string random(4096, '\0');
  for (char& ch : random) ch = static_cast<char>(rng());
  random[0] = 0;  // not by chance a TS sync byte
  EXPECT_EQ(CodeOf(random), "unsupported_video_format");
  const std::string png = std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16) + std::string(64, '\0');
  EXPECT_EQ(CodeOf(png), "unsupported_video_format");
  // A container signature followed by garbage.
  std::string fake_mp4 = std::string(
                             "\0\0\0\x18"
                             "ftypisom",
                             12) +
                         random;
  EXPECT_EQ(CodeOf(fake_mp4), "video_unreadable");
  std::string fake_avi = std::string("RIFF\x10\0\0\0AVI LIST", 16) + random;
  EXPECT_EQ(CodeOf(fake_avi), "video_unreadable");
}

TEST(VideoTest, LooksLikeVideoByMagic) {
  EXPECT_TRUE(LooksLikeVideo(Mp4()));
  EXPECT_TRUE(LooksLikeVideo(ClipOrEmpty("avi", "mjpeg")));
  EXPECT_TRUE(LooksLikeVideo(ClipOrEmpty("matroska", "mpeg4")));
  EXPECT_TRUE(LooksLikeVideo(ClipOrEmpty("mpegts", "mpeg4")));
  EXPECT_TRUE(LooksLikeVideo(std::string("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01", 9) + "webm"));
  EXPECT_TRUE(LooksLikeVideo(std::string("FLV\x01\x05\0\0\0\x09", 9)));
  EXPECT_TRUE(LooksLikeVideo("OggS\0\x02"));
  EXPECT_TRUE(
      LooksLikeVideo(std::string("\0\0\0\x14"
                                 "ftypqt  ",
                                 12)));
  EXPECT_TRUE(LooksLikeVideo(std::string("\0\0\x01\xba\x44", 5)));
  EXPECT_FALSE(LooksLikeVideo(""));
  EXPECT_FALSE(LooksLikeVideo(std::string("\x89PNG\r\n\x1a\n", 8)));
  EXPECT_FALSE(LooksLikeVideo("\xff\xd8\xff\xe0\0\x10JFIF"));
  EXPECT_FALSE(LooksLikeVideo("GIF89a" + std::string(300, 'x')));
  EXPECT_FALSE(LooksLikeVideo("RIFF\x10\0\0\0WAVEfmt "));
  EXPECT_FALSE(
      LooksLikeVideo(std::string("\0\0\0\x1c"
                                 "ftypavif",
                                 12)));
  EXPECT_FALSE(
      LooksLikeVideo(std::string("\0\0\0\x18"
                                 "ftypheic",
                                 12)));
  std::string ts(188 * 3, '\0');
  ts[0] = ts[188] = ts[376] = 0x47;
  EXPECT_TRUE(LooksLikeVideo(ts));
  ts[188] = 0;
  EXPECT_FALSE(LooksLikeVideo(ts));
}

// Damaged input yields fewer frames or a clear error, never a crash or a hang.
TEST(VideoTest, CorruptedInputFailsCleanly) {
  const std::set<std::string> codes = {"video_unreadable", "unsupported_video_format",
                                       "empty_video", "video_too_long", "video_too_large"};
  for (const char* muxer : {"mp4", "avi", "matroska", "mpegts"}) {
    const std::string& clip = ClipOrEmpty(muxer, "mpeg4");
    ASSERT_FALSE(clip.empty());
    for (unsigned seed = 0; seed < 12; ++seed) {
      std::mt19937 rng(seed);
      std::string bad = clip;
      if (seed % 3 == 0) {
        bad.resize(rng() % bad.size());
      } else {
        const size_t from = bad.size() / 4 + rng() % (bad.size() / 2);
        for (size_t k = 0; k < 64 * (seed % 3); ++k) {
          bad[(from + rng() % 2048) % bad.size()] = static_cast<char>(rng());
        }
      }
      for (SampleMode mode : {SampleMode::kEven, SampleMode::kScene}) {
        SampleOptions o;
        o.mode = mode;
        auto v = SampleFrames(bad, o);
        if (!v.ok()) {
          EXPECT_EQ(v.error().kind, ErrorKind::kInvalidRequest);
          EXPECT_TRUE(codes.count(v.error().code)) << v.error().code;
          continue;
        }
        EXPECT_LE(v->frames.size(), 8u);
        ExpectValidFrames(*v, 160, 120);
      }
    }
  }
}

TEST(VideoTest, FrameLabel) {
  EXPECT_EQ(FrameLabel(0), "[00:00.000]");
  EXPECT_EQ(FrameLabel(1.5), "[00:01.500]");
  EXPECT_EQ(FrameLabel(75.25), "[01:15.250]");
  EXPECT_EQ(FrameLabel(3725.0), "[1:02:05.000]");
  EXPECT_EQ(FrameLabel(-3), "[00:00.000]");
  EXPECT_EQ(FrameLabel(std::nan("")), "[00:00.000]");
}

}  // namespace
}  // namespace modelmux::media
