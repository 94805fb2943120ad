// Provider::Create for type "dashscope": compatible mode stays OpenAI; anything else is native.
#include <gtest/gtest.h>

#include "upstream/provider.hpp"

namespace modelmux::upstream {
namespace {

ProviderSpec Spec(std::string base_url) {
  ProviderSpec s;
  s.name = "dashscope";
  s.type = "dashscope";
  s.base_url = std::move(base_url);
  s.api_key = "sk-ds";
  return s;
}

TEST(ProviderDashScopeTest, CompatibleModeIsOpenAi) {
  auto p = Provider::Create(Spec("https://dashscope-intl.aliyuncs.com/compatible-mode/v1"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)->dialect(), WireDialect::kOpenAi);
  EXPECT_NE((*p)->wire().name(), "dashscope");
  EXPECT_EQ((*p)->spec().base_url, "https://dashscope-intl.aliyuncs.com/compatible-mode/v1");
}

TEST(ProviderDashScopeTest, OtherBaseUrlsAreNative) {
  for (const char* url :
       {"https://dashscope.aliyuncs.com", "https://dashscope.aliyuncs.com/",
        "https://dashscope.aliyuncs.com/api/v1", "https://dashscope.aliyuncs.com/api/v1/"}) {
    auto p = Provider::Create(Spec(url));
    ASSERT_TRUE(p.ok()) << url;
    EXPECT_EQ((*p)->dialect(), WireDialect::kDashScope) << url;
    EXPECT_EQ((*p)->wire().name(), "dashscope");
    // The dialect's paths start at /api/v1.
    EXPECT_EQ((*p)->spec().base_url, "https://dashscope.aliyuncs.com") << url;
  }
}

}  // namespace
}  // namespace modelmux::upstream
