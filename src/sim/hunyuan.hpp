#pragma once
// The simulator's Tencent Hunyuan native endpoint (the wire is hunyuan_wire.hpp): POST / with an
// X-TC-Action header.
//
// - Every call's TC3 signature is checked (HunyuanCredentials: --require-key "ID:KEY", or the
//   fixed test pair kHunyuanSimSecretId / kHunyuanSimSecretKey); a wrong one is answered inside
//   HTTP 200 with Response.Error AuthFailure.SignatureFailure (or InvalidAuthorization /
//   SecretIdNotFound), as Tencent does.
// - X-TC-Action ChatCompletions: deterministic text and usage from the same generator as the
//   OpenAI side, whole or streamed (SSE `data:` chunks, no sentinel; the chunk with a
//   FinishReason is the last). GetEmbedding: 1024-dimension vectors. Other actions:
//   InvalidAction. X-TC-Version other than 2023-09-01: NoSuchVersion.
// - x-sim-status >= 400 answers the matching Tencent code inside HTTP 200 (429 ->
//   LimitExceeded); x-sim-reset, stall-ms (at headers), latency/ttft/tokens-per-s, cut-after and
//   error-after (an ErrorMsg chunk, Code 4000) work as for the other dialects. Fail-rate and
//   RPM/TPM windows do not apply here.
// Thread-safe.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string_view>

#include "net/server.hpp"
#include "sim/options.hpp"
#include "sim/stats.hpp"

namespace modelmux::sim {

class HunyuanSim {
 public:
  // Answers one request for which IsHunyuanRequest() holds. Counts statuses, parsed models and
  // resets in `stats` (the path was counted by the caller). Never throws on bad input.
  boost::asio::awaitable<void> Handle(net::ServerRequest& request, net::ResponseWriter& writer,
                                      const SimOptions& options, Stats& stats);

 private:
  std::atomic<int64_t> calls_{0};
};

}  // namespace modelmux::sim
