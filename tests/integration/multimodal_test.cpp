// Multimodal input from the built binary: images and a short video made here (libvips, FFmpeg's
// libraries) go through `modelmux serve` to a `modelmux sim` that speaks each provider's dialect.
// The simulator decodes every image and video it receives and states what it got
// ("[image: jpeg 1568x1045, 301234 bytes]"), so each test checks what reached the provider:
// that it fits that provider's limits (media/limits.hpp is the table), or that a clear 400 named
// the problem and nothing was sent upstream.

#include <gtest/gtest.h>
#include <vips/vips.h>

#include <cstdio>
#include <fstream>
#include <mutex>
#include <regex>

#include "answers.hpp"
#include "media/base64.hpp"
#include "media/limits.hpp"
#include "media/video_test_clip.hpp"

namespace modelmux::testing {
namespace {

constexpr auto kTimeout = 60s;

// ---- test media -------------------------------------------------------------------------------

void InitVips() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (VIPS_INIT("multimodal_test") != 0) std::abort();
  });
}

std::string Save(VipsImage* img, const char* suffix) {
  void* buf = nullptr;
  size_t len = 0;
  const int rc = vips_image_write_to_buffer(img, suffix, &buf, &len, nullptr);
  std::string out = rc == 0 ? std::string(static_cast<char*>(buf), len) : std::string();
  g_free(buf);
  return out;
}

struct Unref {
  void operator()(VipsImage* i) const { g_object_unref(i); }
};
using ImagePtr = std::unique_ptr<VipsImage, Unref>;

// A photo-like RGB image (noise over a gradient), so that JPEG sizes are realistic.
ImagePtr Photo(int w, int h) {
  InitVips();
  VipsImage *noise = nullptr, *grad = nullptr, *sum = nullptr, *rgb = nullptr, *u8 = nullptr;
  vips_gaussnoise(&noise, w, h, "mean", 0.0, "sigma", 30.0, nullptr);
  vips_xyz(&grad, w, h, nullptr);  // two bands: x, y
  VipsImage* x = nullptr;
  vips_extract_band(grad, &x, 0, nullptr);
  VipsImage* scaled = nullptr;
  vips_linear1(x, &scaled, 200.0 / w, 20.0, nullptr);
  vips_add(scaled, noise, &sum, nullptr);
  VipsImage* bands[3] = {sum, sum, sum};
  vips_bandjoin(bands, &rgb, 3, nullptr);
  vips_cast(rgb, &u8, VIPS_FORMAT_UCHAR, nullptr);
  vips_image_set_int(u8, "interpretation", VIPS_INTERPRETATION_sRGB);
  VipsImage* srgb = nullptr;
  vips_copy(u8, &srgb, "interpretation", VIPS_INTERPRETATION_sRGB, nullptr);
  for (VipsImage* i : {noise, grad, x, scaled, sum, rgb, u8}) g_object_unref(i);
  return ImagePtr(srgb);
}

std::string Jpeg(int w, int h, int quality = 95) {
  ImagePtr img = Photo(w, h);
  return Save(img.get(), (".jpg[Q=" + std::to_string(quality) + "]").c_str());
}

std::string PngWithAlpha(int w, int h) {
  ImagePtr img = Photo(w, h);
  VipsImage *alpha = nullptr, *joined = nullptr;
  vips_black(&alpha, w, h, nullptr);
  VipsImage* a = nullptr;
  vips_linear1(alpha, &a, 1.0, 100.0, nullptr);  // every pixel 100/255 opaque
  VipsImage* a8 = nullptr;
  vips_cast(a, &a8, VIPS_FORMAT_UCHAR, nullptr);
  vips_bandjoin2(img.get(), a8, &joined, nullptr);
  std::string out = Save(joined, ".png");
  for (VipsImage* i : {alpha, a, a8, joined}) g_object_unref(i);
  return out;
}

uint32_t Crc32(std::string_view data) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : data) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

std::string BigEndian(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string Chunk(std::string_view type, std::string_view data) {
  std::string body = std::string(type) + std::string(data);
  return BigEndian(static_cast<uint32_t>(data.size())) + body + BigEndian(Crc32(body));
}

// A tiny PNG whose header declares 60000 x 60000 pixels (3.6 gigapixels): a decompression bomb
// that must be refused from its header, before anything is decoded.
std::string PngBomb() {
  std::string ihdr = BigEndian(60000) + BigEndian(60000) + std::string("\x08\x00\x00\x00\x00", 5);
  return std::string("\x89PNG\r\n\x1a\n", 8) + Chunk("IHDR", ihdr) +
         Chunk("IDAT", std::string("\x78\x9c\x03\x00\x00\x00\x00\x01", 8)) + Chunk("IEND", "");
}

std::string DataUrl(std::string_view mime, std::string_view bytes) {
  return "data:" + std::string(mime) + ";base64," + media::Base64Encode(bytes);
}

// ---- what the simulator saw --------------------------------------------------------------------

struct SeenImage {
  std::string format;
  int width = 0, height = 0;
  size_t bytes = 0;
};

std::vector<SeenImage> ImagesIn(const std::string& text) {
  static const std::regex re(R"(\[image: (\w+) (\d+)x(\d+), (?:\d+ frames, )?(\d+) bytes\])");
  std::vector<SeenImage> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    out.push_back({(*it)[1], std::stoi((*it)[2]), std::stoi((*it)[3]),
                   static_cast<size_t>(std::stoull((*it)[4]))});
  }
  return out;
}

struct Upstream {
  std::string name;       // provider name in the config
  std::string type;       // provider type (the limits table key)
  std::string yaml;       // its block under `providers:`
  std::string echo;       // an echo model on it
  std::string path_part;  // a fragment of its path, counted by the simulator
};

std::vector<Upstream> Upstreams() {
  return {
      {"oa", "openai", "    type: openai\n    base_url: \"{SIM}/v1\"\n    api_key: k-oa\n",
       "oa/gpt-echo-1", "/v1/chat/completions"},
      {"claude", "anthropic", "    type: anthropic\n    base_url: \"{SIM}\"\n    api_key: k-cl\n",
       "claude/claude-echo-1", "/v1/messages"},
      {"gem", "gemini", "    type: gemini\n    base_url: \"{SIM}\"\n    api_key: k-gem\n",
       "gem/gemini-echo", "/models/gemini"},
      {"ds", "dashscope", "    type: dashscope\n    base_url: \"{SIM}\"\n    api_key: k-ds\n",
       "ds/qwen-vl-echo", "/api/v1/services/aigc/"},
      {"br", "bedrock",
       "    type: bedrock\n    base_url: \"{SIM}\"\n    region: us-east-1\n"
       "    api_key: AKIDSIMULATOR\n    secret_key: sim-secret\n",
       "br/anthropic.claude-echo-v1:0", "/model/"},
      {"zp", "zhipu",
       "    type: zhipu\n    base_url: \"{SIM}/zhipu/api/paas/v4\"\n    api_key: zid.zsecret\n",
       "zp/glm-4v-echo", "/zhipu/api/paas/v4/"},
      {"hy", "hunyuan",
       "    type: hunyuan\n    base_url: \"{SIM}\"\n"
       "    api_key: AKIDsimHUNYUAN0000000000000000000000\n"
       "    secret_key: simHunyuanSecretKey0000000000000\n",
       "hy/hunyuan-vision-echo", "="},
      {"ol", "ollama", "    type: ollama\n    base_url: \"{SIM}/ollama\"\n", "ol/llava-echo",
       "/ollama/api/chat"},
  };
}

std::string Replace(std::string s, std::string_view from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

class Multimodal : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    sim_ = new Service(StartSim());
    std::string yaml = "providers:\n";
    for (const auto& u : Upstreams()) {
      yaml += "  " + u.name + ":\n" + Replace(u.yaml, "{SIM}", sim_->base_url);
    }
    yaml +=
        "models:\n"
        "  - name: small-vision\n"
        "    provider: oa\n"
        "    model: gpt-echo-small\n"
        "    image_policy: {max_side: 320, lean: smaller}\n";
    gateway_ = new Service(StartGateway({"--config", dir_->Write("modelmux.yaml", yaml)}));
  }
  static void TearDownTestSuite() {
    delete gateway_;
    delete sim_;
    delete dir_;
    gateway_ = sim_ = nullptr;
    dir_ = nullptr;
  }

  static std::string Body(std::string_view model, std::string_view prompt,
                          const std::vector<json::object>& parts, json::object extra = {}) {
    json::array content{json::object{{"type", "text"}, {"text", prompt}}};
    for (const auto& p : parts) content.push_back(p);
    json::object o{{"model", model},
                   {"messages", json::array{json::object{{"role", "user"}, {"content", content}}}}};
    for (auto& kv : extra) o[kv.key()] = kv.value();
    return json::serialize(o);
  }
  static json::object ImagePart(std::string url, std::string_view detail = {}) {
    json::object inner{{"url", std::move(url)}};
    if (!detail.empty()) inner["detail"] = detail;
    return json::object{{"type", "image_url"}, {"image_url", std::move(inner)}};
  }
  static json::object VideoPart(std::string url) {
    return json::object{{"type", "video_url"},
                        {"video_url", json::object{{"url", std::move(url)}}}};
  }

  static HttpResult Post(const std::string& body, HeaderList headers = {}) {
    return Http("POST", gateway_->base_url + "/v1/chat/completions", body, std::move(headers),
                kTimeout);
  }

  static std::string Text(const HttpResult& r) {
    json::value v = ParseJson(r.body);
    if (!v.is_object() || !v.get_object().contains("choices")) return {};
    const json::value& content = v.at("choices").at(0).at("message").at("content");
    return content.is_string() ? std::string(content.get_string()) : std::string();
  }

  static int64_t SimCalls() {
    json::value v = ParseJson(Http("GET", sim_->base_url + "/sim/stats", "", {}, kTimeout).body);
    int64_t n = 0;
    if (!v.is_object()) return -1;
    for (const auto& [path, count] : v.at("by_path").get_object()) n += count.to_number<int64_t>();
    return n;
  }

  static TempDir* dir_;
  static Service* sim_;
  static Service* gateway_;
};
TempDir* Multimodal::dir_ = nullptr;
Service* Multimodal::sim_ = nullptr;
Service* Multimodal::gateway_ = nullptr;

// A 12-megapixel photo reaches every vision dialect resized to what that provider takes.
TEST_F(Multimodal, LargePhotoFitsEveryProvidersLimits) {
  const std::string photo = Jpeg(4000, 3000);
  ASSERT_FALSE(photo.empty());
  const std::string url = DataUrl("image/jpeg", photo);
  for (const auto& u : Upstreams()) {
    SCOPED_TRACE(u.name);
    HttpResult r = Post(Body(u.echo, "what is this?", {ImagePart(url)}));
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 400);
    auto seen = ImagesIn(Text(r));
    ASSERT_EQ(seen.size(), 1u) << Text(r);
    const media::ImageLimits& lim = media::ImageLimitsFor(u.type);
    EXPECT_EQ(seen[0].format, "jpeg");
    const int longest = std::max(seen[0].width, seen[0].height);
    // Balanced lean: the side the provider really uses, else 2048 px.
    EXPECT_LE(longest, lim.target_side > 0 ? lim.target_side : 2048);
    EXPECT_GE(longest, 1024) << "not shrunk more than the policy asks";
    if (lim.max_side > 0) EXPECT_LE(longest, lim.max_side);
    if (lim.max_bytes > 0) EXPECT_LE(seen[0].bytes, lim.max_bytes);
    if (lim.max_pixels > 0) {
      EXPECT_LE(static_cast<int64_t>(seen[0].width) * seen[0].height, lim.max_pixels);
    }
    // Aspect ratio kept (4:3), within rounding.
    EXPECT_NEAR(static_cast<double>(seen[0].width) / seen[0].height, 4.0 / 3.0, 0.02);
    const std::string media = std::string(r.headers.Get("x-modelmux-media"));
    EXPECT_NE(media.find("reencoded=1"), std::string::npos) << media;
    EXPECT_NE(media.find("bytes_before=" + std::to_string(photo.size())), std::string::npos)
        << media;
  }
}

// A small image that already fits is sent byte for byte.
TEST_F(Multimodal, FittingImageIsSentUnchanged) {
  const std::string small = Jpeg(200, 150, 80);
  HttpResult r =
      Post(Body("claude/claude-echo-1", "hi", {ImagePart(DataUrl("image/jpeg", small))}));
  ASSERT_EQ(r.status, 200) << r.body;
  auto seen = ImagesIn(Text(r));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].width, 200);
  EXPECT_EQ(seen[0].height, 150);
  EXPECT_EQ(seen[0].bytes, small.size());
  EXPECT_EQ(std::string(r.headers.Get("x-modelmux-media")).find("reencoded"), std::string::npos);
}

// Transparency that is used keeps PNG; a declared type that lies is corrected from the bytes.
TEST_F(Multimodal, AlphaKeepsPngAndSniffedTypeWins) {
  const std::string png = PngWithAlpha(3000, 2000);
  ASSERT_FALSE(png.empty());
  // Declared as JPEG: the bytes say PNG.
  HttpResult r = Post(Body("claude/claude-echo-1", "hi", {ImagePart(DataUrl("image/jpeg", png))}));
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 400);
  auto seen = ImagesIn(Text(r));
  ASSERT_EQ(seen.size(), 1u) << Text(r);
  EXPECT_EQ(seen[0].format, "png");
  EXPECT_LE(std::max(seen[0].width, seen[0].height), media::ImageLimitsFor("anthropic").max_side);
}

// The request's image_policy and the model's config both steer the size.
TEST_F(Multimodal, ImagePolicyFromRequestAndFromModelConfig) {
  const std::string url = DataUrl("image/jpeg", Jpeg(1600, 1200));
  json::object extra{{"image_policy", json::object{{"max_side", 256}, {"quality", 60}}}};
  HttpResult r = Post(Body("oa/gpt-echo-1", "hi", {ImagePart(url)}, extra));
  ASSERT_EQ(r.status, 200) << r.body;
  auto seen = ImagesIn(Text(r));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_NEAR(std::max(seen[0].width, seen[0].height), 256, 1);

  r = Post(Body("small-vision", "hi", {ImagePart(url)}));
  ASSERT_EQ(r.status, 200) << r.body;
  seen = ImagesIn(Text(r));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_NEAR(std::max(seen[0].width, seen[0].height), 320, 1);

  // detail=low: 512 px at most.
  r = Post(Body("oa/gpt-echo-1", "hi", {ImagePart(url, "low")}));
  ASSERT_EQ(r.status, 200) << r.body;
  seen = ImagesIn(Text(r));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_NEAR(std::max(seen[0].width, seen[0].height), 512, 1);

  // A bad policy is the caller's error, named.
  json::object bad{{"image_policy", json::object{{"quality", "high"}}}};
  r = Post(Body("oa/gpt-echo-1", "hi", {ImagePart(url)}, bad));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("image_policy"), std::string::npos) << r.body;
}

// Broken input gets a clear 400 that names the part, and nothing goes upstream.
TEST_F(Multimodal, BrokenImagesAreRefusedBeforeAnyUpstreamCall) {
  std::string corrupt = Jpeg(800, 600);
  corrupt.resize(corrupt.size() / 3);  // truncated
  for (size_t i = 200; i < corrupt.size(); i += 97) corrupt[i] = static_cast<char>(~corrupt[i]);
  struct Case {
    std::string name;
    std::string url;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"corrupt", DataUrl("image/jpeg", corrupt), "image_unreadable"},
      {"empty", "data:image/png;base64,", "empty_image"},
      {"bomb", DataUrl("image/png", PngBomb()), "image_too_large"},
      {"not an image", DataUrl("image/png", "this is plain text, not a picture"),
       "unsupported_image_format"},
      {"bad base64", "data:image/png;base64,@@@@", "invalid_base64"},
      {"file path", "/etc/passwd", "invalid_image_url"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const int64_t before = SimCalls();
    HttpResult r = Post(Body("gem/gemini-echo", "hi", {ImagePart(c.url)}));
    EXPECT_EQ(r.status, 400) << r.body;
    json::value v = ParseJson(r.body);
    ASSERT_TRUE(v.is_object()) << r.body;
    EXPECT_EQ(v.at("error").at("code"), json::value(c.code)) << r.body;
    EXPECT_EQ(v.at("error").at("param"), json::value("messages[0].content[1].image_url")) << r.body;
    EXPECT_EQ(SimCalls(), before) << "a broken image was sent upstream";
  }
  // The gateway keeps serving.
  HttpResult ok = Post(Body("gem/gemini-echo", "still there?", {}));
  EXPECT_EQ(ok.status, 200) << ok.body;
}

// SSRF: a URL the provider cannot fetch itself is fetched by the gateway, which refuses internal
// addresses in any spelling before connecting.
TEST_F(Multimodal, InternalUrlsAreRefusedBeforeConnecting) {
  const ListenAddress sim = sim_->address;
  const std::string port = std::to_string(sim.port);
  for (const std::string url :
       {"http://127.0.0.1:" + port + "/img.png", "http://2130706433:" + port + "/img.png",
        "http://0x7f.1:" + port + "/img.png", "http://[::ffff:127.0.0.1]:" + port + "/img.png",
        "http://localhost:" + port + "/img.png", std::string("http://169.254.169.254/latest/"),
        std::string("http://10.0.0.1/x.png"), std::string("file:///etc/passwd")}) {
    SCOPED_TRACE(url);
    const int64_t before = SimCalls();
    HttpResult r = Post(Body("gem/gemini-echo", "hi", {ImagePart(url)}));
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_TRUE(r.body.find("url_forbidden") != std::string::npos ||
                r.body.find("invalid_image_url") != std::string::npos)
        << r.body;
    EXPECT_EQ(SimCalls(), before);
  }
}

// Providers that download URLs themselves get the URL as it is.
TEST_F(Multimodal, UrlPassesThroughWhereTheProviderFetches) {
  HttpResult r =
      Post(Body("oa/gpt-echo-1", "hi", {ImagePart("https://images.example.com/cat.png")}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(Text(r).find("[image: url https://images.example.com/cat.png]"), std::string::npos)
      << Text(r);
}

// A clip to a provider without video input becomes frames labelled with their time; Gemini takes
// the video itself.
TEST_F(Multimodal, VideoBecomesFramesOrStaysNative) {
  media::testclip::ClipSpec spec;
  auto clip = media::testclip::MakeClip(spec);
  ASSERT_FALSE(clip.bytes.empty()) << clip.error;
  const std::string url = DataUrl("video/mp4", clip.bytes);

  HttpResult r = Post(Body("claude/claude-echo-1", "what happens?", {VideoPart(url)}));
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 400);
  const std::string text = Text(r);
  auto frames = ImagesIn(text);
  EXPECT_GE(frames.size(), 2u) << text;
  EXPECT_LE(frames.size(), 8u) << text;
  for (const auto& f : frames) {
    EXPECT_EQ(f.format, "jpeg");
    EXPECT_EQ(f.width, spec.width);  // never upscaled
  }
  EXPECT_NE(text.find("[00:0"), std::string::npos) << "frames are labelled with their time";
  EXPECT_NE(std::string(r.headers.Get("x-modelmux-media")).find("frames="), std::string::npos);

  r = Post(Body("gem/gemini-echo", "what happens?", {VideoPart(url)}));
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 400);
  EXPECT_NE(Text(r).find("[video: "), std::string::npos) << Text(r);
  EXPECT_NE(Text(r).find(std::to_string(spec.width) + "x" + std::to_string(spec.height)),
            std::string::npos)
      << Text(r);
}

// The seed's task endpoint: {"image": <base64>, "task": "image-captioning"}.
TEST_F(Multimodal, DescribeEndpointTakesTheSeedsBody) {
  const std::string jpeg = Jpeg(640, 480, 85);
  json::object body{{"image", media::Base64Encode(jpeg)},
                    {"task", "image-captioning"},
                    {"model", "oa/gpt-echo-1"}};
  HttpResult r =
      Http("POST", gateway_->base_url + "/v1/describe", json::serialize(body), {}, kTimeout);
  ASSERT_EQ(r.status, 200) << r.body;
  json::value v = ParseJson(r.body);
  EXPECT_EQ(v.at("object"), json::value("describe"));
  EXPECT_EQ(v.at("task"), json::value("caption"));
  const std::string text(v.at("text").as_string());
  auto seen = ImagesIn(text);
  ASSERT_EQ(seen.size(), 1u) << text;
  EXPECT_EQ(seen[0].width, 640);
  EXPECT_NE(text.find("Describe this image"), std::string::npos) << text;

  json::object qa_without_question{
      {"image", media::Base64Encode(jpeg)}, {"task", "qa"}, {"model", "oa/gpt-echo-1"}};
  r = Http("POST", gateway_->base_url + "/v1/describe", json::serialize(qa_without_question), {},
           kTimeout);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("question"), std::string::npos) << r.body;
}

// Media metrics count bytes before and after.
TEST_F(Multimodal, MetricsCountMediaBytes) {
  (void)Post(Body("oa/gpt-echo-1", "hi", {ImagePart(DataUrl("image/jpeg", Jpeg(3000, 2000)))}));
  // Counted after the answer left (on its own event loop): wait for it.
  HttpResult m;
  Eventually(
      [&] {
        m = Http("GET", gateway_->base_url + "/metrics", "", {}, kTimeout);
        return m.body.find("modelmux_media_parts_total{provider=\"oa\",action=\"reencoded\"}") !=
               std::string::npos;
      },
      5s);
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("modelmux_media_bytes_total{provider=\"oa\",stage=\"before\"}"),
            std::string::npos);
  EXPECT_NE(m.body.find("modelmux_media_parts_total{provider=\"oa\",action=\"reencoded\"}"),
            std::string::npos);
}

}  // namespace
}  // namespace modelmux::testing
