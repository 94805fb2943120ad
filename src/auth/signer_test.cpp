#include "auth/signer.hpp"

#include <gtest/gtest.h>

namespace modelmux::auth {
namespace {

TEST(SignerTest, BearerSetsAuthorizationReplacingAnyCallerValue) {
  net::ClientRequest req;
  req.headers.Add("Authorization", "Bearer caller-key");
  ASSERT_TRUE(MakeBearerSigner("sk-provider")->Sign(req).ok());
  EXPECT_EQ(req.headers.Get("authorization"), "Bearer sk-provider");
  EXPECT_EQ(req.headers.size(), 1u);
}

TEST(SignerTest, EmptyKeyAddsNothing) {
  net::ClientRequest req;
  ASSERT_TRUE(MakeBearerSigner("")->Sign(req).ok());
  EXPECT_FALSE(req.headers.Has("authorization"));
}

TEST(SignerTest, HeaderKey) {
  net::ClientRequest req;
  ASSERT_TRUE(MakeHeaderKeySigner("api-key", "k1")->Sign(req).ok());
  EXPECT_EQ(req.headers.Get("API-KEY"), "k1");
}

}  // namespace
}  // namespace modelmux::auth
