#pragma once
// OpenAI embeddings (POST /v1/embeddings): the caller's wire JSON <-> EmbeddingRequest /
// EmbeddingResponse, and the same shapes towards OpenAI-compatible upstreams. Pure functions over
// bytes, thread-safe. Floats travel exactly: they are written in their shortest round-trip form
// (std::to_chars of the float32), or as base64 of little-endian float32 when asked.

#include <string>
#include <string_view>
#include <vector>

#include "core/embedding.hpp"
#include "core/result.hpp"

namespace modelmux::dialects::openai {

// Most inputs in one call (OpenAI's own limit).
inline constexpr size_t kMaxEmbeddingInputs = 2048;

// Decodes and validates a caller's /v1/embeddings body:
//   model (string, required); input (required): a non-empty string, or a non-empty array (at
//   most kMaxEmbeddingInputs) of non-empty strings; dimensions (integer >= 1); encoding_format
//   "float" | "base64" (null or absent: "float"); user (string); task_type (string, our
//   extension: the task hint of providers that take one, e.g. "retrieval_query").
// `stream: true` is refused (embeddings do not stream). Other unknown fields are accepted and
// dropped (the neutral request has no place for them yet).
// Errors: kInvalidRequest with param and an OpenAI code: invalid_json, missing_required_parameter,
// invalid_type, invalid_value (empty input, an empty text, an unknown encoding_format),
// unsupported_value (token-id arrays in `input`, code and param "input"; `stream`),
// integer_below_min_value (dimensions), array_above_max_length (too many inputs).
[[nodiscard]] Result<EmbeddingRequest> DecodeEmbeddingRequest(std::string_view body);

// The caller's answer: {"object":"list","data":[{"object":"embedding","index":i,"embedding":[..]}],
// "model":..., "usage":{"prompt_tokens":n,"total_tokens":n}}. With `base64` each embedding is the
// base64 text of its little-endian float32 bytes. Non-finite values are written as 0.
[[nodiscard]] std::string EncodeEmbeddingResponse(const EmbeddingResponse& response, bool base64);

// The upstream body: {model: upstream_model, input: the string (when the caller sent one string)
// or the array, dimensions?, encoding_format? (the caller's choice, passed on), user?}.
[[nodiscard]] std::string EncodeEmbeddingRequest(const EmbeddingRequest& request,
                                                 std::string_view upstream_model);

// An upstream 2xx answer: `data[].embedding` as a number array or a base64 string (either is
// accepted whatever was asked), `data[].index` (the position when absent), `model`,
// `usage.prompt_tokens` (0 when absent). Entries are returned in index order.
// Errors: kUpstreamError code bad_upstream_response (provider "openai") for a body that is not
// that shape (not JSON, no data array, an embedding that is neither numbers nor valid base64).
[[nodiscard]] Result<EmbeddingResponse> DecodeEmbeddingResponse(std::string_view body);

// Little-endian float32 bytes as standard base64 (with padding), and the inverse (errors as
// DecodeEmbeddingResponse's when the text is not base64 of a whole number of float32 values).
[[nodiscard]] std::string FloatsToBase64(const std::vector<float>& values);
[[nodiscard]] Result<std::vector<float>> FloatsFromBase64(std::string_view text);

// Appends the shortest text that reads back as exactly `value` (float32); "0" for NaN/inf.
void AppendFloat(std::string& out, float value);

}  // namespace modelmux::dialects::openai
