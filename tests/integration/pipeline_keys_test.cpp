// Conditional pipelines by virtual key (docs/ROUTING.md "Routes by key"): the same virtual model
// name reaches different models for keys with different tags, and a key bound to a tier by a
// "tier:<name>" tag keeps it whatever x-modelmux-tier header its caller sends. Keys are made
// through the admin API under the master key; `modelmux sim` counts the calls per model and its
// echo models name themselves in the answer's `model`.

#include <gtest/gtest.h>

#include <map>

#include "gateway_it.hpp"

namespace modelmux::testing {
namespace {

constexpr auto kTimeout = 20s;
const std::string kMaster = "mk-pipeline-keys-test-master-0123456789";

class PipelineKeys : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    sim_ = new Service(StartSim());
    const std::string config = dir_->Write("modelmux.yaml",
                                           "router:\n"
                                           "  num_retries: 0\n"
                                           "providers:\n"
                                           "  up: {type: openai, base_url: \"" +
                                               sim_->base_url +
                                               "/v1\", api_key: sk-test}\n"
                                               "pipelines:\n"
                                               "  - name: auto\n"
                                               "    kind: conditional\n"
                                               "    routes:\n"
                                               "      - when: {key_tags_any: [research, lab]}\n"
                                               "        model: up/echo-lab\n"
                                               "      - when: {tier: premium}\n"
                                               "        model: up/echo-premium\n"
                                               "      - model: up/echo-basic\n");
    gw_ = new Service(StartGateway({"--config", config}, {{"MODELMUX_MASTER_KEY", kMaster}}));
  }
  static void TearDownTestSuite() {
    delete gw_;
    delete sim_;
    delete dir_;
    gw_ = sim_ = nullptr;
    dir_ = nullptr;
  }

  static NewKey Key(const std::string& tags) {
    return CreateKey(*gw_, kMaster, R"({"models":["auto"],"tags":)" + tags + "}");
  }

  struct Routed {
    int status = 0;
    std::string model;  // the answering model, as the simulator names it
    std::string notes;  // x-modelmux-notes
  };
  // One call to the pipeline `auto` with `key` (and a tier header when `tier` is not empty);
  // checks that the simulator counted exactly one call for the model that answered.
  static Routed Call(const std::string& key, const std::string& tier = {}) {
    HeaderList headers = Bearer(key);
    headers.emplace_back("content-type", "application/json");
    if (!tier.empty()) headers.emplace_back("x-modelmux-tier", tier);
    std::map<std::string, int64_t> before;
    for (const char* m : {"echo-lab", "echo-premium", "echo-basic"}) before[m] = Calls(m);
    HttpResult r = Http("POST", gw_->base_url + "/v1/chat/completions",
                        ChatBody("auto", "route me"), headers, kTimeout);
    Routed out;
    out.status = r.status;
    out.notes = std::string(r.headers.Get("x-modelmux-notes"));
    if (r.status != 200) return out;
    out.model = Str(ParseJson(r.body).at("model"));
    EXPECT_TRUE(before.contains(out.model)) << out.model;
    for (const auto& [model, n] : before) {
      EXPECT_EQ(Calls(model), n + (model == out.model ? 1 : 0)) << model;
    }
    return out;
  }
  static int64_t Calls(std::string_view model) { return SimModelCalls(*sim_, model); }

  static TempDir* dir_;
  static Service* sim_;
  static Service* gw_;
};

TempDir* PipelineKeys::dir_ = nullptr;
Service* PipelineKeys::sim_ = nullptr;
Service* PipelineKeys::gw_ = nullptr;

TEST_F(PipelineKeys, TheSameNameRoutesByTheKeysTags) {
  const NewKey research = Key(R"(["research"])");
  const NewKey lab = Key(R"(["team-x","lab"])");
  const NewKey sales = Key(R"(["sales"])");
  const NewKey untagged = Key("[]");
  ASSERT_FALSE(research.key.empty());
  EXPECT_EQ(Call(research.key).model, "echo-lab");
  EXPECT_EQ(Call(lab.key).model, "echo-lab");
  EXPECT_EQ(Call(sales.key).model, "echo-basic");
  EXPECT_EQ(Call(untagged.key).model, "echo-basic");

  // New tags take effect on the next call.
  HttpResult patch = Http("PATCH", gw_->base_url + "/admin/keys/" + sales.id,
                          R"({"tags":["research"]})", Bearer(kMaster), kTimeout);
  ASSERT_EQ(patch.status, 200) << patch.body;
  EXPECT_EQ(Call(sales.key).model, "echo-lab");
}

TEST_F(PipelineKeys, AKeyBoundToBasicCannotReachPremiumWithTheHeader) {
  const NewKey basic = Key(R"(["tier:basic"])");
  const NewKey premium = Key(R"(["tier:premium"])");
  const NewKey unbound = Key(R"(["team-y"])");

  const Routed spoofed = Call(basic.key, "premium");
  EXPECT_EQ(spoofed.status, 200);
  EXPECT_EQ(spoofed.model, "echo-basic");
  EXPECT_EQ(spoofed.notes, "tier_header_ignored");
  EXPECT_EQ(Call(basic.key).model, "echo-basic");

  // The premium key needs no header; a header asking for less does not lower it.
  EXPECT_EQ(Call(premium.key).model, "echo-premium");
  const Routed lowered = Call(premium.key, "basic");
  EXPECT_EQ(lowered.model, "echo-premium");
  EXPECT_EQ(lowered.notes, "tier_header_ignored");

  // A key without a tier tag: the header still decides (docs: bind tiers to keys).
  EXPECT_EQ(Call(unbound.key, "premium").model, "echo-premium");
  EXPECT_EQ(Call(unbound.key).model, "echo-basic");
}

}  // namespace
}  // namespace modelmux::testing
