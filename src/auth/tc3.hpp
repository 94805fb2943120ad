#pragma once
// Tencent Cloud API 3.0 signing (TC3-HMAC-SHA256), as used by Hunyuan's native API. Pure: the
// timestamp is passed in. Thread-safe.
//
// The caller POSTs `body` to https://{host}/ with exactly the returned headers (and Host = host).
// The signed headers are content-type;host;x-tc-action (values lowercased in the canonical form).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace modelmux::auth {

struct Tc3Request {
  std::string host;     // "hunyuan.tencentcloudapi.com"
  std::string action;   // "ChatCompletions"
  std::string version;  // "2023-09-01"
  std::string region;   // optional; X-TC-Region only when non-empty
  std::string service;  // "hunyuan"; the scope's service (cvm, hunyuan, ...)
  std::string body;     // the exact JSON bytes sent
  std::string content_type = "application/json";
  std::string token;  // optional X-TC-Token for temporary credentials (not signed)
};

struct Tc3Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;  // lowercase hex
  std::vector<std::pair<std::string, std::string>> headers;
};

// Signs a POST to "/" with an empty query. Returns, in order: Authorization, Content-Type,
// X-TC-Action, X-TC-Version, X-TC-Timestamp, X-TC-Region (if set), X-TC-Token (if set); the
// caller's HTTP client sends Host itself (it must equal request.host).
// `timestamp` is Unix seconds; the scope date is its UTC calendar date.
// Errors: kAuthentication (code "tc3_credentials_missing") for an empty secret id or key;
// kInvalidRequest (code "tc3_invalid_request") for an empty host, action, version or service, or
// a negative timestamp.
[[nodiscard]] Result<std::vector<std::pair<std::string, std::string>>> SignTc3(
    const Tc3Request& request, std::string_view secret_id, std::string_view secret_key,
    int64_t timestamp);
// Same, returning the intermediate values as well (no secret in them).
[[nodiscard]] Result<Tc3Signature> SignTc3Detailed(const Tc3Request& request,
                                                   std::string_view secret_id,
                                                   std::string_view secret_key, int64_t timestamp);

}  // namespace modelmux::auth
