#pragma once
// The simulator's Ollama native endpoints (the wire is ollama_wire.hpp), at /api/... and under
// /ollama/api/...:
//
// - POST /api/chat: deterministic text and usage from the same generator as the OpenAI side,
//   whole (stream:false) or streamed (the default, as in Ollama) as NDJSON
//   (application/x-ndjson; the last line has done:true and the counts).
// - POST /api/embed: EmbeddingVector() values (64 dimensions unless `dimensions`).
// - GET /api/tags: a fixed model list.
// - Errors are {"error": "..."} with the HTTP status. x-sim-status >= 400 answers that status
//   (404: model "<model>" not found); x-sim-reset, stall-ms (at headers), latency/ttft/
//   tokens-per-s, cut-after and error-after (an {"error": ...} line) work as for the other
//   dialects. No key is needed (a Bearer key is ignored); fail-rate and RPM/TPM windows do not
//   apply here.
// Thread-safe.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string_view>

#include "net/server.hpp"
#include "sim/options.hpp"
#include "sim/stats.hpp"

namespace modelmux::sim {

class OllamaSim {
 public:
  // Answers one request whose path IsOllamaPath(). Counts statuses, parsed models and resets in
  // `stats` (the path was counted by the caller). Never throws on bad input.
  boost::asio::awaitable<void> Handle(net::ServerRequest& request, net::ResponseWriter& writer,
                                      std::string_view path, const SimOptions& options,
                                      Stats& stats);

 private:
  std::atomic<int64_t> calls_{0};
};

}  // namespace modelmux::sim
