#pragma once
// Anthropic error bodies <-> the Error taxonomy. Pure, thread-safe.
//
// Wire shape: {"type":"error","error":{"type":"<error type>","message":"..."},"request_id":...}.

#include <string>
#include <string_view>

#include "core/error.hpp"

namespace modelmux::dialects::anthropic {

// invalid_request_error -> kInvalidRequest, authentication_error -> kAuthentication,
// billing_error -> kBilling, permission_error -> kPermission, not_found_error -> kNotFound,
// request_too_large -> kPayloadTooLarge, rate_limit_error -> kRateLimited,
// api_error -> kUpstreamError, overloaded_error -> kOverloaded, timeout_error -> kTimeout.
// An unknown type gives KindForHttpStatus(http_status) (529 -> kOverloaded).
[[nodiscard]] ErrorKind KindForErrorType(std::string_view type, int http_status);

// The Anthropic error type a caller speaking Anthropic receives for a kind (the inverse of the
// map above; kContextLength/kContentFilter/kHeadersTooLarge -> invalid_request_error,
// kQuotaExhausted/kBudgetExceeded -> rate_limit_error, kUnavailable/kInternal/kCancelled ->
// api_error).
[[nodiscard]] std::string_view ErrorTypeFor(ErrorKind kind);

// Maps an upstream error response. provider = "anthropic", provider_code = the error type,
// upstream_status = http_status, kind per KindForErrorType; an invalid_request_error whose
// message says the prompt is too long becomes kContextLength (code "context_length_exceeded").
// A non-JSON body (e.g. Cloudflare's 413 page) gives a message of its printable bytes (at most
// 512). Message and provider_code are masked with text::MaskSecrets.
[[nodiscard]] Error DecodeError(int http_status, std::string_view body);

// The Error carried by an in-band `event: error` of a stream that started with HTTP 200: the
// same mapping, with upstream_status = the status the error type stands for (e.g. 529).
[[nodiscard]] Error DecodeStreamError(std::string_view data);

// {"type":"error","error":{"type":ErrorTypeFor(e.kind),"message":masked message}}.
[[nodiscard]] std::string EncodeError(const Error& e);

}  // namespace modelmux::dialects::anthropic
