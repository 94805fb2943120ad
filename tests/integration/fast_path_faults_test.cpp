// Faults after a 200 head on the pass-through fast path (issue 5; reliability.md 12, 13, 14, 18),
// proven from the built binary over loopback against `modelmux sim`:
//   - a whole answer's body cut or stalled after its head is a failed attempt: retried or fallen
//     back from, counted against the deployment's health, never a 502 to the caller while another
//     deployment would answer;
//   - a stream that ends, or sends an error event, before its first byte falls back the same way,
//     and the caller sees one stream (heartbeats included) with the answer that worked;
//   - a caller who leaves mid-stream is billed what was delivered (an estimate), and the call is
//     not retried;
//   - the fast path's token reservations are settled to the actual usage;
//   - --log-bodies keeps what a stream delivered, redacted.
// Faulty deployments are the same simulator behind a provider whose static `headers:` carry the
// fault (x-sim-*), so a healthy provider next to it answers normally.

#include <gtest/gtest.h>

#include "gateway_it.hpp"

namespace modelmux::testing {
namespace {

constexpr auto kShort = 10s;
using Clock = std::chrono::steady_clock;

// A provider on `sim` that sends `fault_headers` (a YAML flow map body) on every call.
std::string FaultyProvider(std::string_view name, const Service& sim, std::string_view fault) {
  return "  " + std::string(name) + ": {type: openai, base_url: \"" + sim.base_url +
         "/v1\", api_key: sk-test, headers: {" + std::string(fault) + "}}\n";
}

std::string HealthyProvider(std::string_view name, const Service& sim) {
  return "  " + std::string(name) + ": {type: openai, base_url: \"" + sim.base_url +
         "/v1\", api_key: sk-test}\n";
}

// Alias `a` on the faulty provider `bad` (model model-bad), falling back to alias `b` on `good`
// (model model-good).
std::string FallbackConfig(const Service& sim, std::string_view fault,
                           std::string_view extra = {}) {
  return "providers:\n" + FaultyProvider("bad", sim, fault) + HealthyProvider("good", sim) +
         "models:\n"
         "  - name: a\n"
         "    deployments: [{provider: bad, model: model-bad}]\n"
         "    fallbacks: [b]\n"
         "  - name: b\n"
         "    deployments: [{provider: good, model: model-good}]\n"
         "router:\n"
         "  retry_base: 10ms\n" +
         std::string(extra);
}

Service GatewayWith(const TempDir& dir, const std::string& yaml,
                    std::vector<std::string> args = {}) {
  args.insert(args.begin(), {"--config", dir.Write("modelmux.yaml", yaml)});
  return StartGateway(std::move(args));
}

HttpResult Whole(const Service& gw, std::string_view model) {
  return Http("POST", gw.base_url + "/v1/chat/completions", ChatBody(model, "hello there"), {},
              kShort);
}

StreamResult Streamed(const Service& gw, std::string_view model) {
  return HttpStream("POST", gw.base_url + "/v1/chat/completions",
                    ChatBody(model, "hello there", R"("stream":true)"), {}, kShort);
}

// What a caller saw of an OpenAI stream.
struct Seen {
  int content_chunks = 0, errors = 0, comments = 0;
  bool done = false;
  std::string error_code;
};

Seen Read(std::string_view body) {
  Seen s;
  for (const auto& line : SseLines(body)) {
    if (line.comment) {
      ++s.comments;
      continue;
    }
    if (line.text == "[DONE]") {
      s.done = true;
      continue;
    }
    json::value v = ParseJson(line.text);
    if (!v.is_object()) continue;
    if (const auto* e = v.get_object().if_contains("error")) {
      ++s.errors;
      s.error_code = Str(e->at("code"));
    } else {
      ++s.content_chunks;
    }
  }
  return s;
}

int64_t IntAt(const json::value& v, std::string_view key) {
  const auto* n = v.is_object() ? v.get_object().if_contains(key) : nullptr;
  return n != nullptr && n->is_int64() ? n->get_int64() : -1;
}

int Attempts(const HttpResult& r) {
  return std::atoi(std::string(r.headers.Get("x-modelmux-attempts")).c_str());
}

// ---- whole answers ----------------------------------------------------------------------------

TEST(FastPathFaults, BodyCutAfterTheHeadFallsBackInsteadOfFailing) {
  TempDir dir;
  Service sim = StartSim();
  Service gw = GatewayWith(dir, FallbackConfig(sim, R"("x-sim-cut-after": "1")"));
  auto r = Whole(gw, "a");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.Get("x-modelmux-deployment"), "good/model-good");
  json::value v = ParseJson(r.body);
  ASSERT_TRUE(v.is_object()) << r.body;
  EXPECT_FALSE(Str(v.at("choices").at(0).at("message").at("content")).empty());
  // The cut deployment was tried (and retried within its retries), then the fallback answered.
  const int64_t bad = SimModelCalls(sim, "model-bad");
  EXPECT_GE(bad, 1);
  EXPECT_LE(bad, 3);
  EXPECT_EQ(SimModelCalls(sim, "model-good"), 1);
  EXPECT_EQ(Attempts(r), bad + 1);
}

TEST(FastPathFaults, BodyStallAfterTheHeadTripsTheIdleTimeoutAndFallsBack) {
  TempDir dir;
  Service sim = StartSim();
  // The bad provider's idle timeout (300 ms) ends the stalled body read; the call's deadline
  // (10 s) would be far later.
  std::string yaml = FallbackConfig(sim, R"("x-sim-stall-ms": "5000", "x-sim-stall-at": "body")");
  const std::string bad_line = "base_url: \"" + sim.base_url + "/v1\", api_key: sk-test, headers:";
  const auto at = yaml.find(bad_line);
  ASSERT_NE(at, std::string::npos);
  yaml.insert(at, "timeouts: {idle: 300ms}, ");
  Service gw = GatewayWith(dir, yaml, {});
  const auto begin = Clock::now();
  auto r = Whole(gw, "a");
  const auto took = Clock::now() - begin;
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.Get("x-modelmux-deployment"), "good/model-good");
  EXPECT_LT(took, 3s);  // a few idle timeouts, not the stall
  EXPECT_GE(SimModelCalls(sim, "model-bad"), 1);
  EXPECT_EQ(SimModelCalls(sim, "model-good"), 1);
}

TEST(FastPathFaults, BodyFailuresCountTowardEjection) {
  TempDir dir;
  Service sim = StartSim();
  // Two deployments, the cut one weighted 100:1: every call still succeeds (the other deployment
  // answers the retry), and the cut one is ejected after its consecutive failures, so that it
  // stops getting calls.
  Service gw =
      GatewayWith(dir, "providers:\n" + FaultyProvider("bad", sim, R"("x-sim-cut-after": "1")") +
                           HealthyProvider("good", sim) +
                           "models:\n"
                           "  - name: pair\n"
                           "    deployments:\n"
                           "      - {provider: bad, model: model-bad, weight: 100}\n"
                           "      - {provider: good, model: model-good, weight: 1}\n"
                           "router:\n"
                           "  retry_base: 10ms\n");
  constexpr int kCalls = 30;
  for (int i = 0; i < kCalls; ++i) {
    auto r = Whole(gw, "pair");
    ASSERT_EQ(r.status, 200) << i << ": " << r.body;
  }
  const int64_t bad = SimModelCalls(sim, "model-bad");
  EXPECT_GE(bad, 1);
  EXPECT_LT(bad, 10) << "the cut deployment was never ejected";
  auto m = Http("GET", gw.base_url + "/metrics", {}, {}, kShort);
  EXPECT_NE(
      m.body.find(R"(modelmux_deployment_ejected{model="pair",deployment="bad/model-bad"} 1)"),
      std::string::npos)
      << m.body.substr(0, 4000);
}

TEST(FastPathFaults, StreamsCutMidWayCountTowardEjection) {
  TempDir dir;
  Service sim = StartSim();
  // A stream cut after its first bytes cannot be retried (the caller has them), but it is a
  // failure of the deployment: after its consecutive failures it is ejected, and the other
  // deployment takes the calls.
  Service gw =
      GatewayWith(dir, "providers:\n" + FaultyProvider("bad", sim, R"("x-sim-cut-after": "3")") +
                           HealthyProvider("good", sim) +
                           "models:\n"
                           "  - name: pair\n"
                           "    deployments:\n"
                           "      - {provider: bad, model: model-bad, weight: 100}\n"
                           "      - {provider: good, model: model-good, weight: 1}\n");
  int cut = 0;
  for (int i = 0; i < 30; ++i) {
    auto r = Streamed(gw, "pair");
    ASSERT_EQ(r.status, 200) << r.Body();
    cut += Read(r.Body()).errors;
  }
  const int64_t bad = SimModelCalls(sim, "model-bad");
  EXPECT_EQ(cut, bad);  // every call that reached the cut deployment ended with an error event
  EXPECT_GE(bad, 1);
  EXPECT_LT(bad, 10) << "the deployment that cuts streams was never ejected";
}

// ---- streams ----------------------------------------------------------------------------------

TEST(FastPathFaults, StreamThatEndsBeforeItsFirstByteFallsBack) {
  TempDir dir;
  Service sim = StartSim();
  Service gw = GatewayWith(dir, FallbackConfig(sim, R"("x-sim-cut-after": "0")"));
  auto r = Streamed(gw, "a");
  ASSERT_EQ(r.status, 200) << r.Body();
  Seen s = Read(r.Body());
  EXPECT_EQ(s.errors, 0) << r.Body();
  EXPECT_TRUE(s.done) << r.Body();
  EXPECT_GE(s.content_chunks, 2) << r.Body();
  EXPECT_EQ(r.headers.Get("x-modelmux-deployment"), "good/model-good");
  EXPECT_GE(SimModelCalls(sim, "model-bad"), 1);
  EXPECT_EQ(SimModelCalls(sim, "model-good"), 1);
}

TEST(FastPathFaults, StreamWhoseFirstEventIsAnErrorFallsBack) {
  TempDir dir;
  Service sim = StartSim();
  Service gw = GatewayWith(dir, FallbackConfig(sim, R"("x-sim-error-after": "0")"));
  auto r = Streamed(gw, "a");
  ASSERT_EQ(r.status, 200) << r.Body();
  Seen s = Read(r.Body());
  EXPECT_EQ(s.errors, 0) << r.Body();
  EXPECT_TRUE(s.done) << r.Body();
  EXPECT_EQ(r.headers.Get("x-modelmux-deployment"), "good/model-good");
  EXPECT_EQ(SimModelCalls(sim, "model-good"), 1);
}

TEST(FastPathFaults, HeartbeatsThenAFallbackMakeOneStream) {
  TempDir dir;
  Service sim = StartSim();
  // The bad deployment keeps the caller waiting (heartbeats go out), then ends before its
  // first byte: the fallback's answer follows in the same stream.
  Service gw =
      GatewayWith(dir, FallbackConfig(sim, R"("x-sim-ttft-ms": "400", "x-sim-cut-after": "0")",
                                      "server:\n  heartbeat_interval: 100ms\n"));
  auto r = Streamed(gw, "a");
  ASSERT_EQ(r.status, 200) << r.Body();
  Seen s = Read(r.Body());
  EXPECT_GE(s.comments, 1) << r.Body();
  EXPECT_EQ(r.Body().rfind(": keep-alive\n\n", 0), 0u) << r.Body();
  EXPECT_EQ(s.errors, 0) << r.Body();
  EXPECT_TRUE(s.done) << r.Body();
  EXPECT_GE(s.content_chunks, 2) << r.Body();
  EXPECT_EQ(SimModelCalls(sim, "model-good"), 1);
}

TEST(FastPathFaults, HeartbeatsThenEveryDeploymentFailingEndWithOneErrorEvent) {
  TempDir dir;
  Service sim = StartSim();
  Service gw = GatewayWith(
      dir, "providers:\n" +
               FaultyProvider("bad", sim, R"("x-sim-ttft-ms": "300", "x-sim-cut-after": "0")") +
               "models:\n"
               "  - name: a\n"
               "    deployments: [{provider: bad, model: model-bad}]\n"
               "router:\n"
               "  retry_base: 10ms\n"
               "server:\n"
               "  heartbeat_interval: 100ms\n");
  auto r = Streamed(gw, "a");
  ASSERT_EQ(r.status, 200) << r.Body();  // committed by the heartbeats
  Seen s = Read(r.Body());
  EXPECT_GE(s.comments, 1) << r.Body();
  EXPECT_EQ(s.content_chunks, 0) << r.Body();
  EXPECT_EQ(s.errors, 1) << r.Body();
  EXPECT_FALSE(s.done) << r.Body();
  EXPECT_FALSE(s.error_code.empty()) << r.Body();
  json::value line = RequestLogLine(gw, std::string(r.headers.Get("x-request-id")));
  ASSERT_TRUE(line.is_object()) << gw.process->stderr_tail();
  EXPECT_EQ(Str(line.at("error").at("code")), s.error_code);
  EXPECT_EQ(IntAt(line, "attempts"), 3);  // the first try and two retries, then the error
}

// ---- the caller leaves --------------------------------------------------------------------------

TEST(FastPathFaults, CallerWhoLeavesMidStreamIsBilledWhatWasDeliveredAndNothingIsRetried) {
  TempDir dir;
  Service sim = StartSim();
  Service gw = StartGatewayOnSim(sim);
  RawConn conn(gw.address.port);
  ASSERT_TRUE(conn.connected());
  ASSERT_TRUE(conn.SendAll(
      RawPost("/v1/chat/completions",
              ChatBody("gpt-4o-mini", "a long story", R"("stream":true,"max_tokens":300)"),
              "x-request-id: leaver-1\r\nx-sim-tokens-per-s: 40\r\nx-sim-output-tokens: 300\r\n")));
  ASSERT_TRUE(conn.ReadUntil(
      [](const std::string& b) {
        size_t n = 0;
        for (size_t at = b.find("\"content\""); at != std::string::npos;
             at = b.find("\"content\"", at + 1)) {
          ++n;
        }
        return n >= 5;
      },
      5s))
      << conn.buffer();
  conn.Close();
  json::value line = RequestLogLine(gw, "leaver-1", 5s);
  ASSERT_TRUE(line.is_object()) << gw.process->stderr_tail();
  EXPECT_EQ(Str(line.at("error").at("code")), "client_disconnected");
  ASSERT_TRUE(line.get_object().contains("completion_tokens")) << json::serialize(line);
  EXPECT_GE(line.at("completion_tokens").to_number<int64_t>(), 3);
  EXPECT_LT(line.at("completion_tokens").to_number<int64_t>(), 300);
  EXPECT_GT(line.at("prompt_tokens").to_number<int64_t>(), 0);
  EXPECT_TRUE(line.at("usage_estimated").as_bool());
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(SimModelCalls(sim, "gpt-4o-mini"), 1);  // never replayed
}

// ---- token reservations -------------------------------------------------------------------------

TEST(FastPathFaults, TokenReservationsAreSettledToTheActualUsage) {
  TempDir dir;
  Service sim = StartSim();
  // 60,000 tokens a minute, paced: 1 ms per token. Each call reserves its prompt and max_tokens
  // (600 ms of the schedule) but uses about 40 tokens. Without settling, the second call would
  // have to queue for about 600 ms, past the 200 ms queue_timeout, and be shed with a 429.
  Service gw = GatewayWith(dir, "providers:\n" + HealthyProvider("up", sim) +
                                    "models:\n"
                                    "  - name: paced\n"
                                    "    deployments: [{provider: up, model: gpt-4o-mini, "
                                    "tpm: 60000}]\n"
                                    "router:\n"
                                    "  queue_timeout: 200ms\n");
  for (int i = 0; i < 12; ++i) {
    const bool stream = i % 2 == 1;
    auto body = ChatBody("paced", "hi",
                         stream ? R"("stream":true,"max_tokens":600)" : R"("max_tokens":600)");
    auto r = HttpStream("POST", gw.base_url + "/v1/chat/completions", body, {}, kShort);
    ASSERT_EQ(r.status, 200) << i << ": " << r.Body();
    if (stream) {
      EXPECT_TRUE(Read(r.Body()).done) << r.Body();
    }
  }
}

// ---- body logs ---------------------------------------------------------------------------------

TEST(FastPathFaults, LogBodiesKeepsWhatAStreamDeliveredRedacted) {
  TempDir dir;
  Service sim = StartSim();
  Service gw = GatewayWith(dir,
                           "providers:\n" + HealthyProvider("up", sim) +
                               "models:\n"
                               "  - name: echo\n"
                               "    deployments: [{provider: up, model: sim/echo}]\n",
                           {"--log-bodies"});
  // The echo model streams the secret back over several deltas: the log keeps the delivered
  // text whole, so that the redaction sees it.
  const std::string secret = "sk-" + std::string(32, 'Q');
  const std::string prompt = "repeat " + secret + " please";
  const std::string openai = ChatBody("echo", prompt, R"("stream":true)");
  const std::string anthropic = R"({"model":"echo","max_tokens":200,"stream":true,)"
                                R"("messages":[{"role":"user","content":")" +
                                prompt + R"("}]})";
  for (const auto& [path, body] :
       {std::pair{"/v1/chat/completions", openai}, std::pair{"/v1/messages", anthropic}}) {
    auto r = HttpStream("POST", gw.base_url + path, body, {}, kShort);
    ASSERT_EQ(r.status, 200) << path << ": " << r.Body();
    ASSERT_NE(r.Body().find("please"), std::string::npos) << r.Body();
    json::value line = RequestLogLine(gw, std::string(r.headers.Get("x-request-id")));
    ASSERT_TRUE(line.is_object()) << gw.process->stderr_tail();
    ASSERT_TRUE(line.get_object().contains("response_body")) << path << json::serialize(line);
    const std::string logged = Str(line.at("response_body"));
    EXPECT_NE(logged.find("please"), std::string::npos) << path << ": " << logged;
    EXPECT_NE(logged.find("[REDACTED]"), std::string::npos) << path << ": " << logged;
    EXPECT_EQ(logged.find("QQQQQQQQ"), std::string::npos) << path << ": " << logged;
  }
  EXPECT_EQ(gw.process->stderr_tail().find("QQQQQQQQ"), std::string::npos);
}

}  // namespace
}  // namespace modelmux::testing
