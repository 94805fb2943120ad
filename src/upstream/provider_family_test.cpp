// Provider::Create for the OpenAI-compatible family: each type keeps the OpenAI wire (the
// gateway's fast path) with its own error map, Azure's deployment paths and api-key header, and
// Zhipu's JWT signer.
#include <gtest/gtest.h>

#include "dialects/openai/family.hpp"
#include "upstream/provider.hpp"

namespace modelmux::upstream {
namespace {

std::unique_ptr<Provider> Make(std::string type, std::string base_url, std::string key,
                               std::string api_version = {}) {
  ProviderSpec spec;
  spec.name = type;
  spec.type = std::move(type);
  spec.base_url = std::move(base_url);
  spec.api_key = std::move(key);
  spec.api_version = std::move(api_version);
  auto p = Provider::Create(std::move(spec));
  EXPECT_TRUE(p.ok());
  return p.ok() ? std::move(p).value() : nullptr;
}

net::ClientRequest Signed(const Provider& p) {
  net::ClientRequest req;
  EXPECT_TRUE(p.signer().Sign(req).ok());
  return req;
}

TEST(ProviderFamilyTest, AzureDeploymentPathApiKeyAndEndpointForms) {
  auto p = Make("azure", "https://res.openai.azure.com/", "azk", "2024-06-01");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->dialect(), WireDialect::kOpenAi);
  EXPECT_EQ(p->wire().name(), "azure");
  EXPECT_EQ(p->spec().base_url, "https://res.openai.azure.com");
  EXPECT_EQ(p->OpenAiPath("/chat/completions", "gpt4o-prod"),
            "/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-06-01");
  // The translated path (EncodeChat with the provider's api-version) agrees with the fast path.
  ChatRequest r;
  r.messages.emplace_back();
  auto call = p->wire().EncodeChat(r, {"gpt4o-prod", false, p->spec().api_version});
  ASSERT_TRUE(call.ok());
  EXPECT_EQ(call->path, p->OpenAiPath("/chat/completions", "gpt4o-prod"));
  net::ClientRequest req = Signed(*p);
  EXPECT_EQ(req.headers.Get("api-key"), "azk");
  EXPECT_FALSE(req.headers.Has("authorization"));

  // An endpoint pasted with /openai is not doubled; the default api-version applies.
  auto with_openai = Make("azure", "https://res.openai.azure.com/openai/", "azk");
  EXPECT_EQ(with_openai->spec().base_url, "https://res.openai.azure.com");
  EXPECT_EQ(with_openai->OpenAiPath("/embeddings", "emb"),
            "/openai/deployments/emb/embeddings?api-version=" +
                std::string(dialects::kAzureDefaultApiVersion));
  // The v1 form: plain OpenAI paths under .../openai/v1.
  auto v1 = Make("azure", "https://res.openai.azure.com/openai/v1", "azk");
  EXPECT_EQ(v1->spec().base_url, "https://res.openai.azure.com/openai/v1");
  EXPECT_EQ(v1->OpenAiPath("/chat/completions", "dep"), "/chat/completions");
  EXPECT_EQ(v1->wire().name(), "azure");
}

TEST(ProviderFamilyTest, ZhipuSignsAJwtForIdSecretKeysAndBearerOtherwise) {
  auto p = Make("zhipu", "https://open.bigmodel.cn/api/paas/v4", "myid.mysecret");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->dialect(), WireDialect::kOpenAi);
  EXPECT_EQ(p->OpenAiPath("/chat/completions", "glm-4"), "/chat/completions");
  std::string auth(Signed(*p).headers.Get("authorization"));
  EXPECT_EQ(auth.rfind("Bearer eyJ", 0), 0u) << auth;
  EXPECT_EQ(auth.find("mysecret"), std::string::npos);
  auto plain = Make("zhipu", "https://open.bigmodel.cn/api/paas/v4", "plainkey");
  EXPECT_EQ(Signed(*plain).headers.Get("authorization"), "Bearer plainkey");
  EXPECT_EQ(p->wire().DecodeError(429, R"({"error":{"code":"1113","message":"arrears"}})").kind,
            ErrorKind::kBilling);
}

TEST(ProviderFamilyTest, DeepSeekAndMoonshotKeepBearerWithTheirErrorMaps) {
  auto ds = Make("deepseek", "https://api.deepseek.com", "sk-ds");
  ASSERT_TRUE(ds);
  EXPECT_EQ(ds->dialect(), WireDialect::kOpenAi);
  EXPECT_EQ(Signed(*ds).headers.Get("authorization"), "Bearer sk-ds");
  EXPECT_EQ(ds->wire().DecodeError(402, R"({"error":{"message":"Insufficient Balance"}})").kind,
            ErrorKind::kBilling);
  EXPECT_EQ(ds->wire().DecodeError(503, "{}").kind, ErrorKind::kOverloaded);
  auto ms = Make("moonshot", "https://api.moonshot.cn/v1", "sk-ms");
  ASSERT_TRUE(ms);
  EXPECT_EQ(ms->wire().name(), "moonshot");
  EXPECT_EQ(
      ms->wire()
          .DecodeError(429, R"({"error":{"type":"exceeded_current_quota_error","message":"x"}})")
          .kind,
      ErrorKind::kQuotaExhausted);
  // Plain OpenAI keeps the plain map.
  auto oa = Make("openai", "https://api.openai.com/v1", "sk");
  EXPECT_EQ(oa->wire().name(), "openai");
  EXPECT_EQ(oa->wire().DecodeError(503, "{}").kind, ErrorKind::kUnavailable);
}

}  // namespace
}  // namespace modelmux::upstream
