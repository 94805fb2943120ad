#pragma once
// The Signer for Tencent Cloud API 3.0 (TC3-HMAC-SHA256), as Hunyuan's native API needs it. Holds
// a SecretId / SecretKey pair (and an optional temporary-credential token); never logs or returns
// the key. Thread-safe (immutable after construction).

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "auth/signer.hpp"

namespace modelmux::auth {

struct Tc3SignerOptions {
  std::string secret_id;   // ProviderSpec::api_key
  std::string secret_key;  // ProviderSpec::secret_key
  std::string token;       // ProviderSpec::session_token: X-TC-Token (temporary credentials)
  std::string region;      // ProviderSpec::region: X-TC-Region, omitted when empty
  std::string service = "hunyuan";
  // The signing time (X-TC-Timestamp and the scope date). Injected so that tests are exact.
  std::function<std::chrono::system_clock::time_point()> clock = std::chrono::system_clock::now;
};

// Sign(request) signs a POST to the URL's host with path "/" (the only form TC3 signs here):
// - the action and version come from the request's X-TC-Action and X-TC-Version headers (the
//   dialect sets them), the content type from its Content-Type (application/json if absent), the
//   host from its URL (with the port when it is not the scheme's default, exactly as the HTTP
//   client sends Host), and the exact body bytes;
// - it sets Authorization, Content-Type, X-TC-Action, X-TC-Version, X-TC-Timestamp and, when
//   configured, X-TC-Region and X-TC-Token (replacing any of them already present).
// Errors: kAuthentication "tc3_credentials_missing" (no SecretId or SecretKey); kInvalidRequest
// "tc3_invalid_request" for a URL that does not parse, a method other than POST, a path other
// than "/" or a missing X-TC-Action / X-TC-Version header.
[[nodiscard]] std::unique_ptr<Signer> MakeTc3Signer(Tc3SignerOptions options);

}  // namespace modelmux::auth
