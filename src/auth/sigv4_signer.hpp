#pragma once
// The AWS SigV4 Signer (header form) for Bedrock and other AWS services: signs the exact body,
// host, path and query of each outgoing request (sigv4.hpp SignV4) and adds x-amz-date,
// x-amz-content-sha256, x-amz-security-token (temporary credentials) and authorization. Signed
// headers: host, content-type (when set) and the x-amz-* ones; other headers (x-sim-*, extra
// headers from config) travel unsigned. The secret never appears in an error or a log.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "auth/signer.hpp"
#include "auth/sigv4.hpp"

namespace modelmux::auth {

// The signer's notion of now (injected so tests can sign at a fixed time).
using SystemClock = std::function<std::chrono::system_clock::time_point()>;

// `given` when its key id and secret are both set; otherwise AwsCredentialsFrom(env, $HOME):
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, then the AWS_PROFILE
// (default "default") profile of AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials. Reads the
// file at most once per call. Errors: kAuthentication, code "aws_credentials_missing".
[[nodiscard]] Result<AwsCredentials> ResolveAwsCredentials(const AwsCredentials& given,
                                                           const EnvLookup& env);

// The process environment as an EnvLookup.
[[nodiscard]] EnvLookup ProcessEnvLookup();

// A synchronous signer for `service` in `region` ("us-east-1" when empty). Credentials are
// resolved once, here (ResolveAwsCredentials); when none are found the signer is still built and
// every Sign returns that error. Sign errors: the credential error above; kInvalidRequest for a
// request URL that does not parse. Thread-safe.
[[nodiscard]] std::unique_ptr<Signer> MakeSigV4Signer(
    AwsCredentials given, std::string region, std::string service,
    SystemClock clock = std::chrono::system_clock::now, EnvLookup env = ProcessEnvLookup());

}  // namespace modelmux::auth
