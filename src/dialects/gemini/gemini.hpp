#pragma once
// The Gemini generateContent dialect, upstream face only (see dialects/dialect.hpp). The object is
// a stateless singleton, safe to share between threads; the stream decoders it creates are not.
//
// EncodeChat -> POST GenerateContentPath(model, stream) (request.hpp), relative to a base URL
// that ends in the API version (e.g. https://generativelanguage.googleapis.com/v1beta), with the
// body of EncodeGenerateContentRequest; x-goog-api-key is the signer's. DecodeChat ->
// DecodeGenerateContentResponse (response.hpp); NewStreamDecoder ->
// GenerateContentStreamDecoder (stream.hpp); DecodeError -> errors.hpp.

#include "dialects/dialect.hpp"

namespace modelmux::dialects {

[[nodiscard]] const UpstreamDialect& GeminiUpstream();

}  // namespace modelmux::dialects
