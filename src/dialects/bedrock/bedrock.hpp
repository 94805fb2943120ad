#pragma once
// The AWS Bedrock Converse dialect, upstream face only (see dialects/dialect.hpp). The object is
// a stateless singleton, safe to share between threads; the stream decoders it creates are not.
//
// EncodeChat -> POST ConversePath(model, stream) (request.hpp: /model/{id}/converse or
// /converse-stream, the id percent-encoded once), relative to the base URL
// https://bedrock-runtime.{region}.amazonaws.com, with the body of EncodeConverseRequest; the
// SigV4 signature is the signer's (auth/sigv4_signer.hpp). DecodeChat -> DecodeConverseResponse
// (response.hpp); NewStreamDecoder -> ConverseStreamDecoder (stream.hpp, AWS event stream);
// DecodeError -> errors.hpp. Embeddings: Titan text models through InvokeModel
// (POST /model/{id}/invoke, one input per call; request.hpp EncodeTitanEmbeddingRequest and
// response.hpp DecodeTitanEmbeddingResponse); other embedding model families are refused with
// code "embeddings_not_supported".

#include "dialects/dialect.hpp"

namespace modelmux::dialects {

[[nodiscard]] const UpstreamDialect& BedrockUpstream();

}  // namespace modelmux::dialects
