// `modelmux providers` and `modelmux doctor` as an operator runs them: providers discovered from
// the environment are listed with the names of the variables their credentials come from (never
// the values), and doctor's one cheap call per provider turns a 401 or 403 from the simulator
// into a plain-language checklist, with a non-zero exit status.

#include <gtest/gtest.h>

#include "gateway_it.hpp"

namespace modelmux::testing {
namespace {

constexpr std::string_view kGoodKey = "sk-doctor-good-7Hq2";
constexpr std::string_view kBadKey = "sk-doctor-WRONG-k3Zp";
constexpr std::string_view kQianfanSecret = "qfDOCTORsecret8Wm";

struct CliRun {
  int code = -1;
  std::string out;  // stdout, lines joined
  std::string err;
};

CliRun RunCli(std::vector<std::string> args, EnvList env) {
  ProcessOptions opt;
  opt.env = std::move(env);
  auto p = Process::Start(ModelmuxBin(), std::move(args), opt);
  CliRun r;
  auto code = p->Wait(std::chrono::seconds(30));
  EXPECT_TRUE(code.has_value()) << p->Describe();
  r.code = code.value_or(-1);
  for (const auto& line : p->stdout_lines()) r.out += line + "\n";
  r.err = p->stderr_tail();
  return r;
}

bool Contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

TEST(CliProviders, ListsCredentialSourcesNeverValues) {
  CliRun r = RunCli({"providers"}, {{"OPENAI_API_KEY", std::string(kGoodKey)},
                                 {"OPENAI_BASE_URL", "http://127.0.0.1:9/v1"},
                                 {"QIANFAN_API_KEY", "qf-ak"},
                                 {"QIANFAN_SECRET_KEY", std::string(kQianfanSecret)}});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "$OPENAI_API_KEY")) << r.out;
  EXPECT_TRUE(Contains(r.out, "$QIANFAN_SECRET_KEY")) << r.out;
  EXPECT_TRUE(Contains(r.out, "http://127.0.0.1:9/v1")) << r.out;
  EXPECT_FALSE(Contains(r.out, kGoodKey)) << r.out;
  EXPECT_FALSE(Contains(r.out, kQianfanSecret)) << r.out;
}

TEST(CliProviders, JsonFormIsMachineReadable) {
  CliRun r = RunCli({"providers", "--json"}, {{"DEEPSEEK_API_KEY", std::string(kGoodKey)}});
  ASSERT_EQ(r.code, 0) << r.err;
  json::value v = ParseJson(r.out);
  ASSERT_TRUE(v.is_array()) << r.out;
  bool found = false;
  for (const auto& p : v.get_array()) {
    const auto& o = p.get_object();
    if (o.at("name") != "deepseek") continue;
    found = true;
    EXPECT_EQ(o.at("api_key_source"), "DEEPSEEK_API_KEY");
    EXPECT_EQ(o.at("supported"), true);
  }
  EXPECT_TRUE(found) << r.out;
  EXPECT_FALSE(Contains(r.out, kGoodKey));
}

TEST(CliDoctor, HealthyProviderPasses) {
  Service sim = StartSim({"--require-key", std::string(kGoodKey)});
  CliRun r = RunCli({"doctor", "--provider", "openai"},
                 {{"OPENAI_API_KEY", std::string(kGoodKey)},
                  {"OPENAI_BASE_URL", sim.base_url + "/v1"}});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "openai")) << r.out;
  EXPECT_TRUE(Contains(r.out, " ok ")) << r.out;
}

TEST(CliDoctor, WrongKeyIsExplainedWithoutShowingIt) {
  Service sim = StartSim({"--require-key", std::string(kGoodKey)});
  CliRun r = RunCli({"doctor", "--provider", "openai"},
                 {{"OPENAI_API_KEY", std::string(kBadKey)},
                  {"OPENAI_BASE_URL", sim.base_url + "/v1"}});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Contains(r.out, "FAIL  401")) << r.out;
  EXPECT_TRUE(Contains(r.out, "$OPENAI_API_KEY")) << r.out;
  EXPECT_TRUE(Contains(r.out, "revoked")) << r.out;
  EXPECT_FALSE(Contains(r.out + r.err, kBadKey)) << r.out << r.err;
  EXPECT_FALSE(Contains(r.out + r.err, kGoodKey)) << r.out << r.err;
}

TEST(CliDoctor, ForbiddenGivesThePermissionRegionAllowlistChecklist) {
  Service sim = StartSim({"--fail-rate", "1", "--fail-status", "403"});
  CliRun r = RunCli({"doctor", "--provider", "deepseek"},
                 {{"DEEPSEEK_API_KEY", std::string(kGoodKey)},
                  {"DEEPSEEK_BASE_URL", sim.base_url + "/deepseek/v1"}});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Contains(r.out, "FAIL  403")) << r.out;
  EXPECT_TRUE(Contains(r.out, "permission scope")) << r.out;
  EXPECT_TRUE(Contains(r.out, "region")) << r.out;
  EXPECT_TRUE(Contains(r.out, "IP allowlist")) << r.out;
}

TEST(CliDoctor, QianfanWrongSecretBlamesThePair) {
  Service sim = StartSim({"--require-key", "qf-ak"});
  CliRun r = RunCli({"doctor", "--provider", "qianfan"},
                 {{"QIANFAN_API_KEY", "qf-ak-wrong"},
                  {"QIANFAN_SECRET_KEY", std::string(kQianfanSecret)},
                  {"QIANFAN_BASE_URL", sim.base_url}});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Contains(r.out, "FAIL  401")) << r.out;
  EXPECT_TRUE(Contains(r.out, "token exchange")) << r.out;
  EXPECT_TRUE(Contains(r.out, "$QIANFAN_SECRET_KEY")) << r.out;
  EXPECT_FALSE(Contains(r.out + r.err, kQianfanSecret)) << r.out << r.err;
}

TEST(CliDoctor, UnreachableEndpointIsNotACredentialProblem) {
  CliRun r = RunCli({"doctor", "--provider", "openai", "--timeout", "5"},
                 {{"OPENAI_API_KEY", std::string(kGoodKey)},
                  {"OPENAI_BASE_URL", "http://127.0.0.1:9/v1"}});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(Contains(r.out, "could not reach http://127.0.0.1:9/v1")) << r.out;
}

}  // namespace
}  // namespace modelmux::testing
