#include "gateway/ui.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

namespace modelmux::gateway {
namespace {

std::string ReadSource(const std::string& name) {
  std::ifstream in(std::string(MODELMUX_SOURCE_DIR) + "/ui/" + name, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Ui, FnvVectors) {
  // The published FNV-1a 64-bit test vectors.
  EXPECT_EQ(Fnv1aHex(""), "cbf29ce484222325");
  EXPECT_EQ(Fnv1aHex("a"), "af63dc4c8601ec8c");
  EXPECT_EQ(Fnv1aHex("foobar"), "85944171f73967e8");
}

TEST(Ui, PathsMapToTheEmbeddedFiles) {
  const UiFile* index = FindUiFile("/ui");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(FindUiFile("/ui/"), index);
  EXPECT_EQ(FindUiFile("/ui/index.html"), index);
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  ASSERT_NE(FindUiFile("/ui/app.js"), nullptr);
  EXPECT_EQ(FindUiFile("/ui/app.js")->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(FindUiFile("/ui/style.css")->content_type, "text/css; charset=utf-8");
  EXPECT_EQ(FindUiFile("/ui/favicon.svg")->content_type, "image/svg+xml");
  for (const char* p :
       {"/uix", "/ui/nope.js", "/ui/../etc/passwd", "/ui//app.js", "/", "/ui/app.js/"}) {
    EXPECT_EQ(FindUiFile(p), nullptr) << p;
  }
}

TEST(Ui, EmbeddedBytesAreTheSourceFiles) {
  for (const char* name :
       {"index.html", "app.js", "metrics.js", "charts.js", "style.css", "favicon.svg"}) {
    const UiFile* f = FindUiFile(std::string("/ui/") + name);
    ASSERT_NE(f, nullptr) << name;
    const std::string disk = ReadSource(name);
    ASSERT_FALSE(disk.empty()) << name;
    EXPECT_EQ(f->body, disk) << name << ": rebuild after editing ui/";
    EXPECT_EQ(f->etag, "\"" + Fnv1aHex(disk) + "\"");
  }
}

TEST(Ui, NothingIsLoadedFromAnotherOrigin) {
  for (const char* name : {"index.html", "app.js", "metrics.js", "charts.js", "style.css"}) {
    const std::string body(FindUiFile(std::string("/ui/") + name)->body);
    EXPECT_EQ(body.find("http://"), std::string::npos) << name;
    EXPECT_EQ(body.find("https://"), std::string::npos) << name;
    EXPECT_EQ(body.find("src=\"//"), std::string::npos) << name;
    EXPECT_EQ(body.find("@import"), std::string::npos) << name;
    EXPECT_EQ(body.find("url("), std::string::npos) << name;
  }
  // CSP default-src 'self' forbids inline scripts and style attributes: the page has none.
  const std::string index(FindUiFile("/ui")->body);
  EXPECT_EQ(index.find("<script>"), std::string::npos);
  EXPECT_EQ(index.find("style=\""), std::string::npos);
  EXPECT_EQ(index.find("<style"), std::string::npos);
  EXPECT_FALSE(std::regex_search(index, std::regex(R"(\son[a-z]+\s*=)")));  // no onclick=...
}

TEST(Ui, ServesWithSecurityAndCacheHeaders) {
  UiResponse r = ServeUi("/ui/app.js", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.Get("content-security-policy"), "default-src 'self'");
  EXPECT_EQ(r.headers.Get("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(r.headers.Get("cache-control"), "no-cache");
  EXPECT_EQ(r.headers.Get("x-content-type-options"), "nosniff");
  EXPECT_EQ(r.headers.Get("etag"), "\"" + Fnv1aHex(ReadSource("app.js")) + "\"");
  EXPECT_EQ(r.body, ReadSource("app.js"));
  EXPECT_EQ(ServeUi("/ui/missing.css", "").status, 404);
}

TEST(Ui, RevalidationAnswers304) {
  const std::string etag(ServeUi("/ui", "").headers.Get("etag"));
  ASSERT_FALSE(etag.empty());
  UiResponse same = ServeUi("/ui", etag);
  EXPECT_EQ(same.status, 304);
  EXPECT_TRUE(same.body.empty());
  EXPECT_EQ(same.headers.Get("etag"), etag);
  EXPECT_EQ(same.headers.Get("content-security-policy"), "default-src 'self'");
  EXPECT_EQ(ServeUi("/ui", "\"0000000000000000\", W/" + etag).status, 304);
  EXPECT_EQ(ServeUi("/ui", "*").status, 304);
  EXPECT_EQ(ServeUi("/ui", "\"0000000000000000\"").status, 200);
  // A file's tag does not validate another file.
  EXPECT_EQ(ServeUi("/ui/style.css", etag).status, 200);
}

TEST(Ui, EtagMatching) {
  EXPECT_TRUE(EtagMatches("\"abc\"", "\"abc\""));
  EXPECT_TRUE(EtagMatches(" W/\"abc\" ", "\"abc\""));
  EXPECT_TRUE(EtagMatches("\"x\",\"abc\"", "\"abc\""));
  EXPECT_FALSE(EtagMatches("", "\"abc\""));
  EXPECT_FALSE(EtagMatches("\"abcd\"", "\"abc\""));
  EXPECT_FALSE(EtagMatches("abc", "\"abc\""));
}

}  // namespace
}  // namespace modelmux::gateway
