#pragma once
// The simulator's Alibaba DashScope native endpoints (the wire is dashscope_wire.hpp):
//
// - POST /api/v1/services/aigc/text-generation/generation and
//   /api/v1/services/aigc/multimodal-generation/generation: deterministic text and usage from the
//   same generator as the OpenAI side (same model and messages -> same text), whole, or streamed
//   when the request has `X-DashScope-SSE: enable` or `Accept: text/event-stream` (`id:N` /
//   `event:result` / `:HTTP_STATUS/200` / `data:{...}` events ending with a finish_reason, no
//   sentinel). Streams repeat the whole text so far (DashScope's default) unless
//   parameters.incremental_output is true. The text path answers in the "text" result format
//   unless parameters.result_format is "message"; the multimodal path always in the message
//   format with content [{text}].
// - POST /api/v1/services/embeddings/text-embedding/text-embedding: deterministic unit vectors
//   (dimension 1024 unless parameters.dimension), usage.total_tokens.
// - Any other path under /api/v1/services/: 404 {code: "NotFound"}; a method other than POST:
//   405.
// Errors are {code, message, request_id} with the HTTP status: 400 InvalidParameter for a bad
// body or x-sim-* header; 401 InvalidApiKey when SimOptions::require_key is set and the Bearer
// key differs; x-sim-status >= 400 answers that status with DashScopeCodeForStatus (429 also with
// retry-after: 1 unless x-sim-retry-after* say otherwise). x-sim-reset, stall-ms (at headers),
// latency/ttft/tokens-per-s, output-tokens, cut-after and error-after (an `event:error` frame with
// code InternalError) work as for the other dialects. Fail-rate and RPM/TPM windows do not apply.
// Thread-safe.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string_view>

#include "net/server.hpp"
#include "sim/options.hpp"
#include "sim/stats.hpp"

namespace modelmux::sim {

class DashScopeSim {
 public:
  // Answers one request whose path IsDashScopePath(). Counts statuses, parsed models and resets
  // in `stats` (the path was counted by the caller). Never throws on bad input.
  boost::asio::awaitable<void> Handle(net::ServerRequest& request, net::ResponseWriter& writer,
                                      std::string_view path, const SimOptions& options,
                                      Stats& stats);

 private:
  std::atomic<int64_t> calls_{0};
};

}  // namespace modelmux::sim
