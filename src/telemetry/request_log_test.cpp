#include "telemetry/request_log.hpp"

#include <gtest/gtest.h>

namespace modelmux::telemetry {
namespace {

RequestRecord Sample() {
  RequestRecord r;
  r.request_id = "req-1";
  r.method = "POST";
  r.path = "/v1/chat/completions";
  r.model = "sim/echo";
  r.status = 200;
  r.prompt_chars = 45;
  r.usage = Usage{100, 28};
  r.cost = "$0.002";
  r.start = std::chrono::system_clock::time_point(std::chrono::seconds(1'790'000'000));
  r.latency = std::chrono::milliseconds(1800);
  return r;
}

TEST(RequestLogTest, HumanFormIsTheSeedsTwoLines) {
  RequestLog log(LogFormat::kHuman);
  std::string text = log.Format(Sample());
  EXPECT_EQ(
      text,
      "[2026-09-21 14:13:20] REQUEST: model=sim/echo, prompt_len=45, tokens=128, cost=$0.002, "
      "request_id=req-1\n"
      "[2026-09-21 14:13:21] RESPONSE: status=200, latency=1.8s, request_id=req-1\n");
  auto failed = Sample();
  failed.status = 502;
  failed.error_code = "upstream_error";
  failed.cost.clear();
  EXPECT_EQ(log.Format(failed),
            "[2026-09-21 14:13:20] REQUEST: model=sim/echo, prompt_len=45, tokens=128, "
            "cost=unknown, request_id=req-1\n"
            "[2026-09-21 14:13:21] RESPONSE: status=502, latency=1.8s, error=upstream_error, "
            "request_id=req-1\n");
}

TEST(RequestLogTest, HumanFormWritesBodiesOnTheirOwnLines) {
  RequestLog log(LogFormat::kHuman);
  auto r = Sample();
  r.request_body = "{\"model\":\"sim/echo\",\n\"messages\":[]}";
  r.response_body = "{\"id\":\"x\"}";
  EXPECT_EQ(
      log.Format(r),
      "[2026-09-21 14:13:20] REQUEST: model=sim/echo, prompt_len=45, tokens=128, cost=$0.002, "
      "request_id=req-1\n"
      "[2026-09-21 14:13:20] REQUEST_BODY: {\"model\":\"sim/echo\",\\n\"messages\":[]}, "
      "request_id=req-1\n"
      "[2026-09-21 14:13:21] RESPONSE: status=200, latency=1.8s, request_id=req-1\n"
      "[2026-09-21 14:13:21] RESPONSE_BODY: {\"id\":\"x\"}, request_id=req-1\n");
}

TEST(RequestLogTest, JsonLineCarriesEveryTokenKind) {
  RequestLog log(LogFormat::kJson);
  auto r = Sample();
  r.usage = Usage{100, 28, 40, 30, 7};
  const std::string text = log.Format(r);
  EXPECT_NE(text.find(R"("prompt_tokens":100,"completion_tokens":28,"cached_tokens":40,)"
                      R"("cache_write_tokens":30,"reasoning_tokens":7,"tokens":128)"),
            std::string::npos)
      << text;
}

TEST(RequestLogTest, JsonLineEscapesAndCarriesTheRequestId) {
  RequestLog log(LogFormat::kJson);
  auto r = Sample();
  r.error_code = "upstream_error";
  r.error_message = "bad \"quote\"\n";
  r.cost.clear();
  std::string text = log.Format(r);
  EXPECT_NE(text.find(R"("request_id":"req-1")"), std::string::npos);
  EXPECT_NE(text.find(R"("tokens":128)"), std::string::npos);
  EXPECT_NE(text.find(R"("cost":null)"), std::string::npos);
  EXPECT_NE(text.find(R"(bad \"quote\"\n)"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find('\n'), text.size() - 1);  // one line
}

}  // namespace
}  // namespace modelmux::telemetry
