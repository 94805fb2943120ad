// The file-API decision of the media stage: which parts go up, and the per-provider defaults;
// and its memory contract (no media copied to fit a request, the originals given back).
#include "routing/media_stage.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "media/limits.hpp"
#include "upstream/provider.hpp"

namespace modelmux::routing {
namespace {

using Sizes = std::vector<uint64_t>;
using Picks = std::vector<size_t>;

TEST(PartsToUpload, PartsOverTheThreshold) {
  EXPECT_EQ(PartsToUpload(Sizes{10, 200, 50, 300}, 100, 0), (Picks{1, 3}));
  EXPECT_EQ(PartsToUpload(Sizes{100}, 100, 0), Picks{}) << "at the threshold stays inline";
  EXPECT_EQ(PartsToUpload(Sizes{}, 100, 0), Picks{});
}

TEST(PartsToUpload, LargestFirstWhileTheInlineTotalIsOverTheLimit) {
  // Inline total 90 + 80 + 30 + 20 = 220 over 100: 90 goes (130 left), then 80 (50 left).
  EXPECT_EQ(PartsToUpload(Sizes{30, 90, 20, 80}, 1000, 100), (Picks{1, 3}));
  // Already under: nothing.
  EXPECT_EQ(PartsToUpload(Sizes{30, 20}, 1000, 100), Picks{});
  // Parts over the threshold do not count towards the inline total.
  EXPECT_EQ(PartsToUpload(Sizes{500, 60, 30}, 400, 100), (Picks{0}));
}

TEST(UploadAboveBytes, DefaultsFromTheProviderLimits) {
  MediaConfig m;
  // Gemini: a part whose base64 would be the whole 20 MB inline request.
  const uint64_t gemini_total = media::ImageLimitsFor("gemini").max_total_bytes;
  EXPECT_EQ(UploadAboveBytes(m, "gemini"), gemini_total / 4 * 3);
  EXPECT_EQ(UploadAboveBytes(m, "gemini"), 15'000'000u);
  // Anthropic: the 5 MiB base64 per image, in raw bytes.
  EXPECT_EQ(UploadAboveBytes(m, "anthropic"), 5u * 1024 * 1024 / 4 * 3);
  EXPECT_EQ(UploadAboveBytes(m, "openai"), 0u) << "no file API the chat API references";
  m.upload_above_bytes = 65536;
  EXPECT_EQ(UploadAboveBytes(m, "gemini"), 65536u);
  EXPECT_EQ(UploadAboveBytes(m, "bedrock"), 0u);
  m.upload = false;
  EXPECT_EQ(UploadAboveBytes(m, "gemini"), 0u);
}

// ---- the stage's memory contract: no media copy to fit a request, the originals given back ----

// A 1x1 PNG: fits every provider as it is.
constexpr std::string_view kTinyPng =
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwAD"
    "hgGAWjR9awAAAABJRU5ErkJggg==";

std::unique_ptr<upstream::Provider> MakeProvider(std::string type) {
  upstream::ProviderSpec spec;
  spec.name = type;
  spec.type = type;
  spec.base_url = "http://127.0.0.1:9/v1";  // never called: no part here is large enough to upload
  auto p = upstream::Provider::Create(std::move(spec));
  EXPECT_TRUE(p.ok());
  return p.ok() ? std::move(p).value() : nullptr;
}

Result<const ChatRequest*> Fit(MediaStage& stage, const Target& target) {
  boost::asio::io_context io;
  auto fut = boost::asio::co_spawn(io, stage.For(target), boost::asio::use_future);
  io.run();
  return fut.get();
}

TEST(MediaStageMemory, TheOriginalIsMovedIntoTheFittedRequestAndGivenBack) {
  Config config;
  auto openai = MakeProvider("openai");
  auto anthropic = MakeProvider("anthropic");
  ASSERT_TRUE(openai && anthropic);
  ChatRequest req;
  req.model = "m";
  Message m;
  ContentPart text;
  text.text = "what is it?";
  ContentPart image;
  image.type = PartType::kImage;
  image.url = std::string(kTinyPng);
  m.content = {text, image};
  m.content_is_string = false;
  req.messages.push_back(m);
  const char* original = req.messages[0].content[1].url.data();

  {
    MediaStage stage(config, req, config.media.image_policy);
    ASSERT_TRUE(stage.active());
    // While the stage runs, the request does not hold the media: fitting copied nothing.
    EXPECT_TRUE(req.messages[0].content[1].url.empty());
    Target a{openai.get(), "gpt"};
    auto fitted = Fit(stage, a);
    ASSERT_TRUE(fitted.ok()) << fitted.error().message;
    const std::string& sent = (*fitted)->messages[0].content[1].url;
    EXPECT_EQ(sent, kTinyPng);
    EXPECT_EQ(sent.data(), original) << "the fitted request holds a copy, not the original";
    EXPECT_EQ((*fitted)->messages[0].content[0].text, "what is it?");
    // A retry to the same provider type reuses the fitted request.
    auto again = Fit(stage, a);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *fitted);
    // Another provider type reads the original from where it now is, and sends its own copy.
    Target b{anthropic.get(), "claude"};
    auto other = Fit(stage, b);
    ASSERT_TRUE(other.ok()) << other.error().message;
    EXPECT_EQ((*other)->messages[0].content[1].url, kTinyPng);
    EXPECT_NE((*other)->messages[0].content[1].url.data(), original);
  }
  // The stage gave the original back: same bytes, same buffer.
  EXPECT_EQ(req.messages[0].content[1].url, kTinyPng);
  EXPECT_EQ(req.messages[0].content[1].url.data(), original);
}

TEST(MediaStageMemory, AFailedFitLeavesTheRequestWhole) {
  Config config;
  auto openai = MakeProvider("openai");
  ASSERT_TRUE(openai);
  ChatRequest req;
  Message m;
  ContentPart good, bad;
  good.type = bad.type = PartType::kImage;
  good.url = std::string(kTinyPng);
  bad.url = "data:image/png;base64,bm90IGFuIGltYWdl";  // "not an image"
  m.content = {good, bad};
  req.messages.push_back(m);
  {
    MediaStage stage(config, req, config.media.image_policy);
    auto fitted = Fit(stage, Target{openai.get(), "gpt"});
    ASSERT_FALSE(fitted.ok());
    EXPECT_EQ(fitted.error().param, "messages[0].content[1].image_url");
  }
  EXPECT_EQ(req.messages[0].content[0].url, kTinyPng);
  EXPECT_EQ(req.messages[0].content[1].url, "data:image/png;base64,bm90IGFuIGltYWdl");
}

}  // namespace
}  // namespace modelmux::routing
