// Large media through the provider's file API, from the built binaries: `modelmux serve` with
// media.upload_above_bytes set low, in front of a `modelmux sim` that speaks Gemini (resumable
// upload, /upload/v1beta/files) and Anthropic (POST /v1/files). The simulator decodes a file a
// chat part references and says so ("[image: jpeg 1400x1000, 1234567 bytes, file]"); its stats
// (by_path) show which upload calls arrived.

#include <gtest/gtest.h>
#include <vips/vips.h>

#include <mutex>
#include <regex>

#include "answers.hpp"
#include "media/base64.hpp"
#include "media/video_test_clip.hpp"

namespace modelmux::testing {
namespace {

constexpr auto kTimeout = 60s;
constexpr size_t kAbove = 64u << 10;   // media.upload_above_bytes
constexpr size_t kChunk = 512u << 10;  // media.upload_chunk_bytes
constexpr std::string_view kUploadPath = "/upload/v1beta/files";

void InitVips() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (VIPS_INIT("file_upload_test") != 0) std::abort();
  });
}

// A noisy RGB JPEG (noise keeps it large); `seed` makes each image's bytes different.
std::string NoisyJpeg(int w, int h, int seed) {
  InitVips();
  VipsImage *noise = nullptr, *rgb = nullptr, *u8 = nullptr, *shifted = nullptr;
  vips_gaussnoise(&noise, w, h, "mean", 128.0, "sigma", 40.0, "seed", seed, nullptr);
  VipsImage* g2 = nullptr;
  VipsImage* g3 = nullptr;
  vips_gaussnoise(&g2, w, h, "mean", 128.0, "sigma", 40.0, "seed", seed + 1000, nullptr);
  vips_gaussnoise(&g3, w, h, "mean", 128.0, "sigma", 40.0, "seed", seed + 2000, nullptr);
  VipsImage* bands[3] = {noise, g2, g3};
  vips_bandjoin(bands, &rgb, 3, nullptr);
  vips_cast(rgb, &u8, VIPS_FORMAT_UCHAR, nullptr);
  vips_copy(u8, &shifted, "interpretation", VIPS_INTERPRETATION_sRGB, nullptr);
  void* buf = nullptr;
  size_t len = 0;
  const int rc = vips_image_write_to_buffer(shifted, ".jpg[Q=90]", &buf, &len, nullptr);
  std::string out = rc == 0 ? std::string(static_cast<char*>(buf), len) : std::string();
  g_free(buf);
  for (VipsImage* i : {noise, g2, g3, rgb, u8, shifted}) g_object_unref(i);
  return out;
}

std::string DataUrl(std::string_view mime, std::string_view bytes) {
  return "data:" + std::string(mime) + ";base64," + media::Base64Encode(bytes);
}

struct Seen {
  std::string format;
  int width = 0, height = 0;
  size_t bytes = 0;
  bool file = false;
};

std::vector<Seen> ImagesIn(const std::string& text) {
  static const std::regex re(R"(\[image: (\w+) (\d+)x(\d+), (\d+) bytes(, file)?\])");
  std::vector<Seen> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    out.push_back({(*it)[1], std::stoi((*it)[2]), std::stoi((*it)[3]),
                   static_cast<size_t>(std::stoull((*it)[4])), (*it)[5].matched});
  }
  return out;
}

int64_t Ceil(size_t a, size_t b) {
  return static_cast<int64_t>((a + b - 1) / b);
}

class FileUpload : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    sim_ = new Service(StartSim());
    const std::string yaml =
        "providers:\n"
        "  claude:\n    type: anthropic\n    base_url: \"" +
        sim_->base_url +
        "\"\n    api_key: k-cl\n"
        "  gem:\n    type: gemini\n    base_url: \"" +
        sim_->base_url +
        "\"\n    api_key: k-gem\n"
        "media:\n"
        "  upload_above_bytes: 64KiB\n"
        "  upload_chunk_bytes: 512KiB\n";
    gateway_ = new Service(StartGateway({"--config", dir_->Write("modelmux.yaml", yaml)}));
  }
  static void TearDownTestSuite() {
    delete gateway_;
    delete sim_;
    delete dir_;
    gateway_ = sim_ = nullptr;
    dir_ = nullptr;
  }
  void SetUp() override {
    ASSERT_EQ(Http("POST", sim_->base_url + "/sim/reset", "", {}, kTimeout).status, 200);
  }

  static std::string Body(std::string_view model, const std::string& url,
                          std::string_view kind = "image_url") {
    json::object part{{"type", kind}, {kind, json::object{{"url", url}}}};
    json::array content{json::object{{"type", "text"}, {"text", "what is this?"}}, part};
    return json::serialize(json::object{
        {"model", model},
        {"messages", json::array{json::object{{"role", "user"}, {"content", content}}}}});
  }
  static HttpResult Post(const std::string& body, HeaderList headers = {}) {
    return Http("POST", gateway_->base_url + "/v1/chat/completions", body, std::move(headers),
                kTimeout);
  }
  static std::string Text(const HttpResult& r) {
    json::value v = ParseJson(r.body);
    if (!v.is_object() || !v.get_object().contains("choices")) return {};
    const json::value& c = v.at("choices").at(0).at("message").at("content");
    return c.is_string() ? std::string(c.get_string()) : std::string();
  }
  // The simulator's count for `path` (0 when absent).
  static int64_t Calls(std::string_view path) {
    json::value v = ParseJson(Http("GET", sim_->base_url + "/sim/stats", "", {}, kTimeout).body);
    if (!v.is_object()) return -1;
    const json::value* n = v.at("by_path").get_object().if_contains(path);
    return n ? n->to_number<int64_t>() : 0;
  }
  static int64_t CallsContaining(std::string_view fragment) {
    json::value v = ParseJson(Http("GET", sim_->base_url + "/sim/stats", "", {}, kTimeout).body);
    int64_t total = 0;
    for (const auto& [path, count] : v.at("by_path").get_object()) {
      if (std::string_view(path).find(fragment) != std::string_view::npos) {
        total += count.to_number<int64_t>();
      }
    }
    return total;
  }

  static TempDir* dir_;
  static Service* sim_;
  static Service* gateway_;
};
TempDir* FileUpload::dir_ = nullptr;
Service* FileUpload::sim_ = nullptr;
Service* FileUpload::gateway_ = nullptr;

// Fits both providers as it is (sent byte for byte), and is over 64 KiB and several chunks.
std::string LargeImage(int seed) {
  std::string jpeg = NoisyJpeg(1400, 1000, seed);
  EXPECT_GT(jpeg.size(), 2 * kChunk);
  EXPECT_LT(jpeg.size(), 3'500'000u);
  return jpeg;
}

TEST_F(FileUpload, GeminiLargeImageGoesThroughResumableUpload) {
  const std::string jpeg = LargeImage(1);
  HttpResult r = Post(Body("gem/gemini-echo", DataUrl("image/jpeg", jpeg)));
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 400);
  auto seen = ImagesIn(Text(r));
  ASSERT_EQ(seen.size(), 1u) << Text(r);
  EXPECT_TRUE(seen[0].file) << Text(r);
  EXPECT_EQ(seen[0].bytes, jpeg.size());
  EXPECT_EQ(seen[0].width, 1400);
  // start + one call per chunk
  EXPECT_EQ(Calls(kUploadPath), 1 + Ceil(jpeg.size(), kChunk));
  EXPECT_EQ(CallsContaining(":generateContent"), 1);
}

TEST_F(FileUpload, AnthropicLargeImageGoesThroughFilesApi) {
  const std::string jpeg = LargeImage(2);
  HttpResult r = Post(Body("claude/claude-echo-1", DataUrl("image/jpeg", jpeg)));
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 400);
  auto seen = ImagesIn(Text(r));
  ASSERT_EQ(seen.size(), 1u) << Text(r);
  EXPECT_TRUE(seen[0].file) << Text(r);
  EXPECT_EQ(seen[0].bytes, jpeg.size());
  EXPECT_EQ(Calls("/v1/files"), 1);
  EXPECT_EQ(Calls("/v1/messages"), 1);
  EXPECT_EQ(Calls(kUploadPath), 0);
}

TEST_F(FileUpload, SmallImageStaysInline) {
  const std::string jpeg = NoisyJpeg(64, 48, 3);
  ASSERT_LT(jpeg.size(), kAbove);
  for (std::string_view model : {"gem/gemini-echo", "claude/claude-echo-1"}) {
    HttpResult r = Post(Body(model, DataUrl("image/jpeg", jpeg)));
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 400);
    auto seen = ImagesIn(Text(r));
    ASSERT_EQ(seen.size(), 1u) << Text(r);
    EXPECT_FALSE(seen[0].file) << model;
    EXPECT_EQ(seen[0].bytes, jpeg.size());
  }
  EXPECT_EQ(Calls(kUploadPath), 0);
  EXPECT_EQ(Calls("/v1/files"), 0);
}

TEST_F(FileUpload, SameImageTwiceIsUploadedOnce) {
  const std::string jpeg = LargeImage(4);
  const std::string body_gem = Body("gem/gemini-echo", DataUrl("image/jpeg", jpeg));
  const std::string body_cl = Body("claude/claude-echo-1", DataUrl("image/jpeg", jpeg));
  for (int i = 0; i < 2; ++i) {
    HttpResult r = Post(body_gem);
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 400);
    EXPECT_TRUE(ImagesIn(Text(r)).at(0).file);
    r = Post(body_cl);
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 400);
    EXPECT_TRUE(ImagesIn(Text(r)).at(0).file);
  }
  EXPECT_EQ(Calls(kUploadPath), 1 + Ceil(jpeg.size(), kChunk));
  EXPECT_EQ(Calls("/v1/files"), 1);
  EXPECT_EQ(CallsContaining(":generateContent"), 2);
  EXPECT_EQ(Calls("/v1/messages"), 2);
}

// The first chunk fails after half of it arrived; the client asks the offset and resumes there.
TEST_F(FileUpload, FailedChunkIsResumedFromTheServersOffset) {
  const std::string jpeg = LargeImage(5);
  ASSERT_EQ(Http("POST", sim_->base_url + "/sim/files/fail?chunks=1", "", {}, kTimeout).status,
            200);
  HttpResult r = Post(Body("gem/gemini-echo", DataUrl("image/jpeg", jpeg)));
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 400);
  auto seen = ImagesIn(Text(r));
  ASSERT_EQ(seen.size(), 1u) << Text(r);
  EXPECT_TRUE(seen[0].file);
  EXPECT_EQ(seen[0].bytes, jpeg.size()) << "every byte arrived once, in order";
  // start, the failed chunk (256 KiB of it kept), query, then chunks from 256 KiB on
  const size_t kept = kChunk / 2;
  EXPECT_EQ(Calls(kUploadPath), 1 + 1 + 1 + Ceil(jpeg.size() - kept, kChunk));
}

// A retried chat call reuses the reference: one upload, two chat attempts.
TEST_F(FileUpload, RetryDoesNotUploadAgain) {
  const std::string jpeg = LargeImage(6);
  // The fail decider fails every second request that asks for rate 0.5: spend the first here,
  // so the gateway's first attempt fails and its retry succeeds.
  const std::string tiny = R"({"contents":[{"parts":[{"text":"hi"}]}]})";
  HttpResult warm = Http("POST", sim_->base_url + "/v1beta/models/gemini-echo:generateContent",
                         tiny, {{"x-sim-fail-rate", "0.5"}, {"x-goog-api-key", "k"}}, kTimeout);
  ASSERT_EQ(warm.status, 200) << warm.body;
  HttpResult r = Post(Body("gem/gemini-echo", DataUrl("image/jpeg", jpeg)),
                      {{"x-sim-fail-rate", "0.5"}, {"x-sim-fail-status", "503"}});
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 400);
  EXPECT_TRUE(ImagesIn(Text(r)).at(0).file);
  EXPECT_EQ(CallsContaining(":generateContent"), 1 + 2) << "the first attempt failed";
  EXPECT_EQ(Calls(kUploadPath), 1 + Ceil(jpeg.size(), kChunk));
}

// A video goes up as a file too; the simulator keeps it PROCESSING until the first poll.
TEST_F(FileUpload, GeminiVideoIsPolledUntilActive) {
  media::testclip::ClipSpec spec;
  spec.width = 640;
  spec.height = 480;
  spec.seconds = 6;
  auto clip = media::testclip::MakeClip(spec);
  ASSERT_FALSE(clip.bytes.empty()) << clip.error;
  ASSERT_GT(clip.bytes.size(), kAbove) << "the clip must be over the upload threshold";
  HttpResult r = Post(Body("gem/gemini-echo", DataUrl("video/mp4", clip.bytes), "video_url"));
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 400);
  const std::string text = Text(r);
  EXPECT_NE(text.find("[video: "), std::string::npos) << text;
  EXPECT_NE(text.find(std::to_string(clip.bytes.size()) + " bytes, file]"), std::string::npos)
      << text;
  EXPECT_GE(CallsContaining("/v1beta/files/"), 1) << "polled while PROCESSING";
}

// Unknown file references get each provider's 404.
TEST_F(FileUpload, UnknownFileIsTheProvidersNotFound) {
  const std::string anthropic_body =
      R"({"model":"claude-echo","max_tokens":10,"messages":[{"role":"user","content":[)"
      R"({"type":"image","source":{"type":"file","file_id":"file_missing"}}]}]})";
  HttpResult a = Http("POST", sim_->base_url + "/v1/messages", anthropic_body,
                      {{"x-api-key", "k"},
                       {"anthropic-version", "2023-06-01"},
                       {"anthropic-beta", "files-api-2025-04-14"}},
                      kTimeout);
  EXPECT_EQ(a.status, 404) << a.body;
  EXPECT_NE(a.body.find("not_found_error"), std::string::npos) << a.body;

  const std::string gemini_body = R"({"contents":[{"parts":[{"file_data":{"mime_type":)"
                                  R"("image/jpeg","file_uri":")" +
                                  sim_->base_url + R"(/v1beta/files/missing"}}]}]})";
  HttpResult g = Http("POST", sim_->base_url + "/v1beta/models/gemini-echo:generateContent",
                      gemini_body, {{"x-goog-api-key", "k"}}, kTimeout);
  EXPECT_EQ(g.status, 404) << g.body;
  EXPECT_NE(g.body.find("NOT_FOUND"), std::string::npos) << g.body;

  HttpResult get = Http("GET", sim_->base_url + "/v1beta/files/missing", "", {}, kTimeout);
  EXPECT_EQ(get.status, 404) << get.body;
}

// Anthropic's Files API needs its beta header.
TEST_F(FileUpload, AnthropicUploadWithoutBetaHeaderIsRefused) {
  const std::string body =
      "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.jpg\"\r\n"
      "Content-Type: image/jpeg\r\n\r\nxyz\r\n--b--\r\n";
  HttpResult r =
      Http("POST", sim_->base_url + "/v1/files", body,
           {{"x-api-key", "k"}, {"content-type", "multipart/form-data; boundary=b"}}, kTimeout);
  EXPECT_EQ(r.status, 400) << r.body;
  HttpResult ok = Http("POST", sim_->base_url + "/v1/files", body,
                       {{"x-api-key", "k"},
                        {"anthropic-beta", "files-api-2025-04-14"},
                        {"content-type", "multipart/form-data; boundary=b"}},
                       kTimeout);
  ASSERT_EQ(ok.status, 200) << ok.body;
  json::value v = ParseJson(ok.body);
  EXPECT_EQ(v.at("size_bytes").to_number<int64_t>(), 3);
  EXPECT_EQ(std::string(v.at("mime_type").get_string()), "image/jpeg");
}

}  // namespace
}  // namespace modelmux::testing
