#pragma once
// Bedrock (AWS restJson1) errors -> the Error taxonomy. Pure, thread-safe.
//
// Wire shape: HTTP status + {"message":"..."} (also "Message"), the type in the x-amzn-ErrorType
// header ("ThrottlingException:http://internal.amazon.com/coral/..."), sometimes in the body as
// "__type" ("com.amazon.coral.service#ThrottlingException") or "code". In ConverseStream the
// same types arrive as exception frames (:exception-type throttlingException, ...).

#include <string>
#include <string_view>

#include "core/error.hpp"

namespace modelmux::dialects::bedrock {

// The bare exception name of a type string: the text after the last '#' and before the first
// ':', e.g. "com.amazon.coral.service#ThrottlingException" -> "ThrottlingException",
// "ThrottlingException:http://..." -> "ThrottlingException".
[[nodiscard]] std::string BareErrorType(std::string_view type);

// By exception name (case-insensitive on the first letter, so stream exception types such as
// "throttlingException" match too): ValidationException -> kInvalidRequest;
// UnrecognizedClientException, InvalidSignatureException, IncompleteSignatureException,
// ExpiredTokenException, MissingAuthenticationTokenException -> kAuthentication;
// AccessDeniedException -> kPermission; ResourceNotFoundException -> kNotFound;
// ThrottlingException, TooManyRequestsException -> kRateLimited; ServiceQuotaExceededException
// -> kQuotaExhausted; ModelTimeoutException -> kTimeout; ModelNotReadyException,
// ServiceUnavailableException -> kUnavailable; InternalServerException, ModelErrorException,
// ModelStreamErrorException -> kUpstreamError; anything else -> KindForHttpStatus(http_status)
// (and kUpstreamError for a stream exception with no status).
[[nodiscard]] ErrorKind KindForErrorType(std::string_view type, int http_status);

// Maps an error answer. provider = "bedrock"; upstream_status = http_status; provider_code =
// the exception name from the body's __type (or code) when present, else inferred from the
// status and message (DecodeError does not see headers): a 403 whose message speaks of the
// request signature -> InvalidSignatureException, of the security token ->
// UnrecognizedClientException, else AccessDeniedException; 429 -> ThrottlingException; 400
// ValidationException; 404 ResourceNotFoundException; 408 ModelTimeoutException; 424
// ModelErrorException; 500 InternalServerException; 503 ServiceUnavailableException.
// kind = KindForErrorType(provider_code); then a ValidationException that says the input is too
// long -> kContextLength (code "context_length_exceeded"). Authentication errors carry code
// "invalid_signature" or "invalid_api_key". A non-JSON body gives a message of its printable
// bytes. Message and provider_code are masked with text::MaskSecrets.
[[nodiscard]] Error DecodeError(int http_status, std::string_view body);

// An exception frame of ConverseStream (:exception-type `type`, JSON payload {"message"}) ->
// Error (upstream_status 0 unless the payload says otherwise).
[[nodiscard]] Error DecodeStreamException(std::string_view type, std::string_view payload);

}  // namespace modelmux::dialects::bedrock
