#pragma once
// The simulator's Baidu Qianfan legacy endpoints (the wire is qianfan_wire.hpp):
//
// - POST /oauth/2.0/token?grant_type=client_credentials&client_id=..&client_secret=..: 200
//   {access_token: "sim-token-N", expires_in: 2592000} when both are present (and client_id
//   equals SimOptions::require_key when one is set); 400 unsupported_grant_type; 401
//   invalid_client. x-sim-status >= 400 answers that status with {error, error_description}.
// - POST /rpc/2.0/ai_custom/v1/wenxinworkshop/chat/{endpoint}?access_token=..: the token must be
//   one this simulator issued, else error_code 110 inside HTTP 200. Deterministic text and usage
//   from the same generator as the OpenAI side (the endpoint plays the model), whole or streamed
//   (`data:` chunks ending with is_end:true). x-sim-status >= 400 answers the matching error_code
//   inside HTTP 200 (429 -> 18 "Open api qps request limit reached"); x-sim-reset, stall-ms (at
//   headers), latency/ttft/tokens-per-s, cut-after and error-after (an in-band error_code 336000
//   chunk) work as for the other dialects. Fail-rate and RPM/TPM windows do not apply here.
// - POST /rpc/2.0/ai_custom/v1/wenxinworkshop/embeddings/{endpoint}?access_token=..: the same
//   token check and controls (x-sim-status as error_code inside HTTP 200, reset, stall-ms,
//   latency-ms); {input:[texts]} -> deterministic vectors (qianfan_embed.hpp).
//
// Tokens stay valid across /sim/reset (a gateway holding one keeps working). Thread-safe.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "net/server.hpp"
#include "sim/options.hpp"
#include "sim/stats.hpp"

namespace modelmux::sim {

class QianfanSim {
 public:
  // Answers one request whose path IsQianfanPath(). Counts statuses, parsed models and resets in
  // `stats` (the path was counted by the caller). Never throws on bad input.
  boost::asio::awaitable<void> Handle(net::ServerRequest& request, net::ResponseWriter& writer,
                                      std::string_view path, const SimOptions& options,
                                      Stats& stats);

  // "sim-token-N" (N counting from 1), remembered as issued.
  [[nodiscard]] std::string IssueToken();
  [[nodiscard]] bool Issued(std::string_view token) const;

 private:
  boost::asio::awaitable<void> Token(net::ServerRequest& request, net::ResponseWriter& writer,
                                     const SimOptions& options, Stats& stats);
  boost::asio::awaitable<void> Chat(net::ServerRequest& request, net::ResponseWriter& writer,
                                    std::string_view path, const SimOptions& options, Stats& stats);
  // The embeddings endpoints (qianfan_embed.hpp), with the chat side's token check and controls.
  boost::asio::awaitable<void> Embeddings(net::ServerRequest& request, net::ResponseWriter& writer,
                                          std::string_view path, const SimOptions& options,
                                          Stats& stats);

  mutable std::mutex mu_;
  std::set<std::string, std::less<>> tokens_;  // guarded by mu_
  int64_t issued_ = 0;                         // guarded by mu_
  std::atomic<int64_t> calls_{0};
};

}  // namespace modelmux::sim
