// PrepareMedia with the originals kept outside the request (MediaSources): a part that fits is
// handed back to the owner to fill with the original itself, a part that is re-encoded gets its
// new URL, and parts are numbered in request order across messages.

#include "media/prepare.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <map>

#include "media/image_testing.hpp"

namespace modelmux::media {
namespace {

namespace asio = boost::asio;

// The originals, by media part number; records what PrepareMedia asked to keep.
class Originals final : public MediaSources {
 public:
  std::map<size_t, std::string> urls;
  std::vector<std::pair<size_t, std::string*>> kept;
  mutable std::vector<size_t> read;

  std::string_view Url(size_t n) const override {
    read.push_back(n);
    auto it = urls.find(n);
    return it == urls.end() ? std::string_view() : std::string_view(it->second);
  }
  void Keep(size_t n, std::string& at) override { kept.emplace_back(n, &at); }
};

Result<MediaReport> Prepare(ChatRequest& request, std::string_view provider,
                            MediaSources* sources) {
  asio::io_context io;
  // (PrepareMedia keeps references: the target and options outlive the coroutine.)
  const MediaTarget target = MediaTargetFor(provider);
  const MediaOptions options;
  auto fut = asio::co_spawn(io, PrepareMedia(request, target, options, nullptr, sources),
                            asio::use_future);
  io.run();
  return fut.get();
}

ContentPart Image(std::string url) {
  ContentPart p;
  p.type = PartType::kImage;
  p.url = std::move(url);
  return p;
}

ContentPart Text(std::string text) {
  ContentPart p;
  p.type = PartType::kText;
  p.text = std::move(text);
  return p;
}

std::string SmallJpegUrl() {
  auto img = testing::Photo(64, 48);
  return MakeDataUrl("image/jpeg", testing::Jpeg(img.get()));
}

std::string LargeJpeg() {
  auto img = testing::Photo(3000, 2000);  // over OpenAI's 2048 px side
  return testing::Jpeg(img.get());
}

TEST(PrepareMediaSources, APartThatFitsIsLeftForTheOwnerToFill) {
  Originals originals;
  originals.urls[0] = SmallJpegUrl();
  ChatRequest req;
  Message m;
  m.content = {Text("what is this?"), Image("")};
  req.messages.push_back(m);

  auto report = Prepare(req, "openai", &originals);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->reencoded, 0);
  ASSERT_EQ(originals.kept.size(), 1u);
  EXPECT_EQ(originals.kept[0].first, 0u);
  // The pointer names the part's url in the prepared request, still empty: no copy was made.
  ASSERT_EQ(req.messages[0].content.size(), 2u);
  EXPECT_EQ(originals.kept[0].second, &req.messages[0].content[1].url);
  EXPECT_TRUE(req.messages[0].content[1].url.empty());
  EXPECT_EQ(req.messages[0].content[1].mime_type, "image/jpeg");
}

TEST(PrepareMediaSources, AReencodedPartGetsItsNewUrlAndIsNotKept) {
  Originals originals;
  const std::string jpeg = LargeJpeg();
  originals.urls[0] = MakeDataUrl("image/jpeg", jpeg);
  ChatRequest req;
  Message m;
  m.content = {Image("")};
  req.messages.push_back(m);

  auto report = Prepare(req, "openai", &originals);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->reencoded, 1);
  EXPECT_EQ(report->bytes_before, jpeg.size());  // the original, read from the sources
  EXPECT_TRUE(originals.kept.empty());
  const std::string& url = req.messages[0].content[0].url;
  EXPECT_TRUE(url.starts_with("data:image/"));
  EXPECT_LT(url.size(), originals.urls[0].size());
}

TEST(PrepareMediaSources, PartsAreNumberedInRequestOrderAcrossMessages) {
  Originals originals;
  originals.urls[0] = SmallJpegUrl();
  originals.urls[2] = SmallJpegUrl();
  ChatRequest req;
  Message a;
  a.content = {Image(""), Text("and")};
  Message b;
  b.content = {Image("https://example.com/x.png"), Text("and"), Image("")};
  req.messages = {a, b};

  // OpenAI fetches http(s) URLs itself: part 1 stays in its part and is never read from sources.
  auto report = Prepare(req, "openai", &originals);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->passed_urls, 1);
  ASSERT_EQ(originals.kept.size(), 2u);
  EXPECT_EQ(originals.kept[0].first, 0u);
  EXPECT_EQ(originals.kept[0].second, &req.messages[0].content[0].url);
  EXPECT_EQ(originals.kept[1].first, 2u);
  EXPECT_EQ(originals.kept[1].second, &req.messages[1].content[2].url);
  EXPECT_EQ(req.messages[1].content[0].url, "https://example.com/x.png");
  for (size_t n : originals.read) EXPECT_NE(n, 1u);
}

TEST(PrepareMediaSources, WithoutSourcesTheRequestKeepsItsOwnUrls) {
  ChatRequest req;
  Message m;
  const std::string url = SmallJpegUrl();
  m.content = {Image(url)};
  req.messages.push_back(m);
  auto report = Prepare(req, "openai", nullptr);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(req.messages[0].content[0].url, url);
}

TEST(PrepareMediaSources, AnEmptyUrlWithNoOriginalIsARequestError) {
  Originals originals;  // nothing for part 0
  ChatRequest req;
  Message m;
  m.content = {Image("")};
  req.messages.push_back(m);
  auto report = Prepare(req, "openai", &originals);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().param, "messages[0].content[0].image_url");
  EXPECT_TRUE(originals.kept.empty());
}

}  // namespace
}  // namespace modelmux::media
