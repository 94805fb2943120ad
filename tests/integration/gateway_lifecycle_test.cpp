// Signals: SIGHUP reloads the config file (a bad file keeps the old config), SIGTERM drains the
// requests in flight, refuses new connections and exits 0.

#include <signal.h>

#include <gtest/gtest.h>

#include "gateway_it.hpp"

namespace modelmux::testing {
namespace {

constexpr auto kShort = 10s;

std::string AliasConfig(std::string_view alias) {
  return "models:\n  - {name: " + std::string(alias) + ", provider: sim, model: echo}\n";
}

int ChatStatus(const Service& gw, std::string_view model, std::string* content = nullptr) {
  auto r =
      Http("POST", gw.base_url + "/v1/chat/completions", ChatBody(model, "ping alias"), {}, kShort);
  if (content != nullptr && r.status == 200) {
    *content = Str(ParseJson(r.body).at("choices").at(0).at("message").at("content"));
  }
  return r.status;
}

TEST(GatewaySighup, ReloadsAliasesAndKeepsTheOldConfigWhenTheNewOneIsInvalid) {
  TempDir dir;
  std::string path = dir.Write("modelmux.yaml", AliasConfig("fast"));
  auto gw = StartGateway({"--config", path});

  std::string content;
  ASSERT_EQ(ChatStatus(gw, "fast", &content), 200) << gw.process->Describe();
  EXPECT_EQ(content, "ping alias");
  ASSERT_EQ(ChatStatus(gw, "quick"), 404);

  dir.Write("modelmux.yaml", AliasConfig("quick"));
  ASSERT_EQ(::kill(gw.process->pid(), SIGHUP), 0);
  EXPECT_TRUE(Eventually([&] { return ChatStatus(gw, "quick") == 200; }, 2s))
      << gw.process->Describe();
  EXPECT_EQ(ChatStatus(gw, "fast"), 404);
  auto models = Http("GET", gw.base_url + "/v1/models", {}, {}, kShort);
  EXPECT_NE(models.body.find("\"quick\""), std::string::npos) << models.body;
  EXPECT_EQ(models.body.find("\"fast\""), std::string::npos) << models.body;

  // An invalid file (unknown key) is refused: `quick` stays, `broken` never appears.
  dir.Write("modelmux.yaml", AliasConfig("broken") + "no_such_section: 1\n");
  ASSERT_EQ(::kill(gw.process->pid(), SIGHUP), 0);
  EXPECT_TRUE(Eventually(
      [&] { return gw.process->stderr_tail().find("reload refused") != std::string::npos; }, 2s))
      << gw.process->Describe();
  EXPECT_EQ(ChatStatus(gw, "quick"), 200);
  EXPECT_EQ(ChatStatus(gw, "broken"), 404);
  EXPECT_TRUE(gw.process->running());

  // A later valid file is picked up again.
  dir.Write("modelmux.yaml", AliasConfig("again"));
  ASSERT_EQ(::kill(gw.process->pid(), SIGHUP), 0);
  EXPECT_TRUE(Eventually([&] { return ChatStatus(gw, "again") == 200; }, 2s));
  EXPECT_EQ(ChatStatus(gw, "quick"), 404);
}

TEST(GatewaySigterm, DrainsTheRequestInFlightThenExitsZero) {
  auto gw = StartGateway();
  HttpResult slow;
  auto began = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration took{};
  std::thread t([&] {
    slow = Http("POST", gw.base_url + "/v1/chat/completions", ChatBody("sim/echo", "drain me"),
                {{"x-sim-latency-ms", "800"}}, kShort);
    took = std::chrono::steady_clock::now() - began;
  });
  std::this_thread::sleep_for(250ms);
  ASSERT_EQ(::kill(gw.process->pid(), SIGTERM), 0);

  // While the request is still in flight, the listener is gone.
  std::this_thread::sleep_for(150ms);
  bool refused = false;
  {
    RawConn probe(gw.address.port);
    refused = !probe.connected() && probe.connect_errno() == ECONNREFUSED;
  }
  t.join();
  EXPECT_TRUE(refused) << "a new connection was accepted during the drain";
  ASSERT_EQ(slow.status, 200) << slow.body << (slow.error ? slow.error->message : "")
                              << gw.process->Describe();
  EXPECT_NE(slow.body.find("drain me"), std::string::npos) << slow.body;
  EXPECT_GE(took, 750ms);  // it really was in flight when the signal came

  auto code = gw.process->Wait(5s);
  ASSERT_TRUE(code.has_value()) << "still running 5 s after SIGTERM: " << gw.process->Describe();
  EXPECT_EQ(*code, 0) << gw.process->Describe();
  RawConn after(gw.address.port);
  EXPECT_FALSE(after.connected());
}

TEST(GatewaySigterm, IdleGatewayExitsZeroQuickly) {
  auto gw = StartGateway();
  // An idle keep-alive connection must not hold the exit up.
  RawConn idle(gw.address.port);
  ASSERT_TRUE(idle.connected());
  ASSERT_TRUE(idle.SendAll("GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n"));
  ASSERT_EQ(idle.ReadResponse(5s).status, 200);
  auto began = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(gw.process->pid(), SIGTERM), 0);
  auto code = gw.process->Wait(5s);
  ASSERT_TRUE(code.has_value()) << gw.process->Describe();
  EXPECT_EQ(*code, 0) << gw.process->Describe();
  EXPECT_LT(std::chrono::steady_clock::now() - began, 2s);
}

}  // namespace
}  // namespace modelmux::testing
