#include "telemetry/request_log_redact.hpp"

#include <gtest/gtest.h>

#include "telemetry/request_log.hpp"

namespace modelmux::telemetry {
namespace {

// Canary secrets: none of these may survive.
constexpr std::string_view kCanaries[] = {"sk-proj-CANARYabcdef0123456789",
                                          "sk-ant-api03-CANARY0123456789abcdef",
                                          "mm-CANARYvirtualkey0123456789",
                                          "AKIACANARY0123456789",
                                          "AIzaSyCANARY0123456789abcdefghijklmno",
                                          "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2ln",
                                          "canary-password-hunter2",
                                          "canary-plain-token-value"};

TEST(RedactTest, SecretsInFieldsAndKeyShapesAreRedacted) {
  const std::string body =
      std::string(R"({"model":"gpt-4o","api_key":")") + std::string(kCanaries[6]) +
      R"(","Authorization":"Bearer )" + std::string(kCanaries[7]) + R"(","nested":{"token":")" +
      std::string(kCanaries[7]) + R"(","max_tokens":64},"messages":[)" +
      R"({"role":"user","content":"my key is )" + std::string(kCanaries[0]) + " and " +
      std::string(kCanaries[1]) + ", " + std::string(kCanaries[2]) + ", " +
      std::string(kCanaries[3]) + ", " + std::string(kCanaries[4]) + ", jwt " +
      std::string(kCanaries[5]) + R"("}],"password":")" + std::string(kCanaries[6]) + R"("})";
  const std::string out = RedactBody(body);
  for (auto c : kCanaries) EXPECT_EQ(out.find(c), std::string::npos) << c << " in " << out;
  EXPECT_EQ(out.find("CANARY"), std::string::npos) << out;
  // What is not secret stays readable.
  EXPECT_NE(out.find(R"("model":"gpt-4o")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("max_tokens":64)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("api_key":"[REDACTED]")"), std::string::npos) << out;
  EXPECT_NE(out.find("my key is [REDACTED] and"), std::string::npos) << out;
}

TEST(RedactTest, MediaIsElidedWithTypeAndSize) {
  // A JPEG's magic bytes (FF D8 FF E0) then filler: 4 + 296 = 300 bytes -> 400 base64 chars.
  std::string jpeg = "/9j/4" + std::string(395, 'A');
  const std::string body =
      R"({"messages":[{"content":[{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,)" +
      jpeg +
      R"("}},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo)" +
      std::string(149, 'A') + R"("}}]}]})";
  const std::string out = RedactBody(body);
  EXPECT_NE(out.find(R"("url":"<image/jpeg 300 bytes>")"), std::string::npos) << out;
  // 160 chars of unpadded base64 = 120 bytes, sniffed as PNG.
  EXPECT_NE(out.find(R"("data":"<image/png 120 bytes>")"), std::string::npos) << out;
  EXPECT_EQ(out.find("AAAAAAAA"), std::string::npos);
}

TEST(RedactTest, TruncatesLongBodiesAndKeepsPlainText) {
  EXPECT_EQ(RedactBody("hello world"), "hello world");
  EXPECT_EQ(RedactKeyShapes("Authorization: Bearer abcdefgh12345"),
            "Authorization: Bearer [REDACTED]");
  const std::string out = RedactBody(std::string(100, 'x'), 10);
  EXPECT_EQ(out, std::string(10, 'x') + "...(truncated, 100 bytes)");
}

TEST(RedactTest, LogLineWithBodiesParsesAndHoldsNoCanary) {
  RequestRecord r;
  r.request_id = "req-9";
  r.model = "sim/echo";
  r.status = 200;
  r.key_id = "key_1";
  r.request_body = RedactBody(R"({"api_key":"sk-proj-CANARYabcdef0123456789","q":"a \"quote\""})");
  r.response_body =
      RedactBody(R"({"choices":[{"message":{"content":"Bearer mm-CANARYvirtualkey0123456789"}}]})");
  const std::string line = RequestLog(LogFormat::kJson).Format(r);
  EXPECT_EQ(line.find("CANARY"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("key_id":"key_1")"), std::string::npos);
  EXPECT_NE(line.find(R"("request_body":"{\"api_key\":\"[REDACTED]\")"), std::string::npos) << line;
}

}  // namespace
}  // namespace modelmux::telemetry
