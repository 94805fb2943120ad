#include "batch/item.hpp"

#include <gtest/gtest.h>

#include "batch/output.hpp"
#include "batch/report.hpp"

namespace modelmux::batch {
namespace {

Defaults D() {
  Defaults d;
  d.model = "sim/echo";
  return d;
}

TEST(ParseLine, SimpleLineWithDefaults) {
  Defaults d = D();
  d.system = "be brief";
  d.max_tokens = 50;
  auto item = ParseLine(R"({"id": 7, "prompt": "hello"})", 3, d);
  ASSERT_TRUE(item.ok()) << item.error().message;
  EXPECT_EQ(item->key, "7");
  EXPECT_EQ(item->id_json, "7");
  EXPECT_EQ(item->format, LineFormat::kSimple);
  EXPECT_EQ(item->chat.model, "sim/echo");
  ASSERT_EQ(item->chat.messages.size(), 2u);
  EXPECT_EQ(item->chat.messages[0].Text(), "be brief");
  EXPECT_EQ(item->chat.messages[1].Text(), "hello");
  EXPECT_EQ(item->chat.max_tokens, 50);
}

TEST(ParseLine, SimpleLineOwnFieldsWin) {
  auto item = ParseLine(
      R"({"id":"x","prompt":"p","model":"m/n","system":"s","max_tokens":9,"temperature":0.5,
          "image":["https://example.com/a.png","local.png"]})",
      1, D());
  ASSERT_TRUE(item.ok()) << item.error().message;
  EXPECT_EQ(item->chat.model, "m/n");
  EXPECT_EQ(item->chat.max_tokens, 9);
  EXPECT_EQ(item->chat.temperature, 0.5);
  EXPECT_EQ(item->image_files, std::vector<std::string>{"local.png"});
  ASSERT_EQ(item->chat.messages.back().content.size(), 2u);  // text + the URL image
  EXPECT_EQ(item->chat.messages.back().content[1].url, "https://example.com/a.png");
}

TEST(ParseLine, BatchApiLine) {
  auto item = ParseLine(
      R"({"custom_id":"r1","method":"POST","url":"/v1/chat/completions",
          "body":{"messages":[{"role":"user","content":"hi"}],"max_tokens":5}})",
      2, D());
  ASSERT_TRUE(item.ok()) << item.error().message;
  EXPECT_EQ(item->format, LineFormat::kBatchApi);
  EXPECT_EQ(item->key, "r1");
  EXPECT_EQ(item->id_json, "\"r1\"");
  EXPECT_EQ(item->chat.model, "sim/echo");  // from the default
  EXPECT_EQ(item->chat.max_tokens, 5);
}

TEST(ParseLine, BatchApiEmbeddings) {
  auto item = ParseLine(
      R"({"custom_id":"e","method":"POST","url":"/v1/embeddings","body":{"input":"abc"}})", 1, D());
  ASSERT_TRUE(item.ok()) << item.error().message;
  EXPECT_EQ(item->endpoint, Endpoint::kEmbeddings);
  EXPECT_EQ(item->embed.inputs, std::vector<std::string>{"abc"});
}

TEST(ParseLine, ErrorsNameTheLine) {
  struct Case {
    const char* text;
    const char* code;
  } cases[] = {
      {"{not json", "malformed_line"},
      {"[1,2]", "malformed_line"},
      {R"({"prompt":"no id"})", "malformed_line"},
      {R"({"id":1})", "malformed_line"},
      {R"({"id":1,"prompt":"x","colour":"red"})", "malformed_line"},
      {R"({"custom_id":"a","method":"POST","url":"/v1/images","body":{}})", "unsupported_url"},
      {R"({"custom_id":"a","method":"GET","url":"/v1/chat/completions","body":{}})",
       "malformed_line"},
  };
  for (const auto& c : cases) {
    auto item = ParseLine(c.text, 12, D());
    ASSERT_FALSE(item.ok()) << c.text;
    EXPECT_EQ(item.error().code, c.code) << c.text;
    EXPECT_TRUE(item.error().message.starts_with("line 12: ")) << item.error().message;
  }
  auto no_model = ParseLine(R"({"id":1,"prompt":"x"})", 4, Defaults{});
  ASSERT_FALSE(no_model.ok());
  EXPECT_EQ(no_model.error().code, "missing_model");
}

TEST(CheckImages, MissingFile) {
  auto item = ParseLine(R"({"id":1,"prompt":"x","image":"/no/such/file.png"})", 5, D());
  ASSERT_TRUE(item.ok());
  auto st = CheckImages(*item, {});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "image_not_found");
  EXPECT_TRUE(st.error().message.starts_with("line 5: "));
}

TEST(EncodeOutcome, SimpleAndBatchApiShapes) {
  Outcome o;
  o.id_json = "3";
  o.format = LineFormat::kSimple;
  Choice c;
  c.message.role = Role::kAssistant;
  c.message.content.push_back({PartType::kText, "hi\nthere"});
  c.finish_reason = FinishReason::kStop;
  o.chat.choices.push_back(c);
  o.chat.model = "m";
  o.usage = Usage{.prompt_tokens = 4, .completion_tokens = 2};
  EXPECT_EQ(EncodeOutcome(o, "u"),
            R"({"id":3,"response":"hi\nthere","model":"m","finish_reason":"stop",)"
            R"("usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}})"
            "\n");
  o.error = InvalidRequest("bad", "", "oops");
  EXPECT_EQ(EncodeOutcome(o, "u"),
            R"({"id":3,"error":{"message":"bad","type":"invalid_request","code":"oops",)"
            R"("status":400}})"
            "\n");
  o.format = LineFormat::kBatchApi;
  o.id_json = "\"r1\"";
  o.request_id = "batch-1";
  const std::string line = EncodeOutcome(o, "abc");
  EXPECT_TRUE(line.starts_with(
      R"({"id":"batch_req_abc","custom_id":"r1","response":{"status_code":400,"request_id":"batch-1","body":{"error":)"))
      << line;
  EXPECT_TRUE(line.ends_with("},\"error\":null}\n")) << line;
}

TEST(Percentile, NearestRank) {
  std::vector<float> v;
  for (int i = 1; i <= 100; ++i) v.push_back(static_cast<float>(i));
  EXPECT_EQ(Percentile(v, 0.50), 50);
  EXPECT_EQ(Percentile(v, 0.95), 95);
  EXPECT_EQ(Percentile(v, 0.99), 99);
  EXPECT_EQ(Percentile({}, 0.5), 0);
  EXPECT_EQ(Percentile({7}, 0.99), 7);
}

}  // namespace
}  // namespace modelmux::batch
