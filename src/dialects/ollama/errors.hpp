#pragma once
// Ollama error bodies -> the Error taxonomy. Pure, thread-safe.
//
// Wire shape: {"error": "model \"x\" not found, try pulling it first"} with the HTTP status
// (400, 404, 500, ...); the same object as one NDJSON line ends a broken stream.

#include <optional>
#include <string_view>

#include "core/error.hpp"

namespace modelmux::dialects::ollama {

// The Error for a body (or NDJSON line) holding a string `error` (nullopt otherwise): kind from
// the status (KindForHttpStatus; kUpstreamError for an in-band error at 200), code
// "model_not_found" for 404, provider "ollama", message = the error text masked with
// text::MaskSecrets, upstream_status = http_status.
[[nodiscard]] std::optional<Error> ErrorFromBody(std::string_view body, int http_status);

// An answer with a non-2xx status: ErrorFromBody, else a kind from the status with the body's
// printable prefix as message.
[[nodiscard]] Error DecodeError(int http_status, std::string_view body);

}  // namespace modelmux::dialects::ollama
