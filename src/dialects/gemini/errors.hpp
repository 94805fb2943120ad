#pragma once
// Gemini (Google API) error bodies -> the Error taxonomy. Pure, thread-safe.
//
// Wire shape: {"error":{"code":429,"message":"...","status":"RESOURCE_EXHAUSTED","details":[
//   {"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[...]},
//   {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"36s"}, ...]}}
// (the same object inside a one-element array where the streamed JSON array form is used).

#include <chrono>
#include <optional>
#include <string_view>

#include "core/error.hpp"

namespace modelmux::dialects::gemini {

// Google's status strings: INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE ->
// kInvalidRequest; UNAUTHENTICATED -> kAuthentication; PERMISSION_DENIED -> kPermission;
// NOT_FOUND -> kNotFound; RESOURCE_EXHAUSTED -> kRateLimited; INTERNAL, UNKNOWN, CANCELLED ->
// kUpstreamError; UNAVAILABLE -> kUnavailable; DEADLINE_EXCEEDED -> kTimeout; anything else ->
// KindForHttpStatus(http_status).
[[nodiscard]] ErrorKind KindForStatus(std::string_view status, int http_status);

// A google.protobuf.Duration in its JSON form ("36s", "0.5s", "1.000340012s"), rounded up to
// whole milliseconds; nullopt when malformed or negative.
[[nodiscard]] std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);

// Maps an error answer. provider = "gemini"; upstream_status = http_status (the body's `code`
// when http_status is 2xx: an error inside a 200); kind per KindForStatus, refined by:
// - an ErrorInfo reason API_KEY_INVALID (or a message saying "API key not valid") ->
//   kAuthentication, code "invalid_api_key";
// - RESOURCE_EXHAUSTED with a QuotaFailure detail and no RetryInfo -> kQuotaExhausted, code
//   "insufficient_quota" (the daily quota is gone: retrying does not help);
// - an invalid argument whose message says the input exceeds the token limit ->
//   kContextLength, code "context_length_exceeded"; one saying the payload size exceeds the
//   limit -> kPayloadTooLarge.
// retry_after = RetryInfo.retryDelay. provider_code = the ErrorInfo reason when there is one,
// else the status string. A non-JSON body gives a message of its printable bytes (at most 512).
// Message and provider_code are masked with text::MaskSecrets.
[[nodiscard]] Error DecodeError(int http_status, std::string_view body);

}  // namespace modelmux::dialects::gemini
