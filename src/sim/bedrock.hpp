#pragma once
// The simulator's AWS Bedrock Runtime endpoints (the wire is bedrock_wire.hpp):
//
// - POST /model/{modelId}/converse and /model/{modelId}/converse-stream: deterministic text and
//   usage from the same generator as the OpenAI side (the model id plays the model), whole or as
//   application/vnd.amazon.eventstream frames (both CRCs) ending with messageStop + metadata.
// - POST /model/{amazon.titan-embed-text-*}/invoke: a Titan embedding of inputText.
// Every call must carry a SigV4 signature made with kBedrockSimAccessKeyId /
// kBedrockSimSecretKey (any region, service "bedrock"); otherwise 403 with Bedrock's own
// error type in x-amzn-ErrorType (InvalidSignatureException, UnrecognizedClientException, ...).
// Errors are {"message"} bodies with x-amzn-ErrorType and x-amzn-RequestId headers.
// x-sim-status >= 400 answers that status with Bedrock's error for it (429 ThrottlingException);
// x-sim-reset, stall-ms (at headers or body), latency / ttft / tokens-per-s, cut-after (the
// stream ends after N frames without messageStop/metadata) and error-after (an exception frame
// throttlingException after N frames) work as for the other dialects. Fail-rate and RPM/TPM
// windows do not apply here. Thread-safe.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string_view>

#include "net/server.hpp"
#include "sim/options.hpp"
#include "sim/stats.hpp"

namespace modelmux::sim {

class BedrockSim {
 public:
  // Answers one request whose path IsBedrockPath(). Counts statuses, parsed models and resets in
  // `stats` (the path was counted by the caller). Never throws on bad input.
  boost::asio::awaitable<void> Handle(net::ServerRequest& request, net::ResponseWriter& writer,
                                      std::string_view path, const SimOptions& options,
                                      Stats& stats);

 private:
  std::atomic<int64_t> calls_{0};
};

}  // namespace modelmux::sim
