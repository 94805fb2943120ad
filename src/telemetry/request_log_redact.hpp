#pragma once
// What --log-bodies (telemetry.log_bodies) writes of a request or response body: media elided to
// "<image/jpeg 123456 bytes>", secrets replaced by "[REDACTED]". Pure and thread-safe.
//
// Elided: data URLs ("data:<type>;base64,...") and JSON string values of 128+ base64 characters
// (the type is sniffed from the decoded magic bytes: image/jpeg, image/png, image/gif,
// image/webp, video/mp4, application/pdf, else "base64"). Redacted: the string values of JSON
// fields named key, api_key, apikey, secret, token, password, authorization, credentials (any case,
// also any name ending in _key, -key, _secret, _token, _password), and anywhere in the text the
// known key shapes: "Bearer <token>", sk-..., mm-..., AKIA.../ASIA..., AIza..., and JWTs (eyJ...).
// Over-redaction is accepted; a secret in the log is the bug to avoid.

#include <string>
#include <string_view>

namespace modelmux::telemetry {

// At most `max_bytes` of the result are kept (then "...(truncated, N bytes)" is appended).
[[nodiscard]] std::string RedactBody(std::string_view body, size_t max_bytes = 64 * 1024);

// Just the key-shape pass, for free text (error messages, headers).
[[nodiscard]] std::string RedactKeyShapes(std::string_view text);

}  // namespace modelmux::telemetry
