// Usage isolation (issue 7: "Key A cannot read key B's ... usage"), from the built binary: one
// `modelmux serve` with a master key in front of `modelmux sim`. Two keys with `usage-read` each
// see only their own rows of the ledger at GET /v1/usage; a key without the task is refused; the
// master key reads the rows made without a virtual key, not the keys' rows.

#include <gtest/gtest.h>

#include "gateway_it.hpp"

namespace modelmux::testing {
namespace {

constexpr auto kTimeout = 20s;
const std::string kMaster = "mk-usage-test-master-0123456789abcdef01";

int Chat(const Service& gw, const std::string& key, int i) {
  const std::string body = R"({"model":"up/gpt-4o-mini","messages":[{"role":"user","content":"q)" +
                           std::to_string(i) + R"("}]})";
  return Http("POST", gw.base_url + "/v1/chat/completions", body, Bearer(key), kTimeout).status;
}

// The total requests GET /v1/usage reports to `key` (-1 when the call is refused).
int64_t UsageRequests(const Service& gw, const std::string& key) {
  HttpResult r = Http("GET", gw.base_url + "/v1/usage?since=1d", {}, Bearer(key), kTimeout);
  if (r.status != 200) return -1;
  json::value v = ParseJson(r.body);
  if (!v.is_object()) return -1;
  return v.at("total").at("requests").to_number<int64_t>();
}

TEST(GovernanceUsage, EachKeyReadsOnlyItsOwnUsage) {
  TempDir dir;
  Service sim = StartSim();
  const std::string config = dir.Write("c.yaml", "providers:\n  up: {type: openai, base_url: \"" +
                                                     sim.base_url + "/v1\", api_key: sk-test}\n");
  Service gw = StartGateway({"--config", config, "--data-dir", (dir.path() / "data").string()},
                            {{"MODELMUX_MASTER_KEY", kMaster}});
  const std::string attrs = R"({"models":["up/*"],"tasks":["text","usage-read"]})";
  const std::string a = CreateKey(gw, kMaster, attrs).key;
  const std::string b = CreateKey(gw, kMaster, attrs).key;
  const std::string c = CreateKey(gw, kMaster, R"({"models":["up/*"],"tasks":["text"]})").key;
  ASSERT_FALSE(a.empty() || b.empty() || c.empty());

  for (int i = 0; i < 3; ++i) ASSERT_EQ(Chat(gw, a, i), 200);
  for (int i = 0; i < 2; ++i) ASSERT_EQ(Chat(gw, b, 10 + i), 200);
  ASSERT_EQ(Chat(gw, c, 20), 200);

  // The ledger is written off the event loop in batches: wait until every call is counted.
  ASSERT_TRUE(
      Eventually([&] { return UsageRequests(gw, a) == 3 && UsageRequests(gw, b) == 2; }, 10s))
      << "a sees " << UsageRequests(gw, a) << ", b sees " << UsageRequests(gw, b);

  // Another key's rows cannot be asked for.
  HttpResult by_key = Http("GET", gw.base_url + "/v1/usage?by=key", {}, Bearer(a), kTimeout);
  EXPECT_EQ(by_key.status, 400) << by_key.body;
  // Without the usage-read task: refused, naming the task.
  HttpResult refused = Http("GET", gw.base_url + "/v1/usage", {}, Bearer(c), kTimeout);
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_NE(refused.body.find("task_not_allowed"), std::string::npos) << refused.body;
  // The master key reads the rows made without a virtual key: none of the keys' six calls.
  EXPECT_EQ(UsageRequests(gw, kMaster), 0);
}

}  // namespace
}  // namespace modelmux::testing
