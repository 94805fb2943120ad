// Bad input and upstream failures: each gets the right status and the OpenAI error shape, and the
// gateway keeps serving afterwards.

#include <gtest/gtest.h>

#include "gateway_it.hpp"

namespace modelmux::testing {
namespace {

constexpr auto kShort = 10s;

// One `modelmux sim` process and one gateway with a 1 KiB chat body limit whose `openai` provider
// is that simulator; `sim/echo` goes to the built-in simulator.
class GatewayErrors : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    sim_ = new Service(StartSim());
    std::string config = dir_->Write("modelmux.yaml",
                                     "server:\n"
                                     "  limits:\n"
                                     "    chat_body: 1KiB\n");
    gw_ =
        new Service(StartGateway({"--config", config}, {{"OPENAI_BASE_URL", sim_->base_url + "/v1"},
                                                        {"OPENAI_API_KEY", "sk-test"}}));
  }
  static void TearDownTestSuite() {
    delete gw_;
    delete sim_;
    delete dir_;
    gw_ = sim_ = nullptr;
    dir_ = nullptr;
  }
  void TearDown() override {
    // Whatever the test sent, the gateway still serves.
    auto r = Http("POST", Chat(), ChatBody("sim/echo", "still alive"), {}, kShort);
    EXPECT_EQ(r.status, 200) << r.body << gw_->process->Describe();
    EXPECT_TRUE(gw_->process->running());
  }
  static std::string Chat() { return gw_->base_url + "/v1/chat/completions"; }

  // POSTs `body` to the chat path and checks the status and error shape; returns the error.
  static json::object ExpectChatError(const std::string& body, int status,
                                      HeaderList headers = {}) {
    auto r = Http("POST", Chat(), body, std::move(headers), kShort);
    EXPECT_EQ(r.status, status) << "body sent: " << body << "\nanswer: " << r.body;
    EXPECT_NE(r.headers.Get("content-type").find("application/json"), std::string::npos);
    return ExpectOpenAiError(r.body);
  }

  static TempDir* dir_;
  static Service* sim_;
  static Service* gw_;
};
TempDir* GatewayErrors::dir_ = nullptr;
Service* GatewayErrors::sim_ = nullptr;
Service* GatewayErrors::gw_ = nullptr;

const char* kMsgs = R"("messages":[{"role":"user","content":"hi"}])";

TEST_F(GatewayErrors, MalformedJsonIs400) {
  auto e = ExpectChatError(R"({"model":"sim/echo","messages":[)", 400);
  EXPECT_EQ(Str(e["type"]), "invalid_request_error");
}

TEST_F(GatewayErrors, JsonArrayBodyIs400) {
  auto e = ExpectChatError(R"([{"model":"sim/echo"}])", 400);
  EXPECT_EQ(Str(e["type"]), "invalid_request_error");
}

TEST_F(GatewayErrors, ModelOfTheWrongTypeIs400) {
  auto e = ExpectChatError(std::string(R"({"model":42,)") + kMsgs + "}", 400);
  EXPECT_EQ(Str(e["param"]), "model");
}

TEST_F(GatewayErrors, MessagesAsAStringIs400) {
  auto e = ExpectChatError(R"({"model":"sim/echo","messages":"hello"})", 400);
  EXPECT_EQ(Str(e["param"]), "messages");
}

TEST_F(GatewayErrors, TemperatureAsAStringIs400) {
  auto e = ExpectChatError(std::string(R"({"model":"sim/echo","temperature":"hot",)") + kMsgs + "}",
                           400);
  EXPECT_EQ(Str(e["param"]), "temperature");
}

TEST_F(GatewayErrors, StreamAsAStringIs400) {
  auto e =
      ExpectChatError(std::string(R"({"model":"sim/echo","stream":"yes",)") + kMsgs + "}", 400);
  EXPECT_EQ(Str(e["param"]), "stream");
}

TEST_F(GatewayErrors, MissingMessagesIs400) {
  auto e = ExpectChatError(R"({"model":"sim/echo"})", 400);
  EXPECT_EQ(Str(e["param"]), "messages");
}

TEST_F(GatewayErrors, EmptyMessagesIs400) {
  auto e = ExpectChatError(R"({"model":"sim/echo","messages":[]})", 400);
  EXPECT_EQ(Str(e["param"]), "messages");
}

TEST_F(GatewayErrors, UnknownModelIs404ModelNotFound) {
  auto e = ExpectChatError(ChatBody("nosuchprovider/nosuchmodel", "hi"), 404);
  EXPECT_EQ(Str(e["code"]), "model_not_found");
  auto bare = ExpectChatError(ChatBody("definitely-not-a-model", "hi"), 404);
  EXPECT_EQ(Str(bare["code"]), "model_not_found");
}

TEST_F(GatewayErrors, BodyOverTheLimitIs413) {
  std::string big = ChatBody("sim/echo", std::string(4096, 'a'));
  auto r = Http("POST", Chat(), big, {}, kShort);
  EXPECT_EQ(r.status, 413) << r.body;
  ExpectOpenAiError(r.body);
  // Just under the limit is accepted.
  std::string small = ChatBody("sim/echo", std::string(900, 'b'));
  ASSERT_LT(small.size(), 1024u);
  EXPECT_EQ(Http("POST", Chat(), small, {}, kShort).status, 200);
}

TEST_F(GatewayErrors, BodyOverTheLimitWithoutContentLengthIs413) {
  RawConn conn(gw_->address.port);
  ASSERT_TRUE(conn.connected());
  std::string body = ChatBody("sim/echo", std::string(4096, 'c'));
  std::string req =
      "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
      "transfer-encoding: chunked\r\n\r\n";
  char size[16];
  std::snprintf(size, sizeof(size), "%zx\r\n", body.size());
  req += size + body + "\r\n0\r\n\r\n";
  conn.SendAll(req);  // the server may close before reading it all
  auto r = conn.ReadResponse(5s);
  EXPECT_EQ(r.status, 413) << r.head << r.body;
  ExpectOpenAiError(r.body);
}

// Sends a GET whose header block is about `size` bytes (fields of 1000 bytes) on a new connection.
RawConn::Response GetWithHeaderBlock(uint16_t port, size_t size) {
  RawConn conn(port);
  EXPECT_TRUE(conn.connected());
  std::string req = "GET /healthz HTTP/1.1\r\nhost: x\r\n";
  for (int i = 0; req.size() + 2 < size; ++i) {
    req += "x-filler-" + std::to_string(i) + ": " + std::string(986, 'h') + "\r\n";
  }
  req += "\r\n";
  conn.SendAll(req);  // the server may stop reading at the limit
  return conn.ReadResponse(5s);
}

TEST_F(GatewayErrors, HeaderBlockFarOverTheLimitIs431) {
  auto r = GetWithHeaderBlock(gw_->address.port, 200 * 1024);
  EXPECT_EQ(r.status, 431) << r.head << r.body;
  ExpectOpenAiError(r.body);
}

TEST_F(GatewayErrors, HeaderBlockJustUnderTheLimitIsAccepted) {
  auto r = GetWithHeaderBlock(gw_->address.port, 60 * 1024);
  EXPECT_EQ(r.status, 200) << r.head << r.body;
}

TEST_F(GatewayErrors, HeaderBlockOf70KBIs431) {
  auto r = GetWithHeaderBlock(gw_->address.port, 70 * 1000);
  EXPECT_EQ(r.status, 431) << r.head << r.body;
  ExpectOpenAiError(r.body);
}

TEST_F(GatewayErrors, WrongMethodIs405) {
  auto r = Http("GET", Chat(), {}, {}, kShort);
  EXPECT_EQ(r.status, 405) << r.body;
  EXPECT_EQ(r.headers.Get("allow"), "POST");
  ExpectOpenAiError(r.body);
  // A read-only route says which method it takes.
  auto u = Http("POST", gw_->base_url + "/v1/usage", "{}", {}, kShort);
  EXPECT_EQ(u.status, 405) << u.body;
  EXPECT_EQ(u.headers.Get("allow"), "GET");
  ExpectOpenAiError(u.body);
}

TEST_F(GatewayErrors, UnknownPathIs404) {
  auto r = Http("GET", gw_->base_url + "/v1/nope", {}, {}, kShort);
  EXPECT_EQ(r.status, 404) << r.body;
  ExpectOpenAiError(r.body);
  auto p =
      Http("POST", gw_->base_url + "/v2/chat/completions", ChatBody("sim/echo", "x"), {}, kShort);
  EXPECT_EQ(p.status, 404) << p.body;
  ExpectOpenAiError(p.body);
}

TEST_F(GatewayErrors, Upstream400KeepsTheProvidersMessage) {
  auto e = ExpectChatError(ChatBody("gpt-4o-mini", "hi"), 400, {{"x-sim-status", "400"}});
  EXPECT_NE(Str(e["message"]).find("Simulated bad request"), std::string::npos)
      << json::serialize(e);
  EXPECT_EQ(Str(e["type"]), "invalid_request_error");
}

// A 429 that lasts: the gateway retries twice after the server's hint, then passes the last
// answer on with its retry-after, and tells the SDKs not to retry on top (reliability.md 4).
TEST_F(GatewayErrors, Upstream429IsRetriedThenPassedThroughWithItsRetryAfter) {
  const auto start = std::chrono::steady_clock::now();
  auto r = Http("POST", Chat(), ChatBody("gpt-4o-retries", "hi"),
                {{"x-sim-status", "429"}, {"x-sim-retry-after", "1"}}, 15s);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(r.headers.Get("retry-after"), "1");
  EXPECT_EQ(r.headers.Get("x-should-retry"), "false");
  EXPECT_EQ(r.headers.Get("x-modelmux-attempts"), "3");
  EXPECT_GE(took, 2s);  // two waits of the hinted second
  auto e = ExpectOpenAiError(r.body);
  EXPECT_NE(Str(e["message"]).find("Rate limit"), std::string::npos) << r.body;

  // The attempts are visible as metrics (a model no other test of the suite uses). They are
  // recorded just after the response is written: poll briefly rather than race it.
  HttpResult m;
  Eventually(
      [&] {
        m = Http("GET", gw_->base_url + "/metrics", {}, {}, kShort);
        return m.body.find("modelmux_upstream_attempts_total{model=\"gpt-4o-retries\"}") !=
               std::string::npos;
      },
      5s);
  EXPECT_NE(m.body.find("modelmux_upstream_attempts_total{model=\"gpt-4o-retries\"} 3"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("modelmux_retries_total{model=\"gpt-4o-retries\"} 2"), std::string::npos);
  EXPECT_NE(m.body.find("modelmux_retry_backoff_seconds_total{model=\"gpt-4o-retries\"} 2"),
            std::string::npos);
}

TEST_F(GatewayErrors, Upstream500IsAnErrorNotA200) {
  auto r = Http("POST", Chat(), ChatBody("gpt-4o-mini", "hi", R"("stream":true)"),
                {{"x-sim-status", "500"}}, kShort);
  EXPECT_GE(r.status, 500) << r.body;
  ExpectOpenAiError(r.body);
}

TEST_F(GatewayErrors, UpstreamResetBeforeHeadersIs502) {
  auto r = Http("POST", Chat(), ChatBody("gpt-4o-mini", "hi"), {{"x-sim-reset", "1"}}, kShort);
  EXPECT_EQ(r.status, 502) << r.body;
  ExpectOpenAiError(r.body);
}

// A port nothing listens on (bound then closed).
uint16_t ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

TEST(GatewayUpstreamDown, IsA502InOpenAiShapeNeverA200) {
  auto gw = StartGateway(
      {}, {{"OPENAI_BASE_URL", "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/v1"},
           {"OPENAI_API_KEY", "sk-test"}});
  const std::string url = gw.base_url + "/v1/chat/completions";
  auto r = Http("POST", url, ChatBody("gpt-4o-mini", "hi"), {}, kShort);
  EXPECT_EQ(r.status, 502) << r.body;
  auto e = ExpectOpenAiError(r.body);
  EXPECT_FALSE(r.headers.Get("x-request-id").empty());

  auto s = HttpStream("POST", url, ChatBody("gpt-4o-mini", "hi", R"("stream":true)"), {}, kShort);
  EXPECT_EQ(s.status, 502) << s.Body();
  ExpectOpenAiError(s.Body());

  EXPECT_EQ(Http("POST", url, ChatBody("sim/echo", "hi"), {}, kShort).status, 200);
}

}  // namespace
}  // namespace modelmux::testing
