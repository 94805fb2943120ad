// The pure pieces of the file upload client (the protocol against the simulator runs in
// tests/integration/file_upload_test.cpp), and the Anthropic dialect's file source.
#include "upstream/file_upload.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace modelmux::upstream {
namespace {
namespace json = boost::json;

std::unique_ptr<Provider> Make(std::string name, std::string type, std::string key) {
  ProviderSpec spec;
  spec.name = std::move(name);
  spec.type = std::move(type);
  spec.base_url = "http://127.0.0.1:9/v1beta";
  spec.api_key = std::move(key);
  auto p = Provider::Create(std::move(spec));
  EXPECT_TRUE(p.ok());
  return p.ok() ? std::move(p).value() : nullptr;
}

TEST(GeminiUploadUrl, KeepsTheApiVersionUnderUpload) {
  EXPECT_EQ(GeminiUploadUrl("https://generativelanguage.googleapis.com/v1beta"),
            "https://generativelanguage.googleapis.com/upload/v1beta/files");
  EXPECT_EQ(GeminiUploadUrl("http://127.0.0.1:9/v1/"), "http://127.0.0.1:9/upload/v1/files");
  EXPECT_EQ(GeminiUploadUrl("http://127.0.0.1:9"), "http://127.0.0.1:9/upload/v1beta/files");
}

TEST(NextChunk, SplitsAndFinalizesOnTheLastChunk) {
  Chunk c = NextChunk(10, 0, 4);
  EXPECT_EQ(c.offset, 0u);
  EXPECT_EQ(c.size, 4u);
  EXPECT_FALSE(c.last);
  c = NextChunk(10, 8, 4);
  EXPECT_EQ(c.size, 2u);
  EXPECT_TRUE(c.last);
  c = NextChunk(8, 4, 4);
  EXPECT_EQ(c.size, 4u);
  EXPECT_TRUE(c.last);
  c = NextChunk(0, 0, 4);  // an empty file is one finalizing call
  EXPECT_EQ(c.size, 0u);
  EXPECT_TRUE(c.last);
}

TEST(MultipartFileBody, OnePartNamedFile) {
  const std::string body = MultipartFileBody("BND", "a\"b.jpg", "image/jpeg", "xyz");
  EXPECT_EQ(body,
            "--BND\r\nContent-Disposition: form-data; name=\"file\"; filename=\"ab.jpg\"\r\n"
            "Content-Type: image/jpeg\r\n\r\nxyz\r\n--BND--\r\n");
}

TEST(ParseGeminiFile, ReadsWrappedAndBareFiles) {
  std::string state;
  auto wrapped = ParseGeminiFile(
      R"({"file":{"name":"files/abc","uri":"https://g/v1beta/files/abc","mimeType":"video/mp4",)"
      R"("state":"PROCESSING"}})",
      state);
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(wrapped->name, "files/abc");
  EXPECT_EQ(wrapped->reference, "https://g/v1beta/files/abc");
  EXPECT_EQ(wrapped->mime_type, "video/mp4");
  EXPECT_EQ(state, "PROCESSING");
  auto bare = ParseGeminiFile(R"({"name":"files/x","uri":"u","state":"ACTIVE"})", state);
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(state, "ACTIVE");
  EXPECT_FALSE(ParseGeminiFile(R"({"file":{"name":"files/x"}})", state).ok());
  EXPECT_FALSE(ParseGeminiFile("not json", state).ok());
}

TEST(ParseAnthropicFile, ReferenceIsTheFileIdScheme) {
  auto ref = ParseAnthropicFile(R"({"id":"file_011","type":"file","mime_type":"image/png"})",
                                "image/jpeg");
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ref->reference, "file-id:file_011");
  EXPECT_EQ(ref->mime_type, "image/png");
  EXPECT_FALSE(ParseAnthropicFile(R"({"type":"file"})", "image/png").ok());
}

TEST(FileRefCache, ExpiresAfterTheTtl) {
  auto now = std::chrono::steady_clock::time_point{};
  FileRefCache cache([&now] { return now; });
  cache.Put("k", FileRef{"file-id:f1", "image/png", "f1"}, std::chrono::seconds(10));
  now += std::chrono::seconds(9);
  auto hit = cache.Get("k");
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->reference, "file-id:f1");
  now += std::chrono::seconds(2);
  EXPECT_FALSE(cache.Get("k").has_value());
  EXPECT_FALSE(cache.Get("other").has_value());
}

TEST(FileRefCache, KeyDependsOnProviderCredentialAndBytes) {
  auto a = Make("gem", "gemini", "key-a");
  auto b = Make("gem", "gemini", "key-b");
  auto c = Make("gem2", "gemini", "key-a");
  ASSERT_TRUE(a && b && c);
  const std::string k = FileRefCache::Key(*a, "bytes");
  EXPECT_EQ(k, FileRefCache::Key(*a, "bytes"));
  EXPECT_NE(k, FileRefCache::Key(*b, "bytes"));
  EXPECT_NE(k, FileRefCache::Key(*c, "bytes"));
  EXPECT_NE(k, FileRefCache::Key(*a, "bytez"));
  EXPECT_EQ(k.find("key-a"), std::string::npos) << "no secret in the key";
}

TEST(SupportsFileUpload, GeminiAndAnthropicOnly) {
  EXPECT_TRUE(SupportsFileUpload(*Make("g", "gemini", "k")));
  EXPECT_TRUE(SupportsFileUpload(*Make("a", "anthropic", "k")));
  EXPECT_FALSE(SupportsFileUpload(*Make("o", "openai", "k")));
}

// The Anthropic dialect turns a file reference into a file source and adds the beta header.
TEST(AnthropicFileSource, EncodedWithTheBetaHeader) {
  auto p = Make("a", "anthropic", "k");
  ChatRequest req;
  req.model = "claude-x";
  Message m;
  m.content_is_string = false;
  ContentPart image;
  image.type = PartType::kImage;
  image.url = "file-id:file_abc";
  m.content.push_back(image);
  req.messages.push_back(m);
  auto wire = p->wire().EncodeChat(req, {"claude-x", false, ""});
  ASSERT_TRUE(wire.ok()) << wire.error().message;
  json::value body = json::parse(wire->body);
  const json::value& source = body.at("messages").at(0).at("content").at(0).at("source");
  EXPECT_EQ(source.at("type").as_string(), "file");
  EXPECT_EQ(source.at("file_id").as_string(), "file_abc");
  bool beta = false;
  for (const auto& [k, v] : wire->headers)
    beta = beta || (k == "anthropic-beta" && v == kAnthropicFilesBeta);
  EXPECT_TRUE(beta);

  req.messages[0].content[0].url = "data:image/png;base64,AAAA";
  auto inline_wire = p->wire().EncodeChat(req, {"claude-x", false, ""});
  ASSERT_TRUE(inline_wire.ok());
  for (const auto& [k, v] : inline_wire->headers) EXPECT_NE(k, "anthropic-beta");
}

}  // namespace
}  // namespace modelmux::upstream
