#pragma once
// Qianfan (legacy ERNIE) error bodies -> the Error taxonomy. Pure, thread-safe.
//
// Wire shape: {"error_code": N, "error_msg": "..."}, usually with HTTP 200 (so successful-looking
// bodies are always inspected), also as an event of a stream.

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/error.hpp"

namespace modelmux::dialects::qianfan {

// The error codes of bce-qianfan-sdk's APIErrorCode, mapped:
//   4, 18, 336501, 336502                     -> kRateLimited (cluster, QPS, RPM, TPM limits)
//   17, 19                                    -> kQuotaExhausted (daily / total request limits)
//   110, 111                                  -> kAuthentication (access token invalid/expired)
//   13, 14                                    -> kAuthentication (token fetch / IAM failed)
//   6, 336004                                 -> kPermission
//   15, 336005                                -> kNotFound (app / API name does not exist)
//   2                                         -> kUnavailable
//   336000                                    -> kUnavailable (internal error, retried)
//   336100                                    -> kOverloaded (server high load)
//   3, 100, 336001-336003, 336101, 336104, 336105 -> kInvalidRequest
//   1 and any other code                      -> kUpstreamError
[[nodiscard]] ErrorKind KindForErrorCode(int64_t code);

// The Error for a body that carries `error_code` (nullopt for any other body): kind per
// KindForErrorCode, provider "qianfan", provider_code = the code as text, message = error_msg
// masked with text::MaskSecrets, upstream_status = http_status. code: "token_expired" for 110 and
// 111 (the provider's signer must be invalidated and the call retried once), "rate_limit_exceeded"
// for the rate limits, "insufficient_quota" for 17 and 19.
[[nodiscard]] std::optional<Error> ErrorFromBody(std::string_view body, int http_status);

// An answer with a non-2xx status: ErrorFromBody when the body has error_code, else a kind from
// the status (KindForHttpStatus) with the body's printable prefix as message.
[[nodiscard]] Error DecodeError(int http_status, std::string_view body);

// True for the error of 110/111: the access token must be refreshed.
[[nodiscard]] bool IsStaleToken(const Error& e);

}  // namespace modelmux::dialects::qianfan
