// Governance from the built binary (docs/SECURITY.md): the master key, virtual keys created
// through the admin API and the CLI, scopes, IP allowlists (IPv4, IPv6, trusted proxies),
// revocation across three replicas sharing one redis-server, and a canary key that must appear
// in no log line and no error body.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "gateway_it.hpp"
#include "store/redis_test_server.hpp"

namespace modelmux::testing {
namespace {

constexpr auto kTimeout = 20s;
const std::string kMaster = "mk-governance-test-master-0123456789";

std::string Config(const Service& sim, std::string_view extra = {}) {
  return "providers:\n  up: {type: openai, base_url: \"" + sim.base_url +
         "/v1\", api_key: sk-test}\n" + std::string(extra);
}

EnvList MasterEnv() {
  return {{"MODELMUX_MASTER_KEY", kMaster}};
}

std::string ChatBody(std::string_view model = "up/gpt-4o-mini", std::string_view extra = {}) {
  return R"({"model":")" + std::string(model) +
         R"(","messages":[{"role":"user","content":"hello there"}])" + std::string(extra) + "}";
}

HttpResult Chat(const Service& gw, HeaderList headers, std::string body = ChatBody()) {
  return Http("POST", gw.base_url + "/v1/chat/completions", std::move(body), std::move(headers),
              kTimeout);
}

HttpResult Revoke(const Service& gw, const std::string& id) {
  return Http("DELETE", gw.base_url + "/admin/keys/" + id, {}, Bearer(kMaster), kTimeout);
}

// `modelmux serve` on an address of our choice (the harness helper binds 127.0.0.1).
Service StartOn(const std::string& host, const TempDir& dir, std::vector<std::string> args,
                EnvList env) {
  std::vector<std::string> full{"serve", "--host", host, "--port", "0"};
  full.insert(full.end(), args.begin(), args.end());
  ProcessOptions o;
  o.env = std::move(env);
  o.env.emplace_back("MODELMUX_DATA_DIR", (dir.path() / ("data-" + host)).string());
  Service s;
  s.process = Process::Start(ModelmuxBin(), std::move(full), o);
  s.address = s.process->WaitForListening();
  s.base_url = BaseUrl(s.address);
  return s;
}

bool Ipv6LoopbackUsable() {
  int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Governance, MasterKeyGuardsV1AdminAndMetrics) {
  TempDir dir;
  Service sim = StartSim();
  Service gw = StartGateway({"--config", dir.Write("c.yaml", Config(sim))}, MasterEnv());
  HttpResult none = Chat(gw, {});
  EXPECT_EQ(none.status, 401) << none.body;
  EXPECT_EQ(ErrorCode(none), "missing_api_key");
  HttpResult wrong = Chat(gw, Bearer("mm-" + std::string(43, 'x')));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(ErrorCode(wrong), "invalid_api_key");
  HttpResult master = Chat(gw, Bearer(kMaster));
  EXPECT_EQ(master.status, 200) << master.body;
  EXPECT_EQ(Http("GET", gw.base_url + "/admin/keys", {}, {}, kTimeout).status, 401);
  EXPECT_EQ(Http("GET", gw.base_url + "/metrics", {}, {}, kTimeout).status, 401);
  EXPECT_EQ(Http("GET", gw.base_url + "/metrics", {}, Bearer(kMaster), kTimeout).status, 200);
  EXPECT_EQ(Http("GET", gw.base_url + "/healthz", {}, {}, kTimeout).status, 200);
}

TEST(Governance, KeysAreScopedAndRevocable) {
  TempDir dir;
  Service sim = StartSim();
  Service gw = StartGateway({"--config", dir.Write("c.yaml", Config(sim))}, MasterEnv());
  NewKey k = CreateKey(gw, kMaster, R"({"name":"team-a","models":["up/gpt-4o-mini"]})");
  ASSERT_EQ(k.key.rfind("mm-", 0), 0u);
  ASSERT_EQ(k.key.size(), 46u);

  // Listed without its secret.
  HttpResult list = Http("GET", gw.base_url + "/admin/keys", {}, Bearer(kMaster), kTimeout);
  ASSERT_EQ(list.status, 200);
  EXPECT_NE(list.body.find(k.id), std::string::npos);
  EXPECT_EQ(list.body.find(k.key), std::string::npos);

  // Every header form works.
  EXPECT_EQ(Chat(gw, Bearer(k.key)).status, 200);
  EXPECT_EQ(Chat(gw, {{"x-api-key", k.key}}).status, 200);
  EXPECT_EQ(Chat(gw, {{"api-key", k.key}}).status, 200);

  // Scopes: another model, images, embeddings (a key made without scopes: text chat only).
  HttpResult model = Chat(gw, Bearer(k.key), ChatBody("up/gpt-4o"));
  EXPECT_EQ(model.status, 403) << model.body;
  EXPECT_EQ(ErrorCode(model), "model_not_allowed");
  const std::string vision_body =
      R"({"model":"up/gpt-4o-mini","messages":[{"role":"user","content":[{"type":"text",)"
      R"("text":"what is it?"},{"type":"image_url","image_url":{"url":)"
      R"("data:image/png;base64,iVBORw0KGgo="}}]}]})";
  HttpResult vision = Chat(gw, Bearer(k.key), vision_body);
  EXPECT_EQ(vision.status, 403) << vision.body;
  EXPECT_EQ(ErrorCode(vision), "task_not_allowed");
  HttpResult emb =
      Http("POST", gw.base_url + "/v1/embeddings",
           R"({"model":"up/text-embedding-3-small","input":"x"})", Bearer(k.key), kTimeout);
  EXPECT_EQ(emb.status, 403) << emb.body;
  EXPECT_EQ(ErrorCode(emb), "task_not_allowed");

  // A max-tokens cap clamps a larger request (and says so); a key cannot reach the admin API.
  HttpResult patch = Http("PATCH", gw.base_url + "/admin/keys/" + k.id, R"({"max_tokens":5})",
                          Bearer(kMaster), kTimeout);
  ASSERT_EQ(patch.status, 200) << patch.body;
  HttpResult capped = Chat(gw, Bearer(k.key), ChatBody("up/gpt-4o-mini", R"(,"max_tokens":50)"));
  EXPECT_EQ(capped.status, 200) << capped.body;
  EXPECT_EQ(capped.headers.Get("x-modelmux-max-tokens-clamped"), "50->5");
  EXPECT_EQ(Chat(gw, Bearer(k.key)).status, 200);  // no max_tokens: the cap is written in
  HttpResult self = Http("PATCH", gw.base_url + "/admin/keys/" + k.id, R"({"max_tokens":500})",
                         Bearer(k.key), kTimeout);
  EXPECT_EQ(self.status, 401) << "a key must not change its own limits";

  // Expired and revoked keys.
  NewKey expired = CreateKey(gw, kMaster, R"({"models":["*"],"expires_in":0})");
  EXPECT_EQ(ErrorCode(Chat(gw, Bearer(expired.key))), "expired_api_key");
  ASSERT_EQ(Revoke(gw, k.id).status, 200);
  HttpResult revoked = Chat(gw, Bearer(k.key));
  EXPECT_EQ(revoked.status, 401);
  EXPECT_EQ(ErrorCode(revoked), "revoked_api_key");

  // The audit log names every change and no secret.
  const std::string audit = ReadFile(gw.data_dir / "audit.log");
  EXPECT_NE(audit.find("\"action\":\"key.create\""), std::string::npos) << audit;
  EXPECT_NE(audit.find("\"action\":\"key.update\""), std::string::npos);
  EXPECT_NE(audit.find("\"action\":\"key.revoke\""), std::string::npos);
  EXPECT_EQ(audit.find(k.key), std::string::npos);
  EXPECT_EQ(audit.find(kMaster), std::string::npos);
}

TEST(Governance, IpAllowlistV4AndTrustedProxy) {
  TempDir dir;
  Service sim = StartSim();
  // The test talks from 127.0.0.1, which is outside the list: refused even with the master key.
  Service closed = StartGateway(
      {"--config", dir.Write("a.yaml", Config(sim, "auth: {ip_allowlist: [10.0.0.0/8]}\n"))},
      MasterEnv());
  HttpResult r = Chat(closed, Bearer(kMaster));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(ErrorCode(r), "ip_not_allowed");
  // X-Forwarded-For from an untrusted peer is ignored.
  HeaderList forged = Bearer(kMaster);
  forged.emplace_back("x-forwarded-for", "10.1.2.3");
  EXPECT_EQ(Chat(closed, forged).status, 403);
  EXPECT_EQ(Http("GET", closed.base_url + "/healthz", {}, {}, kTimeout).status, 200);

  // Behind a trusted proxy (this test plays 127.0.0.1): the right-most untrusted address counts.
  Service proxied =
      StartGateway({"--config", dir.Write("b.yaml", Config(sim,
                                                           "auth: {ip_allowlist: [10.0.0.0/8], "
                                                           "trusted_proxies: [127.0.0.1]}\n"))},
                   MasterEnv());
  auto with_xff = [&](const std::string& xff) {
    HeaderList h = Bearer(kMaster);
    h.emplace_back("x-forwarded-for", xff);
    return Chat(proxied, h).status;
  };
  EXPECT_EQ(with_xff("10.1.2.3"), 200);
  EXPECT_EQ(with_xff("11.0.0.1"), 403);
  EXPECT_EQ(with_xff("10.1.2.3, 11.0.0.1"), 403) << "a client-written entry must not count";
  EXPECT_EQ(with_xff("11.0.0.1, 10.1.2.3"), 200);

  // A key's own list (IPv4).
  Service open = StartGateway({"--config", dir.Write("c.yaml", Config(sim))}, MasterEnv());
  NewKey inside = CreateKey(open, kMaster, R"({"models":["*"],"ip_allowlist":["127.0.0.0/8"]})");
  NewKey outside = CreateKey(open, kMaster, R"({"models":["*"],"ip_allowlist":["192.0.2.0/24"]})");
  EXPECT_EQ(Chat(open, Bearer(inside.key)).status, 200);
  HttpResult out = Chat(open, Bearer(outside.key));
  EXPECT_EQ(out.status, 403);
  EXPECT_EQ(ErrorCode(out), "ip_not_allowed");
}

TEST(Governance, IpAllowlistV6) {
  if (!Ipv6LoopbackUsable()) GTEST_SKIP() << "no IPv6 loopback here";
  TempDir dir;
  Service sim = StartSim();
  Service gw6 =
      StartOn("::1", dir,
              {"--config", dir.Write("a.yaml", Config(sim, "auth: {ip_allowlist: [\"::1\"]}\n"))},
              MasterEnv());
  EXPECT_EQ(Chat(gw6, Bearer(kMaster)).status, 200);
  NewKey v6 = CreateKey(gw6, kMaster, R"({"models":["*"],"ip_allowlist":["::1/128"]})");
  NewKey doc = CreateKey(gw6, kMaster, R"({"models":["*"],"ip_allowlist":["2001:db8::/32"]})");
  EXPECT_EQ(Chat(gw6, Bearer(v6.key)).status, 200);
  HttpResult r = Chat(gw6, Bearer(doc.key));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(ErrorCode(r), "ip_not_allowed");

  TempDir dir2;
  Service refused =
      StartOn("::1", dir2,
              {"--config",
               dir2.Write("b.yaml", Config(sim, "auth: {ip_allowlist: [\"2001:db8::/32\"]}\n"))},
              MasterEnv());
  EXPECT_EQ(Chat(refused, Bearer(kMaster)).status, 403);
}

TEST(Governance, RevocationOnOneReplicaIsRefusedByAllWithinOneSecond) {
  auto redis = store::testing::RedisServer::Start();
  ASSERT_TRUE(redis) << "redis-server did not start";
  TempDir dir;
  Service sim = StartSim();
  const std::string config = dir.Write("c.yaml", Config(sim));
  const std::string url = "redis://" + redis->address();
  Service a = StartGateway({"--config", config, "--redis", url}, MasterEnv());
  Service b = StartGateway({"--config", config, "--redis", url}, MasterEnv());
  Service c = StartGateway({"--config", config, "--redis", url}, MasterEnv());
  NewKey k = CreateKey(a, kMaster, R"({"models":["*"]})");
  for (const Service* s : {&a, &b, &c}) EXPECT_EQ(Chat(*s, Bearer(k.key)).status, 200);
  // Keys are shared: b lists what a created.
  EXPECT_NE(Http("GET", b.base_url + "/admin/keys", {}, Bearer(kMaster), kTimeout).body.find(k.id),
            std::string::npos);

  ASSERT_EQ(Revoke(a, k.id).status, 200);
  const auto revoked_at = std::chrono::steady_clock::now();
  for (const Service* s : {&a, &b, &c}) {
    int status = 0;
    while (std::chrono::steady_clock::now() - revoked_at < 3s) {
      status = Chat(*s, Bearer(k.key)).status;
      if (status == 401) break;
      std::this_thread::sleep_for(20ms);
    }
    EXPECT_EQ(status, 401) << s->base_url;
  }
  const auto took = std::chrono::steady_clock::now() - revoked_at;
  EXPECT_LT(took, 1s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                      << " ms until every replica refused the revoked key";
}

TEST(Governance, CanaryKeyAppearsInNoLogAndNoErrorBody) {
  TempDir dir;
  Service sim = StartSim();
  Service gw = StartGateway({"--config", dir.Write("c.yaml", Config(sim))}, MasterEnv());
  const std::string canary = "mm-CANARY" + std::string(37, 'q');
  NewKey real = CreateKey(gw, kMaster, R"({"models":["*"]})");
  std::vector<HttpResult> answers;
  for (const std::string& secret : {canary, real.key}) {
    answers.push_back(Chat(gw, Bearer(secret)));
    answers.push_back(Chat(gw, {{"x-api-key", secret}}));
    answers.push_back(Chat(gw, {{"api-key", secret}}));
    answers.push_back(
        Http("POST", gw.base_url + "/v1/chat/completions?key=" + secret, ChatBody(), {}, kTimeout));
    answers.push_back(Chat(gw, Bearer(secret), ChatBody("up/gpt-4o", R"(,"max_tokens":-1)")));
    answers.push_back(Http("GET", gw.base_url + "/admin/keys", {}, Bearer(secret), kTimeout));
    answers.push_back(Http("GET", gw.base_url + "/metrics", {}, Bearer(secret), kTimeout));
    answers.push_back(Http("GET", gw.base_url + "/v1/models?key=" + secret, {}, {}, kTimeout));
  }
  int refused = 0;
  for (const auto& r : answers) {
    EXPECT_EQ(r.body.find(canary), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find(real.key), std::string::npos) << r.body;
    if (r.status == 401) ++refused;
  }
  EXPECT_GE(refused, 8);  // the canary is refused in every form (and the query form for both)
  gw.process->Stop();     // flushes the request log
  std::string logs = gw.process->stderr_tail();
  for (const auto& line : gw.process->stdout_lines()) logs += line + "\n";
  ASSERT_NE(logs.find("req-"), std::string::npos) << "the request log should have lines";
  EXPECT_EQ(logs.find(canary), std::string::npos);
  EXPECT_EQ(logs.find("CANARY"), std::string::npos);
  EXPECT_EQ(logs.find(real.key), std::string::npos);
  EXPECT_EQ(logs.find(kMaster), std::string::npos);
  const std::string audit = ReadFile(gw.data_dir / "audit.log");
  EXPECT_EQ(audit.find(real.key), std::string::npos);
  EXPECT_EQ(audit.find(canary), std::string::npos);
}

// Runs `modelmux keys ARGS` against `gw`; its exit code and stdout.
std::pair<int, std::string> Cli(const Service& gw, std::vector<std::string> args) {
  std::vector<std::string> full{"keys"};
  full.insert(full.end(), args.begin(), args.end());
  full.insert(full.end(), {"--url", gw.base_url});
  ProcessOptions o;
  o.env = MasterEnv();
  auto p = Process::Start(ModelmuxBin(), std::move(full), o);
  auto code = p->Wait(kTimeout);
  std::string out;
  for (const auto& l : p->stdout_lines()) out += l;
  return {code.value_or(-1), out};
}

TEST(Governance, CliKeysRoundTrip) {
  TempDir dir;
  Service sim = StartSim();
  Service gw = StartGateway({"--config", dir.Write("c.yaml", Config(sim))}, MasterEnv());
  auto [created_code, created] =
      Cli(gw, {"create", "--name", "cli", "--model", "up/*", "--rpm", "100"});
  ASSERT_EQ(created_code, 0) << created;
  json::value v = ParseJson(created);
  ASSERT_TRUE(v.is_object()) << created;
  const std::string key(v.at("key").as_string());
  const std::string id(v.at("id").as_string());
  EXPECT_EQ(v.at("rpm").to_number<int64_t>(), 100);
  EXPECT_EQ(Chat(gw, Bearer(key)).status, 200);

  auto [list_code, list] = Cli(gw, {"list"});
  EXPECT_EQ(list_code, 0);
  EXPECT_NE(list.find(id), std::string::npos);
  EXPECT_EQ(list.find(key), std::string::npos);
  auto [show_code, show] = Cli(gw, {"show", id});
  EXPECT_EQ(show_code, 0);
  EXPECT_NE(show.find("\"name\":\"cli\""), std::string::npos) << show;
  auto [update_code, updated] = Cli(gw, {"update", id, "--rpm", "7", "--task", "text"});
  EXPECT_EQ(update_code, 0) << updated;
  EXPECT_EQ(ParseJson(updated).at("rpm").to_number<int64_t>(), 7);
  auto [revoke_code, revoked] = Cli(gw, {"revoke", id});
  EXPECT_EQ(revoke_code, 0);
  EXPECT_TRUE(ParseJson(revoked).at("revoked").as_bool());
  EXPECT_EQ(ErrorCode(Chat(gw, Bearer(key))), "revoked_api_key");
  auto [missing_code, missing] = Cli(gw, {"show", "key_doesnotexist"});
  EXPECT_NE(missing_code, 0);
}

TEST(Governance, CliKeysMaxTokensAndContext) {
  TempDir dir;
  Service sim = StartSim();
  Service gw = StartGateway({"--config", dir.Write("c.yaml", Config(sim))}, MasterEnv());
  const std::string glossary = dir.Write("glossary.txt", "术语：要约 = offer");
  auto [code, created] = Cli(gw, {"create", "--model", "up/*", "--max-tokens", "64",
                                  "--default-max-tokens", "16", "--context", "@" + glossary});
  ASSERT_EQ(code, 0) << created;
  json::value v = ParseJson(created);
  ASSERT_TRUE(v.is_object()) << created;
  EXPECT_EQ(v.at("max_tokens").to_number<int64_t>(), 64);
  EXPECT_EQ(v.at("default_max_tokens").to_number<int64_t>(), 16);
  EXPECT_EQ(v.at("context").as_string(), "术语：要约 = offer");
  const std::string id(v.at("id").as_string());
  auto [update_code, updated] =
      Cli(gw, {"update", id, "--default-max-tokens", "32", "--context", ""});
  ASSERT_EQ(update_code, 0) << updated;
  json::value u = ParseJson(updated);
  EXPECT_EQ(u.at("default_max_tokens").to_number<int64_t>(), 32);
  EXPECT_TRUE(u.at("context").is_null());
  auto [bad_code, bad] = Cli(gw, {"update", id, "--default-max-tokens", "65"});
  EXPECT_NE(bad_code, 0) << bad;  // above the cap
}

}  // namespace
}  // namespace modelmux::testing
