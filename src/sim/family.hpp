#pragma once
// What the simulator does differently for the OpenAI-compatible family, told apart by path
// prefix (the answers themselves are the OpenAI ones):
//
// - Azure OpenAI (/azure/openai/deployments/{d}/...): the `api-version` query parameter is
//   required (missing: 404 {"error":{"code":"404","message":"Resource not found"}}); with
//   --require-key the `api-key` header must equal the key (`Authorization` alone is refused: 401
//   {"error":{"code":"401","message":"Access denied due to invalid subscription key ..."}}).
// - Zhipu GLM (/zhipu/api/paas/v4/...): with --require-key ID.SECRET, `Authorization: Bearer`
//   must carry an HS256 JWT signed with SECRET whose api_key claim is ID and whose exp (Unix
//   milliseconds) is in the future, or the key itself (Zhipu also takes plain keys); otherwise 401
//   {"error":{"code":"1000","message":...}} (1001 when the header is missing).
// - x-sim-status / fail-rate errors in each provider's shape: Zhipu 400 -> 1214, 401 -> 1000,
//   402 -> 1113, 404 -> 1211, 429 -> 1302, 500 -> 500; DeepSeek 402 "Insufficient Balance", 422,
//   503 "Server overloaded"; Moonshot {"error":{"type","message"}} with rate_limit_reached_error
//   (429), invalid_authentication_error (401), resource_not_found_error (404),
//   invalid_request_error (400), server_error (500); Azure {"error":{"code":"<status>",...}}.
// Pure functions; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "net/headers.hpp"

namespace modelmux::sim {

enum class SimFamily { kOther, kAzure, kZhipu, kDeepSeek, kMoonshot };

// The family a request path (without query) belongs to.
[[nodiscard]] SimFamily FamilyOfPath(std::string_view path);

struct FamilyRefusal {
  int status = 0;
  std::string body;
};

// The family's own checks of a request (its target with the query, its headers) before it is
// answered: nullopt when it passes. `require_key` is SimOptions::require_key (empty: no key
// check); `now_ms` is Unix milliseconds (Zhipu token expiry).
[[nodiscard]] std::optional<FamilyRefusal> CheckFamilyRequest(SimFamily family,
                                                              std::string_view target,
                                                              const net::Headers& headers,
                                                              std::string_view require_key,
                                                              int64_t now_ms);

// True for the families whose key check is CheckFamilyRequest's (Azure, Zhipu): the generic
// Bearer/api-key comparison is skipped for them.
[[nodiscard]] bool FamilyChecksOwnKey(SimFamily family);

// The error body for `status` in the family's shape; nullopt: the generic OpenAI body.
[[nodiscard]] std::optional<std::string> FamilyStatusErrorJson(SimFamily family, int status,
                                                               std::string_view model);

// Checks a Zhipu token against the key `{id}.{secret}` at `now_ms`: three base64url parts, header
// alg HS256, the signature (constant-time compare), api_key == id, exp in milliseconds and later
// than now_ms. Returns an empty string when valid, else what failed (never the secret).
[[nodiscard]] std::string VerifyZhipuJwt(std::string_view token, std::string_view api_key,
                                         int64_t now_ms);

}  // namespace modelmux::sim
