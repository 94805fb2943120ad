// Image URLs fetched by the gateway, end to end: a plain HTTP file server (python3 -m http.server)
// on loopback serves the files, a `modelmux sim` is the provider, and gateways with different
// `media:` settings sit in between. The simulator states what image it received
// ("[image: jpeg 2048x1365, 301234 bytes]" or "[image: url http://...]"), and the file server's
// access log (on its stderr) says whether the gateway asked it for anything.
//
// Loopback is an internal address: the gateway refuses it unless media.fetch_allow names it.

#include <gtest/gtest.h>
#include <vips/vips.h>

#include <mutex>
#include <regex>
#include <thread>

#include "gateway_it.hpp"

namespace modelmux::testing {
namespace {

constexpr auto kTimeout = std::chrono::seconds(60);

void InitVips() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (VIPS_INIT("media_fetch_test") != 0) std::abort();
  });
}

// A photo-like JPEG (noise over a gradient).
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

// `python3 -u -m http.server 0` serving `dir` on 127.0.0.1.
struct FileServer {
  std::unique_ptr<Process> process;
  std::string base_url;  // http://127.0.0.1:PORT
  int syncs_ = 0;

  explicit FileServer(const std::filesystem::path& dir) {
    process = Process::Start("python3", {"-u", "-m", "http.server", "0", "--bind", "127.0.0.1",
                                         "--directory", dir.string()});
    // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
    const std::string line = process->WaitForLine("Serving HTTP on");
    std::smatch m;
    if (!std::regex_search(line, m, std::regex(R"( port (\d+))"))) {
      throw std::runtime_error("no port in: " + line);
    }
    base_url = "http://127.0.0.1:" + m[1].str();
  }

  // Access-log lines ("GET /photo.jpg HTTP/1.1" 200 -) that name `path`.
  [[nodiscard]] int Requests(std::string_view path) const {
    const std::string needle = "\"GET " + std::string(path) + " ";
    const std::string tail = process->stderr_tail();
    int n = 0;
    for (size_t at = tail.find(needle); at != std::string::npos; at = tail.find(needle, at + 1)) {
      ++n;
    }
    return n;
  }
  // A barrier: asks the server for a marker itself and waits until its log shows it. The log is
  // written in order, so any request made before (by a gateway that has since answered) is in it.
  void Sync() {
    const std::string marker = "/notes.txt?sync=" + std::to_string(++syncs_);
    HttpResult r = Http("GET", base_url + marker, "", {}, kTimeout);
    if (r.status != 200 || WaitForRequests(marker, 1) != 1) {
      throw std::runtime_error("file server log did not show " + marker);
    }
  }
  // Waits (bounded) for the access log to show `count` requests for `path`.
  [[nodiscard]] int WaitForRequests(std::string_view path, int count) const {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (Requests(path) < count && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return Requests(path);
  }
};

std::string Config(const std::string& sim, const std::string& media) {
  return "providers:\n"
         "  gem:\n"
         "    type: gemini\n"
         "    base_url: \"" +
         sim +
         "\"\n"
         "    api_key: k-gem\n"
         "  oa:\n"
         "    type: openai\n"
         "    base_url: \"" +
         sim +
         "/v1\"\n"
         "    api_key: k-oa\n" +
         media;
}

std::string ImageBody(std::string_view model, std::string_view url) {
  json::array content{
      json::object{{"type", "text"}, {"text", "what is this?"}},
      json::object{{"type", "image_url"}, {"image_url", json::object{{"url", url}}}}};
  json::object o{{"model", model},
                 {"messages", json::array{json::object{{"role", "user"}, {"content", content}}}}};
  return json::serialize(o);
}

std::string Text(const HttpResult& r) {
  json::value v = ParseJson(r.body);
  if (!v.is_object() || !v.get_object().contains("choices")) return {};
  const json::value& content = v.at("choices").at(0).at("message").at("content");
  return content.is_string() ? std::string(content.get_string()) : std::string();
}

// The code of an error body that must have the OpenAI shape (checked).
std::string OpenAiErrorCode(const HttpResult& r) {
  json::object e = ExpectOpenAiError(r.body);
  return e.contains("code") ? Str(e.at("code")) : std::string();
}

class MediaFetch : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    files_ = new TempDir();
    photo_ = new std::string(Jpeg(3000, 2000));
    files_->Write("photo.jpg", *photo_);
    files_->Write("notes.txt", "not a picture, just some words\n");
    server_ = new FileServer(files_->path());
    sim_ = new Service(StartSim());
    allowed_ = new Service(StartGateway(
        {"--config",
         dir_->Write("allowed.yaml",
                     Config(sim_->base_url, "media:\n  fetch_allow: [\"127.0.0.1\"]\n"))}));
    plain_ = new Service(
        StartGateway({"--config", dir_->Write("plain.yaml", Config(sim_->base_url, ""))}));
    no_fetch_ = new Service(StartGateway(
        {"--config",
         dir_->Write(
             "no_fetch.yaml",
             Config(sim_->base_url, "media:\n  fetch: false\n  fetch_allow: [\"127.0.0.1\"]\n"))}));
  }
  static void TearDownTestSuite() {
    delete no_fetch_;
    delete plain_;
    delete allowed_;
    delete sim_;
    delete server_;
    delete photo_;
    delete files_;
    delete dir_;
  }

  static HttpResult Post(const Service& gateway, std::string_view model, const std::string& url) {
    return Http("POST", gateway.base_url + "/v1/chat/completions", ImageBody(model, url), {},
                kTimeout);
  }
  static int64_t SimCalls() {
    json::value v = ParseJson(Http("GET", sim_->base_url + "/sim/stats", "", {}, kTimeout).body);
    return v.is_object() ? v.at("total").to_number<int64_t>() : -1;
  }

  static TempDir* dir_;
  static TempDir* files_;
  static std::string* photo_;
  static FileServer* server_;
  static Service* sim_;
  static Service* allowed_;   // media.fetch_allow: ["127.0.0.1"]
  static Service* plain_;     // no allow-list
  static Service* no_fetch_;  // media.fetch: false
};
TempDir* MediaFetch::dir_ = nullptr;
TempDir* MediaFetch::files_ = nullptr;
std::string* MediaFetch::photo_ = nullptr;
FileServer* MediaFetch::server_ = nullptr;
Service* MediaFetch::sim_ = nullptr;
Service* MediaFetch::allowed_ = nullptr;
Service* MediaFetch::plain_ = nullptr;
Service* MediaFetch::no_fetch_ = nullptr;

// Gemini does not download URLs: the gateway fetches the photo, fits it (3000x2000 -> 2048 px on
// the longest side with lean balanced) and sends it inline.
TEST_F(MediaFetch, AllowListedUrlIsFetchedAndFitted) {
  ASSERT_FALSE(photo_->empty());
  const int before = server_->Requests("/photo.jpg");
  HttpResult r = Post(*allowed_, "gem/gemini-echo", server_->base_url + "/photo.jpg");
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 400);
  EXPECT_EQ(server_->WaitForRequests("/photo.jpg", before + 1), before + 1);
  const std::string text = Text(r);
  auto seen = ImagesIn(text);
  ASSERT_EQ(seen.size(), 1u) << text;
  EXPECT_EQ(seen[0].format, "jpeg");
  EXPECT_EQ(seen[0].width, 2048) << text;
  EXPECT_NEAR(seen[0].height, 2000.0 * 2048 / 3000, 1.0) << text;
  EXPECT_LT(seen[0].bytes, photo_->size());
  EXPECT_FALSE(Contains(text, "[image: url")) << text;
  const std::string media(r.headers.Get("x-modelmux-media"));
  EXPECT_TRUE(Contains(media, "fetched=1")) << media;
  EXPECT_TRUE(Contains(media, "bytes_before=" + std::to_string(photo_->size()))) << media;
}

// Without the allow-list, loopback is refused before any connection is made.
TEST_F(MediaFetch, LoopbackWithoutAllowListIsForbiddenAndNeverContacted) {
  const int before = server_->Requests("/photo.jpg");
  const int64_t sim_before = SimCalls();
  HttpResult r = Post(*plain_, "gem/gemini-echo", server_->base_url + "/photo.jpg");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(OpenAiErrorCode(r), "url_forbidden") << r.body;
  server_->Sync();
  EXPECT_EQ(server_->Requests("/photo.jpg"), before) << server_->process->stderr_tail();
  EXPECT_EQ(SimCalls(), sim_before) << "a refused request reached the provider";
}

// The first bytes must be an image: a text file is refused, whatever its URL says.
TEST_F(MediaFetch, NonImageIsATypeMismatch) {
  const int64_t sim_before = SimCalls();
  HttpResult r = Post(*allowed_, "gem/gemini-echo", server_->base_url + "/notes.txt");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(OpenAiErrorCode(r), "media_type_mismatch") << r.body;
  EXPECT_GE(server_->WaitForRequests("/notes.txt", 1), 1);
  EXPECT_EQ(SimCalls(), sim_before);
}

// A file the server does not have: the caller's error, naming the status.
TEST_F(MediaFetch, MissingFileIsAFetchFailureNamingTheStatus) {
  HttpResult r = Post(*allowed_, "gem/gemini-echo", server_->base_url + "/missing.jpg");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(OpenAiErrorCode(r), "media_fetch_failed") << r.body;
  json::object e = ExpectOpenAiError(r.body);
  EXPECT_TRUE(Contains(Str(e["message"]), "404")) << r.body;
  EXPECT_GE(server_->WaitForRequests("/missing.jpg", 1), 1);
}

// media.fetch: false: a URL the provider cannot fetch is refused, even an allow-listed one.
TEST_F(MediaFetch, FetchOffRefusesUrlsTheProviderCannotFetch) {
  const int before = server_->Requests("/photo.jpg");
  HttpResult r = Post(*no_fetch_, "gem/gemini-echo", server_->base_url + "/photo.jpg");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(OpenAiErrorCode(r), "media_url_not_fetched") << r.body;
  server_->Sync();
  EXPECT_EQ(server_->Requests("/photo.jpg"), before);
}

// OpenAI downloads URLs itself: the URL goes through untouched and the gateway fetches nothing.
TEST_F(MediaFetch, ProviderThatFetchesGetsTheUrl) {
  const std::string url = server_->base_url + "/photo.jpg";
  const int before = server_->Requests("/photo.jpg");
  HttpResult r = Post(*allowed_, "oa/gpt-echo-1", url);
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 400);
  EXPECT_TRUE(Contains(Text(r), "[image: url " + url + "]")) << Text(r);
  EXPECT_TRUE(ImagesIn(Text(r)).empty()) << Text(r);
  server_->Sync();
  EXPECT_EQ(server_->Requests("/photo.jpg"), before) << server_->process->stderr_tail();
}

}  // namespace
}  // namespace modelmux::testing
