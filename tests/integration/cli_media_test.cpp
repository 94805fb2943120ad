// `modelmux chat --image/--video` and `modelmux describe` as a user runs them: the built binary,
// no provider key in the environment (so the built-in simulator answers), files in a temporary
// folder. The simulator starts its answer with one line per image or video it received
// ("[image: jpeg 2048x1365, 301234 bytes]", docs/SIM.md), so each test reads from stdout what
// reached the provider.

#include <gtest/gtest.h>
#include <vips/vips.h>

#include <algorithm>
#include <mutex>
#include <regex>

#include "gateway_it.hpp"
#include "media/video_test_clip.hpp"

namespace modelmux::testing {
namespace {

constexpr auto kTimeout = std::chrono::seconds(90);

// ---- test media -------------------------------------------------------------------------------

void InitVips() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (VIPS_INIT("cli_media_test") != 0) std::abort();
  });
}

// A photo-like JPEG (noise over a gradient), so that its size is realistic.
std::string Jpeg(int w, int h) {
  InitVips();
  VipsImage *noise = nullptr, *grad = nullptr, *x = nullptr, *scaled = nullptr, *sum = nullptr;
  VipsImage *rgb = nullptr, *u8 = nullptr;
  vips_gaussnoise(&noise, w, h, "mean", 0.0, "sigma", 30.0, nullptr);
  vips_xyz(&grad, w, h, nullptr);
  vips_extract_band(grad, &x, 0, nullptr);
  vips_linear1(x, &scaled, 200.0 / w, 20.0, nullptr);
  vips_add(scaled, noise, &sum, nullptr);
  VipsImage* bands[3] = {sum, sum, sum};
  vips_bandjoin(bands, &rgb, 3, nullptr);
  vips_cast(rgb, &u8, VIPS_FORMAT_UCHAR, nullptr);
  VipsImage* srgb = nullptr;
  vips_copy(u8, &srgb, "interpretation", VIPS_INTERPRETATION_sRGB, nullptr);
  void* buf = nullptr;
  size_t len = 0;
  std::string out;
  if (vips_image_write_to_buffer(srgb, ".jpg[Q=95]", &buf, &len, nullptr) == 0) {
    out.assign(static_cast<char*>(buf), len);
  }
  g_free(buf);
  for (VipsImage* i : {noise, grad, x, scaled, sum, rgb, u8, srgb}) g_object_unref(i);
  return out;
}

// ---- running the CLI --------------------------------------------------------------------------

struct CliRun {
  int code = -1;
  std::string out;  // stdout, lines joined with '\n'
  std::string err;  // the stderr tail
};

bool Contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

struct SeenImage {
  std::string format;
  int width = 0, height = 0;
  uint64_t bytes = 0;
};

std::vector<SeenImage> ImagesIn(const std::string& text) {
  static const std::regex re(R"(\[image: (\w+) (\d+)x(\d+), (?:\d+ frames, )?(\d+) bytes\])");
  std::vector<SeenImage> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    out.push_back({(*it)[1], std::stoi((*it)[2]), std::stoi((*it)[3]), std::stoull((*it)[4])});
  }
  return out;
}

// The value of `name=` in a "k=v; k=v" media report, or -1.
int64_t ReportValue(const std::string& report, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(report, m, std::regex("(?:^|[ ;])" + name + "=(\\d+)"))) return -1;
  return std::stoll(m[1]);
}

class CliMedia : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    photo_ = new std::string(Jpeg(3000, 2000));
    photo_path_ = new std::string(dir_->Write("photo.jpg", *photo_));
    media::testclip::ClipSpec spec;  // 160x120, 4 s at 10 fps, mpeg4 in mp4
    auto clip = media::testclip::MakeClip(spec);
    clip_error_ = new std::string(clip.error);
    clip_path_ = new std::string(clip.bytes.empty() ? "" : dir_->Write("clip.mp4", clip.bytes));
  }
  static void TearDownTestSuite() {
    delete photo_path_;
    delete photo_;
    delete clip_path_;
    delete clip_error_;
    delete dir_;
  }

  // Runs `modelmux ARGS` with no provider key (a clean environment) and its state in the temp dir.
  static CliRun Run(std::vector<std::string> args) {
    ProcessOptions opt;
    opt.env = {{"MODELMUX_DATA_DIR", (dir_->path() / "data").string()}};
    opt.working_dir = dir_->path().string();
    auto p = Process::Start(ModelmuxBin(), std::move(args), opt);
    CliRun r;
    auto code = p->Wait(kTimeout);
    EXPECT_TRUE(code.has_value()) << p->Describe();
    r.code = code.value_or(-1);
    for (const auto& line : p->stdout_lines()) r.out += line + "\n";
    r.err = p->stderr_tail();
    return r;
  }

  static TempDir* dir_;
  static std::string* photo_;
  static std::string* photo_path_;
  static std::string* clip_path_;
  static std::string* clip_error_;
};
TempDir* CliMedia::dir_ = nullptr;
std::string* CliMedia::photo_ = nullptr;
std::string* CliMedia::photo_path_ = nullptr;
std::string* CliMedia::clip_path_ = nullptr;
std::string* CliMedia::clip_error_ = nullptr;

// A 3000x2000 photo reaches the simulator resized: the simulator is a provider type without a
// row of its own in the limits table, so the "default" row applies (JPEG/PNG, 5 MB, 4096 px, no
// target side) and lean `balanced` caps the longest side at 2048 px (docs/MULTIMODAL.md).
TEST_F(CliMedia, ChatImageIsResizedForTheProvider) {
  ASSERT_FALSE(photo_->empty());
  CliRun r = Run({"chat", "--image", *photo_path_, "-m", "sim/echo", "what is this?"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("[image: jpeg ", 0), 0u) << r.out;
  auto seen = ImagesIn(r.out);
  ASSERT_EQ(seen.size(), 1u) << r.out;
  EXPECT_EQ(seen[0].width, 2048) << r.out;
  EXPECT_NEAR(seen[0].height, 2000.0 * 2048 / 3000, 1.0) << r.out;
  EXPECT_LE(seen[0].bytes, 5'000'000u);
  EXPECT_LT(seen[0].bytes, photo_->size());
  EXPECT_TRUE(Contains(r.out, "what is this?")) << r.out;
}

// --show-media reports on stderr what the media stage did, with both byte counts.
TEST_F(CliMedia, ShowMediaPrintsBytesBeforeAndAfter) {
  CliRun r =
      Run({"chat", "--show-media", "--image", *photo_path_, "-m", "sim/echo", "what is this?"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.err, m, std::regex("media: ([^\n]*)"))) << r.err;
  const std::string report = m[1];
  auto seen = ImagesIn(r.out);
  ASSERT_EQ(seen.size(), 1u) << r.out;
  EXPECT_EQ(ReportValue(report, "images"), 1) << report;
  EXPECT_EQ(ReportValue(report, "reencoded"), 1) << report;
  EXPECT_EQ(ReportValue(report, "bytes_before"), static_cast<int64_t>(photo_->size())) << report;
  EXPECT_EQ(ReportValue(report, "bytes_after"), static_cast<int64_t>(seen[0].bytes)) << report;
  // Without the flag there is no such line.
  CliRun quiet = Run({"chat", "--image", *photo_path_, "-m", "sim/echo", "again"});
  ASSERT_EQ(quiet.code, 0) << quiet.err;
  EXPECT_FALSE(Contains(quiet.err, "media: ")) << quiet.err;
}

// --detail low caps the longest side at 512 px.
TEST_F(CliMedia, DetailLowShrinksFurther) {
  CliRun r = Run({"chat", "--detail", "low", "--image", *photo_path_, "-m", "sim/echo", "hi"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  auto seen = ImagesIn(r.out);
  ASSERT_EQ(seen.size(), 1u) << r.out;
  EXPECT_EQ(std::max(seen[0].width, seen[0].height), 512) << r.out;
}

// A file that is not an image is refused by the CLI, before any call, with a non-zero exit and a
// message that names the file and the reason.
TEST_F(CliMedia, TextFileAsImageIsRefused) {
  const std::string notes = dir_->Write("notes.jpg", "shopping list: eggs, milk, bread\n");
  CliRun r = Run({"chat", "--image", notes, "-m", "sim/echo", "what is this?"});
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_TRUE(Contains(r.err, "notes.jpg")) << r.err;
  // The CLI prints the message of the error (code unsupported_image_format), not the code.
  EXPECT_TRUE(Contains(r.err, "is not an image")) << r.err;
  EXPECT_TRUE(Contains(r.err, "[unsupported_image_format]")) << r.err;
}

TEST_F(CliMedia, MissingImageFileIsRefused) {
  const std::string missing = (dir_->path() / "no-such-photo.jpg").string();
  CliRun r = Run({"chat", "--image", missing, "-m", "sim/echo", "what is this?"});
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_TRUE(Contains(r.err, "no-such-photo.jpg")) << r.err;
  EXPECT_TRUE(Contains(r.err, "cannot read")) << r.err;
}

// The simulator has no video input: the clip arrives as JPEG frames, each after its timestamp.
TEST_F(CliMedia, ChatVideoBecomesTimestampedFrames) {
  ASSERT_FALSE(clip_path_->empty()) << *clip_error_;
  CliRun r = Run({"chat", "--video", *clip_path_, "-m", "sim/echo", "what happens?"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  auto frames = ImagesIn(r.out);
  EXPECT_GE(frames.size(), 2u) << r.out;
  EXPECT_LE(frames.size(), 8u) << r.out;
  for (const auto& f : frames) {
    EXPECT_EQ(f.format, "jpeg");
    EXPECT_EQ(f.width, 160);  // frames are never upscaled
    EXPECT_EQ(f.height, 120);
  }
  static const std::regex label(R"(\[00:0\d\.\d{3}\])");
  const auto labels = std::distance(std::sregex_iterator(r.out.begin(), r.out.end(), label),
                                    std::sregex_iterator());
  EXPECT_EQ(static_cast<size_t>(labels), frames.size()) << r.out;
}

// describe --task ocr --json: the /v1/describe JSON, the OCR instruction as the prompt.
TEST_F(CliMedia, DescribeOcrJson) {
  CliRun r = Run({"describe", *photo_path_, "--task", "ocr", "--json", "-m", "sim/echo"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  json::value v = ParseJson(r.out);
  ASSERT_TRUE(v.is_object()) << r.out;
  EXPECT_EQ(v.at("object"), json::value("describe"));
  EXPECT_EQ(v.at("task"), json::value("ocr"));
  const std::string text = Str(v.at("text"));
  EXPECT_EQ(ImagesIn(text).size(), 1u) << text;
  EXPECT_TRUE(Contains(text, "Transcribe all text visible in this image")) << text;
}

// Without --model, describe uses sim/vision on the simulator: not an echo model, but the
// simulator still states the image it received.
TEST_F(CliMedia, DescribeDefaultsToTheSimulatorsVisionModel) {
  CliRun r = Run({"describe", *photo_path_, "--json"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  json::value v = ParseJson(r.out);
  ASSERT_TRUE(v.is_object()) << r.out;
  EXPECT_TRUE(Contains(Str(v.at("model")), "vision")) << r.out;
  EXPECT_EQ(v.at("task"), json::value("caption"));
  EXPECT_EQ(ImagesIn(Str(v.at("text"))).size(), 1u) << r.out;
}

// A video file is recognised by its bytes, without --video.
TEST_F(CliMedia, DescribeSniffsAVideo) {
  ASSERT_FALSE(clip_path_->empty()) << *clip_error_;
  CliRun r = Run({"describe", *clip_path_, "-m", "sim/echo"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_GE(ImagesIn(r.out).size(), 2u) << r.out;
  EXPECT_TRUE(Contains(r.out, "Describe this video")) << r.out;
}

TEST_F(CliMedia, DescribeQaNeedsAQuestion) {
  CliRun r = Run({"describe", *photo_path_, "--task", "qa", "-m", "sim/echo"});
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_TRUE(Contains(r.err, "question")) << r.err;

  CliRun ok = Run(
      {"describe", *photo_path_, "--task", "qa", "--question", "How many cats?", "-m", "sim/echo"});
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_TRUE(Contains(ok.out, "How many cats?")) << ok.out;
}

}  // namespace
}  // namespace modelmux::testing
