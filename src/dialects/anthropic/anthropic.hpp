#pragma once
// The Anthropic Messages dialect's two faces (see dialects/dialect.hpp). Both objects are
// stateless singletons, safe to share between threads; the stream coders they create are not.
//
// Upstream (modelmux -> api.anthropic.com/v1): EncodeChat -> POST "/messages" with the header
// anthropic-version (CallOptions::api_version, else 2023-06-01) and the body of
// EncodeMessagesRequest (request.hpp); x-api-key is the signer's. DecodeChat ->
// DecodeMessagesResponse (response.hpp); NewStreamDecoder -> MessagesStreamDecoder
// (stream.hpp); DecodeError -> errors.hpp.
//
// Ingress (callers speaking Anthropic -> modelmux): DecodeRequest -> DecodeMessagesRequest;
// EncodeResponse -> EncodeMessagesResponse; NewStreamEncoder -> MessagesStreamEncoder (model =
// the caller's model); EncodeError -> errors.hpp EncodeError.

#include "dialects/dialect.hpp"

namespace modelmux::dialects {

[[nodiscard]] const UpstreamDialect& AnthropicUpstream();
[[nodiscard]] const IngressDialect& AnthropicIngress();

}  // namespace modelmux::dialects
