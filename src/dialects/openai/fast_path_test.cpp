#include "dialects/openai/fast_path.hpp"

#include <gtest/gtest.h>

#include <string>

#include "dialects/openai/request.hpp"
#include "dialects/openai/test_util.hpp"

namespace modelmux::dialects::openai {
namespace {

using testing::ReadTestdata;

const char* kWrkBody =
    R"({"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},)"
    R"({"role":"user","content":"What is the capital of France? Answer in one sentence."}],)"
    R"("temperature":0.2,"max_tokens":64})";

TEST(FastPathTest, ScanWrkBody) {
  auto s = ScanChatRequest(kWrkBody);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->model, "gpt-4o-mini");
  EXPECT_FALSE(s->stream);
  EXPECT_EQ(s->max_tokens, 64);
  EXPECT_EQ(s->prompt_chars, 28u + 54u);
  EXPECT_TRUE(s->extension_keys_present.empty());
}

TEST(FastPathTest, ScanStreamFlagsAndExtensions) {
  auto s = ScanChatRequest(ReadTestdata("request_vendor_fields.json"));
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->stream);
  EXPECT_TRUE(s->has_stream_options);
  EXPECT_FALSE(s->include_usage);
  EXPECT_EQ(s->prompt_chars, 2u);
  EXPECT_EQ(s->extension_keys_present, std::vector<std::string>{"split_sentences"});
}

TEST(FastPathTest, RejectsExactlyLikeTheDecoder) {
  const char* bad[] = {
      "not json",
      "[]",
      "{\"model\":1}",
      R"({"messages":[{"role":"user","content":"x"}]})",
      R"({"model":"m"})",
      R"({"model":"m","messages":{}})",
      R"({"model":"m","messages":[]})",
      R"({"model":"m","messages":[{}],"stream":1})",
      R"({"model":"m","messages":[{}],"temperature":"x"})",
      R"({"model":"m","messages":[{}],"temperature":9})",
      R"({"model":"m","messages":[{}],"max_tokens":-1})",
      R"({"model":"m","messages":[{}],"max_tokens":"5"})",
      R"({"model":"m","messages":[{}],"max_completion_tokens":0})",
  };
  for (const char* body : bad) {
    SCOPED_TRACE(body);
    auto scan = ScanChatRequest(body);
    auto full = DecodeChatRequest(body);
    ASSERT_FALSE(scan.ok());
    ASSERT_FALSE(full.ok());
    EXPECT_EQ(scan.error().param, full.error().param);
    EXPECT_EQ(scan.error().code, full.error().code);
    EXPECT_EQ(scan.error().message, full.error().message);
  }
}

TEST(FastPathTest, RewriteSetsModelAndKeepsOtherBytes) {
  auto r = RewriteForUpstream(kWrkBody, "gpt-4o-mini-2024-07-18", false, {});
  ASSERT_TRUE(r.ok());
  std::string expected = kWrkBody;
  expected.replace(expected.find("gpt-4o-mini"), 11, "gpt-4o-mini-2024-07-18");
  EXPECT_EQ(*r, expected);  // not streaming: no stream_options added
}

TEST(FastPathTest, RewriteAddsIncludeUsageAndRemovesExtensions) {
  const std::string body =
      R"({ "model" : "alias", "split_sentences": true, "messages":[{"role":"user","content":"hi"}],)"
      R"( "stream": true, "big": 123456789012345678901234567890, "t": 0.10000000000000001,)"
      R"( "cache": {"ttl": "1h"} })";
  auto r = RewriteForUpstream(body, "real\"model", true, kExtensionKeys);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(
      *r, R"({ "model" : "real\"model","messages":[{"role":"user","content":"hi"}],"stream": true,)"
          R"("big": 123456789012345678901234567890,"t": 0.10000000000000001,)"
          R"("stream_options":{"include_usage":true}})");
}

TEST(FastPathTest, RewriteMergesIntoExistingStreamOptions) {
  const std::string body =
      R"({"model":"a","messages":[{"role":"user","content":"hi"}],"stream":true,)"
      R"("stream_options":{"include_obfuscation":false},"context":"x"})";
  auto r = RewriteForUpstream(body, "b", true, kExtensionKeys);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, R"({"model":"b","messages":[{"role":"user","content":"hi"}],"stream":true,)"
                R"("stream_options":{"include_obfuscation":false,"include_usage":true}})");
  auto unchanged = RewriteForUpstream(body, "b", false, {});
  ASSERT_TRUE(unchanged.ok());
  EXPECT_EQ(*unchanged, R"({"model":"b","messages":[{"role":"user","content":"hi"}],"stream":true,)"
                        R"("stream_options":{"include_obfuscation":false},"context":"x"})");
}

TEST(FastPathTest, RewriteRejectsBadBodies) {
  EXPECT_FALSE(RewriteForUpstream("{", "m", true, {}).ok());
  EXPECT_FALSE(RewriteForUpstream("[1,2]", "m", true, {}).ok());
  EXPECT_FALSE(RewriteForUpstream("  ", "m", true, {}).ok());
}

TEST(FastPathTest, RewrittenBodyDecodesToTheSameRequestExceptModel) {
  for (const char* name : {"request_text.json", "request_tools.json", "request_images.json"}) {
    SCOPED_TRACE(name);
    const std::string body = ReadTestdata(name);
    auto rewritten = RewriteForUpstream(body, "upstream-x", false, {});
    ASSERT_TRUE(rewritten.ok());
    auto a = DecodeChatRequest(body);
    auto b = DecodeChatRequest(*rewritten);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(b->model, "upstream-x");
    b->model = a->model;
    testing::ExpectSameRequest(*a, *b);
  }
}

TEST(FastPathTest, ScanUsageShapes) {
  EXPECT_EQ(ScanUsage(R"({"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,)"
                      R"("prompt_tokens_details":{"cached_tokens":4}}})"),
            (Usage{9, 3, 4, 0, 0}));
  EXPECT_EQ(ScanUsage(R"({"choices":[{"index":0,"delta":{}}],"usage":null})"), std::nullopt);
  EXPECT_EQ(ScanUsage(R"({"choices":[{"delta":{},"usage":{"prompt_tokens":1,"completion_tokens":2,)"
                      R"("cached_tokens":1}}]})"),
            (Usage{1, 2, 1, 0, 0}));
  EXPECT_EQ(ScanUsage(R"({"usage":{"prompt_tokens":16,"completion_tokens":5,)"
                      R"("prompt_cache_hit_tokens":10,"prompt_cache_miss_tokens":6}})"),
            (Usage{16, 5, 10, 0, 0}));
  EXPECT_EQ(ScanUsage("garbage"), std::nullopt);
}

TEST(FastPathTest, UsageOnlyChunk) {
  EXPECT_TRUE(IsUsageOnlyChunk(R"({"id":"x","choices":[],"usage":{"prompt_tokens":1}})"));
  EXPECT_FALSE(IsUsageOnlyChunk(R"({"id":"x","choices":[],"prompt_filter_results":[]})"));
  EXPECT_FALSE(IsUsageOnlyChunk(R"({"choices":[{"delta":{}}],"usage":{"prompt_tokens":1}})"));
  EXPECT_FALSE(IsUsageOnlyChunk("[DONE]"));
}

}  // namespace
}  // namespace modelmux::dialects::openai
