#pragma once
// DashScope native error bodies -> the Error taxonomy. Pure, thread-safe.
//
// Wire shape: HTTP status + {"code": "...", "message": "...", "request_id": "..."}; inside a
// stream, an `event:error` event (or any event whose data carries a non-empty `code`).
// The code list is from DashScope's public error-code page and is not exhaustive (providers.md
// marks it unconfirmed): unknown codes fall back to the HTTP status.

#include <optional>
#include <string_view>

#include "core/error.hpp"

namespace modelmux::dialects::dashscope {

// The kind for a DashScope error code (`http_status` 0 when unknown, as inside a stream):
//   InvalidApiKey, NotAuthorized*                        -> kAuthentication
//   Throttling, Throttling.* (RateQuota, AllocationQuota, BurstRate) -> kRateLimited
//   *FreeTierOnly*, Throttling.* with status 403          -> kQuotaExhausted
//   Arrearage                                             -> kBilling
//   DataInspectionFailed, data_inspection_failed          -> kContentFilter
//   AccessDenied, AccessDenied.*, Model.AccessDenied, Workspace.AccessDenied -> kPermission
//   ModelNotFound, model_not_found, NotFound              -> kNotFound
//   RequestTooLarge, BadRequest.TooLarge                  -> kPayloadTooLarge
//   InvalidParameter / BadRequest.* whose message speaks of the input length or context
//   length                                                -> kContextLength
//   InvalidParameter whose message says "Model not exist" -> kNotFound
//   InvalidParameter, BadRequest.*, InvalidURL, InvalidFile.* -> kInvalidRequest
//   RequestTimeOut, InternalError.Timeout                 -> kTimeout
//   ServiceUnavailable, ModelUnavailable, ModelServiceFailed -> kUnavailable
//   InternalError, InternalError.*, SystemError           -> kUpstreamError
//   anything else                                         -> KindForHttpStatus(http_status), or
//                                                            kUpstreamError without a status
[[nodiscard]] ErrorKind KindForCode(std::string_view code, int http_status,
                                    std::string_view message);

// The Error for a body that carries a non-empty string `code` (nullopt for any other body,
// including successful answers with `code: ""`): kind per KindForCode, provider "dashscope",
// provider_code = the code, message = `message` masked with text::MaskSecrets, upstream_status =
// http_status. code: "rate_limit_exceeded" (kRateLimited), "insufficient_quota"
// (kQuotaExhausted), "billing_required" (kBilling), "content_filter", "model_not_found",
// "context_length_exceeded", "invalid_api_key" for the matching kinds.
[[nodiscard]] std::optional<Error> ErrorFromBody(std::string_view body, int http_status);

// An answer with a non-2xx status: ErrorFromBody when the body has a code, else a kind from the
// status (KindForHttpStatus) with the body's printable prefix (masked) as message.
[[nodiscard]] Error DecodeError(int http_status, std::string_view body);

}  // namespace modelmux::dialects::dashscope
