#pragma once
// POST /v1/embeddings: the caller's OpenAI body decoded, routed through Router::Embed to any
// provider whose dialect has an embeddings API, and answered in OpenAI's shape (floats in their
// shortest exact form, or base64 when the caller asked). The handler's transport-free core: the
// Gateway writes the outcome and records it in its log and metrics.

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/request_context.hpp"
#include "core/usage.hpp"
#include "net/headers.hpp"
#include "routing/router.hpp"

namespace modelmux::gateway {

struct EmbeddingsOutcome {
  std::string body;            // the OpenAI answer when !error
  std::optional<Error> error;  // a caller error (decode), a routing error or an upstream one
  bool from_upstream = false;  // `error` came from the provider or the connection to it
  // For the request log and metrics ("" when not known yet, e.g. an undecodable body).
  std::string model;  // as the caller named it
  std::string provider;
  std::string provider_type;  // for the price lookup
  std::string upstream_model;
  size_t prompt_chars = 0;
  std::optional<Usage> usage;  // prompt tokens as the provider reported them (none: unknown)
};

// Decodes `body` (dialects/openai/embeddings.hpp), plans the model, calls the provider (x-sim-*
// controls in `headers` reach simulator upstreams only) and encodes the answer with the model
// the provider named (else the upstream model). Never throws; every failure is in `error`.
// `log` receives the router's attempts (for the x-modelmux-* headers).
boost::asio::awaitable<EmbeddingsOutcome> ServeEmbeddings(
    std::shared_ptr<const routing::Router> router, std::string body, RequestContext ctx,
    net::Headers headers, routing::AttemptLog* log);

}  // namespace modelmux::gateway
