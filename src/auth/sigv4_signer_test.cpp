#include "auth/sigv4_signer.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

namespace modelmux::auth {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::sys_days;

// The AWS test-suite time and secret (sigv4_test.cpp), so the Bedrock vector there applies.
std::chrono::system_clock::time_point SuiteTime() {
  return sys_days(std::chrono::year(2015) / 8 / 30) + hours(12) + minutes(36);
}
constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

EnvLookup EnvOf(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

net::ClientRequest BedrockRequest() {
  net::ClientRequest req;
  req.method = "POST";
  req.url =
      "https://bedrock-runtime.us-west-2.amazonaws.com/model/anthropic.claude-v2%3A1/converse";
  req.headers.Set("content-type", "application/json");
  req.headers.Set("x-sim-status", "429");  // travels unsigned
  req.body = R"({"messages":[]})";
  return req;
}

TEST(SigV4SignerTest, SignsTheBedrockVector) {
  auto signer = MakeSigV4Signer({"AKIDEXAMPLE", kSecret, "TOKEN123"}, "us-west-2", "bedrock",
                                SuiteTime, EnvOf({}));
  net::ClientRequest req = BedrockRequest();
  ASSERT_TRUE(signer->Sign(req).ok());
  EXPECT_EQ(req.headers.Get("x-amz-date"), "20150830T123600Z");
  EXPECT_EQ(req.headers.Get("x-amz-security-token"), "TOKEN123");
  EXPECT_EQ(req.headers.Get("x-amz-content-sha256"),
            "5e4ce7b36ba37b78a5d5f9fd08e6b7b54ba6879d651aa46ec9e1d6fa24ebe30a");
  // The signature computed independently (openssl) in sigv4_test.cpp for this request.
  EXPECT_EQ(req.headers.Get("authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-west-2/bedrock/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;"
            "x-amz-security-token, "
            "Signature=ef973e739d4410a5a1f096183af2f948de96306186c5594cd8a6cfe339a4c84e");
  EXPECT_FALSE(signer->is_async());
}

TEST(SigV4SignerTest, BodyAndPortChangeTheSignature) {
  auto signer =
      MakeSigV4Signer({"AKIDEXAMPLE", kSecret, ""}, "us-west-2", "bedrock", SuiteTime, EnvOf({}));
  net::ClientRequest a = BedrockRequest();
  net::ClientRequest b = BedrockRequest();
  b.body = R"({"messages":[1]})";
  net::ClientRequest c = BedrockRequest();
  c.url = "http://127.0.0.1:9090/model/anthropic.claude-v2%3A1/converse";
  ASSERT_TRUE(signer->Sign(a).ok());
  ASSERT_TRUE(signer->Sign(b).ok());
  ASSERT_TRUE(signer->Sign(c).ok());
  EXPECT_FALSE(a.headers.Has("x-amz-security-token"));
  EXPECT_NE(a.headers.Get("authorization"), b.headers.Get("authorization"));
  EXPECT_NE(a.headers.Get("authorization"), c.headers.Get("authorization"));
}

class ProfileFile : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("mm_sigv4_signer_" + std::to_string(::getpid()) + ".ini");
    std::ofstream f(path_);
    f << "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = default-secret\n"
         "\n[work]\naws_access_key_id=AKIDWORK\naws_secret_access_key=work-secret\n"
         "aws_session_token=work-token\n";
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::filesystem::path path_;
};

TEST_F(ProfileFile, EmptySpecCredentialsComeFromTheProfile) {
  auto def = ResolveAwsCredentials({}, EnvOf({{"AWS_SHARED_CREDENTIALS_FILE", path_.string()}}));
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(def->access_key_id, "AKIDDEFAULT");
  auto work = ResolveAwsCredentials(
      {}, EnvOf({{"AWS_SHARED_CREDENTIALS_FILE", path_.string()}, {"AWS_PROFILE", "work"}}));
  ASSERT_TRUE(work.ok());
  EXPECT_EQ(work->secret_access_key, "work-secret");
  EXPECT_EQ(work->session_token, "work-token");
  // Given credentials win over the file.
  auto given = ResolveAwsCredentials({"AKIDGIVEN", "given-secret", ""},
                                     EnvOf({{"AWS_SHARED_CREDENTIALS_FILE", path_.string()}}));
  ASSERT_TRUE(given.ok());
  EXPECT_EQ(given->access_key_id, "AKIDGIVEN");

  // A signer built without credentials signs with the profile's key id.
  auto signer = MakeSigV4Signer(
      {}, "eu-west-1", "bedrock", SuiteTime,
      EnvOf({{"AWS_SHARED_CREDENTIALS_FILE", path_.string()}, {"AWS_PROFILE", "work"}}));
  net::ClientRequest req = BedrockRequest();
  ASSERT_TRUE(signer->Sign(req).ok());
  EXPECT_NE(
      req.headers.Get("authorization").find("Credential=AKIDWORK/20150830/eu-west-1/bedrock/"),
      std::string::npos);
  EXPECT_EQ(req.headers.Get("x-amz-security-token"), "work-token");
}

TEST_F(ProfileFile, MissingCredentialsFailEverySignWithoutSecrets) {
  auto signer = MakeSigV4Signer(
      {}, "", "bedrock", SuiteTime,
      EnvOf({{"AWS_SHARED_CREDENTIALS_FILE", path_.string()}, {"AWS_PROFILE", "absent"}}));
  net::ClientRequest req = BedrockRequest();
  Status st = signer->Sign(req);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kAuthentication);
  EXPECT_EQ(st.error().code, "aws_credentials_missing");
  EXPECT_EQ(st.error().message.find("default-secret"), std::string::npos);
  EXPECT_EQ(st.error().message.find("work-secret"), std::string::npos);
  EXPECT_FALSE(req.headers.Has("authorization"));
}

}  // namespace
}  // namespace modelmux::auth
