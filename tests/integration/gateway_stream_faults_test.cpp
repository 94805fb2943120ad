// Streams that go wrong: a caller that disconnects mid-stream (the upstream call must end within
// a second), an upstream that cuts its stream or sends an in-band error, and heartbeats while the
// first token is late. Upstream: a `modelmux sim` process.

#include <dirent.h>
#include <gtest/gtest.h>

#include "gateway_it.hpp"

namespace modelmux::testing {
namespace {

constexpr auto kShort = 10s;

Service StartGatewayWithConfig(const TempDir& dir, const Service& sim, const std::string& yaml) {
  std::string config = dir.Write("modelmux.yaml", yaml);
  return StartGateway({"--config", config},
                      {{"OPENAI_BASE_URL", sim.base_url + "/v1"}, {"OPENAI_API_KEY", "sk-test"}});
}

// Open sockets of a process, from /proc/PID/fd.
int CountSockets(pid_t pid) {
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return -1;
  int n = 0;
  while (dirent* e = ::readdir(d)) {
    char target[256];
    std::string link = dir + "/" + e->d_name;
    ssize_t len = ::readlink(link.c_str(), target, sizeof(target) - 1);
    if (len > 0 && std::string_view(target, static_cast<size_t>(len)).rfind("socket:", 0) == 0) ++n;
  }
  ::closedir(d);
  return n;
}

// The data events of `body` split into parsed JSON objects; [DONE] is reported apart.
struct Events {
  std::vector<json::value> chunks;  // events with "choices"
  std::vector<json::object> errors;
  bool done = false;
  bool anything_after_error = false;
};

Events ParseEvents(std::string_view body) {
  Events out;
  for (const auto& d : SseData(body)) {
    if (d == "[DONE]") {
      out.done = true;
      if (!out.errors.empty()) out.anything_after_error = true;
      continue;
    }
    json::value v = ParseJson(d);
    EXPECT_TRUE(v.is_object()) << "bad event: " << d;
    if (!v.is_object()) continue;
    if (const auto* e = v.get_object().if_contains("error"); e && e->is_object()) {
      out.errors.push_back(e->get_object());
    } else {
      if (!out.errors.empty()) out.anything_after_error = true;
      out.chunks.push_back(std::move(v));
    }
  }
  return out;
}

class GatewayStreamFaults : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    sim_ = new Service(StartSim());
    gw_ = new Service(StartGatewayWithConfig(*dir_, *sim_,
                                             "server:\n"
                                             "  heartbeat_interval: 100ms\n"));
  }
  static void TearDownTestSuite() {
    delete gw_;
    delete sim_;
    delete dir_;
    gw_ = sim_ = nullptr;
    dir_ = nullptr;
  }
  void TearDown() override {
    auto r = Http("POST", Chat(), ChatBody("gpt-4o-mini", "still alive"), {}, kShort);
    EXPECT_EQ(r.status, 200) << r.body << gw_->process->Describe();
  }
  static std::string Chat() { return gw_->base_url + "/v1/chat/completions"; }
  static TempDir* dir_;
  static Service* sim_;
  static Service* gw_;
};
TempDir* GatewayStreamFaults::dir_ = nullptr;
Service* GatewayStreamFaults::sim_ = nullptr;
Service* GatewayStreamFaults::gw_ = nullptr;

TEST_F(GatewayStreamFaults, CutStreamEndsWithAnInBandStreamCutErrorAndNoDone) {
  auto r = HttpStream("POST", Chat(),
                      ChatBody("gpt-4o-mini", "cut me", R"("stream":true,"max_tokens":20)"),
                      {{"x-sim-cut-after", "3"}}, kShort);
  ASSERT_EQ(r.status, 200) << r.Body();
  auto ev = ParseEvents(r.Body());
  EXPECT_EQ(ev.chunks.size(), 3u) << r.Body();
  ASSERT_EQ(ev.errors.size(), 1u) << r.Body();
  EXPECT_FALSE(Str(ev.errors[0]["message"]).empty());
  EXPECT_FALSE(ev.done) << r.Body();
  EXPECT_FALSE(ev.anything_after_error) << r.Body();
  EXPECT_EQ(Str(ev.errors[0]["code"]), "stream_cut") << r.Body();
}

TEST_F(GatewayStreamFaults, UpstreamErrorEventIsForwardedAndIsTheLastEvent) {
  auto r = HttpStream("POST", Chat(),
                      ChatBody("gpt-4o-mini", "fail me", R"("stream":true,"max_tokens":20)"),
                      {{"x-sim-error-after", "2"}}, kShort);
  ASSERT_EQ(r.status, 200) << r.Body();
  auto ev = ParseEvents(r.Body());
  EXPECT_EQ(ev.chunks.size(), 2u) << r.Body();
  ASSERT_GE(ev.errors.size(), 1u) << r.Body();
  // The simulator's own error, not one the gateway made up.
  EXPECT_EQ(Str(ev.errors[0]["code"]), "sim_error") << r.Body();
  EXPECT_NE(Str(ev.errors[0]["message"]).find("simulated mid-stream error"), std::string::npos);
  EXPECT_FALSE(ev.done) << r.Body();
  // One terminal error: the upstream's error ends the stream, it is not followed by a second one.
  EXPECT_EQ(ev.errors.size(), 1u) << r.Body();
}

TEST_F(GatewayStreamFaults, HeartbeatsBeforeALateFirstToken) {
  auto begin = std::chrono::steady_clock::now();
  auto r = HttpStream("POST", Chat(),
                      ChatBody("gpt-4o-mini", "slow start", R"("stream":true,"max_tokens":5)"),
                      {{"x-sim-ttft-ms", "450"}}, kShort);
  ASSERT_EQ(r.status, 200) << r.Body();
  EXPECT_GE(std::chrono::steady_clock::now() - begin, 400ms);
  auto lines = SseLines(r.Body());
  int comments_before_data = 0;
  bool seen_data = false;
  for (const auto& l : lines) {
    if (!l.comment) {
      seen_data = true;
      break;
    }
    EXPECT_EQ(l.text, "keep-alive");
    ++comments_before_data;
  }
  EXPECT_TRUE(seen_data) << r.Body();
  EXPECT_GE(comments_before_data, 2) << r.Body();
  EXPECT_LE(comments_before_data, 8) << r.Body();  // about one per 100 ms, not a flood
  auto ev = ParseEvents(r.Body());
  EXPECT_TRUE(ev.done) << r.Body();
  EXPECT_TRUE(ev.errors.empty()) << r.Body();
  // The body is valid SSE: the comments are whole events ("\n\n"-terminated).
  EXPECT_EQ(r.Body().rfind(": keep-alive\n\n", 0), 0u) << r.Body();
}

TEST_F(GatewayStreamFaults, NoHeartbeatWhenTheFirstTokenIsQuick) {
  auto r =
      HttpStream("POST", Chat(),
                 ChatBody("gpt-4o-mini", "quick", R"("stream":true,"max_tokens":5)"), {}, kShort);
  ASSERT_EQ(r.status, 200);
  auto lines = SseLines(r.Body());
  ASSERT_FALSE(lines.empty());
  EXPECT_FALSE(lines.front().comment) << r.Body();
}

// ---- caller disconnects ---------------------------------------------------------------------

// A fresh simulator and gateway per test, so that no pooled connection blurs the counts.
class GatewayDisconnect : public ::testing::Test {
 protected:
  void SetUp() override {
    sim_ = StartSim();
    gw_ = StartGatewayWithConfig(dir_, sim_, "server:\n  heartbeat_interval: 100ms\n");
    sim_port_ = sim_.address.port;
    ASSERT_EQ(CountEstablished(sim_port_), 0);
    gw_sockets_ = CountSockets(gw_.process->pid());
    ASSERT_GT(gw_sockets_, 0);
  }

  // Sends a long paced stream on a raw connection and reads until `marker` arrives.
  void StartStreamAndReadUntil(RawConn& conn, const std::string& extra_headers,
                               std::string_view marker) {
    ASSERT_TRUE(conn.connected());
    ASSERT_TRUE(conn.SendAll(
        RawPost("/v1/chat/completions",
                ChatBody("gpt-4o-mini", "a long story", R"("stream":true,"max_tokens":200)"),
                "x-sim-tokens-per-s: 20\r\nx-sim-output-tokens: 200\r\n" + extra_headers)));
    ASSERT_TRUE(conn.ReadUntil(
        [&](const std::string& b) { return b.find(marker) != std::string::npos; }, 5s))
        << conn.buffer();
    // The upstream call is open now (both ends of the loopback connection are listed).
    ASSERT_GE(CountEstablished(sim_port_), 2);
  }

  void ExpectUpstreamClosedAndGatewayClean() {
    auto closed_at = std::chrono::steady_clock::now();
    EXPECT_TRUE(Eventually([&] { return CountEstablished(sim_port_) == 0; }, 1000ms))
        << "the gateway kept its upstream connection open after the caller left ("
        << CountEstablished(sim_port_) << " sockets on the simulator port)";
    EXPECT_LT(std::chrono::steady_clock::now() - closed_at, 1200ms);
    EXPECT_TRUE(Eventually([&] { return CountSockets(gw_.process->pid()) <= gw_sockets_; }, 2s))
        << "gateway sockets: " << CountSockets(gw_.process->pid()) << " baseline " << gw_sockets_;
    auto r = Http("POST", gw_.base_url + "/v1/chat/completions", ChatBody("gpt-4o-mini", "next"),
                  {}, kShort);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(gw_.process->running());
  }

  TempDir dir_;
  Service sim_;
  Service gw_;
  uint16_t sim_port_ = 0;
  int gw_sockets_ = 0;
};

TEST_F(GatewayDisconnect, MidStreamCancelsTheUpstreamCall) {
  RawConn conn(gw_.address.port);
  ASSERT_NO_FATAL_FAILURE(StartStreamAndReadUntil(conn, "", "\"content\""));
  // Still streaming a second later when nobody leaves: the check below can fail.
  conn.Close();
  ExpectUpstreamClosedAndGatewayClean();
}

TEST_F(GatewayDisconnect, DuringHeartbeatsCancelsTheUpstreamCall) {
  RawConn conn(gw_.address.port);
  ASSERT_NO_FATAL_FAILURE(StartStreamAndReadUntil(conn, "x-sim-ttft-ms: 5000\r\n", ": keep-alive"));
  conn.Close();
  ExpectUpstreamClosedAndGatewayClean();
}

TEST_F(GatewayDisconnect, UpstreamStaysOpenWhileTheCallerStays) {
  // The control for the tests above: without a disconnect the upstream call is still running.
  RawConn conn(gw_.address.port);
  ASSERT_NO_FATAL_FAILURE(StartStreamAndReadUntil(conn, "", "\"content\""));
  std::this_thread::sleep_for(600ms);
  EXPECT_GE(CountEstablished(sim_port_), 2);
  conn.Close();
  EXPECT_TRUE(Eventually([&] { return CountEstablished(sim_port_) == 0; }, 1000ms));
}

}  // namespace
}  // namespace modelmux::testing
