#pragma once
// The provider simulator: an upstream that answers like OpenAI (and the OpenAI-compatible family
// by path prefix) and like Anthropic Messages (/v1/messages), with deterministic text and usage
// that matches it (the same in both dialects), plus controllable latency,
// rate limits, failures, stalls, resets and cut or broken streams. See docs/SIM.md.
//
// Threading: Handle() may run concurrently on several event loops; counters, stats, rate windows
// and the fail decider are shared behind mutexes (never held across a suspension). StatsJson() and
// Reset() may be called from any thread.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "net/server.hpp"
#include "sim/bedrock.hpp"
#include "sim/dashscope.hpp"
#include "sim/hunyuan.hpp"
#include "sim/limits.hpp"
#include "sim/ollama.hpp"
#include "sim/options.hpp"
#include "sim/qianfan.hpp"
#include "sim/stats.hpp"

namespace modelmux::sim {

class Simulator {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // `clock` drives the RPM/TPM windows only; waits (ttft, pacing, latency, stalls) use timers on
  // the handler's executor.
  explicit Simulator(SimOptions options, Clock clock = std::chrono::steady_clock::now);
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // A net::Handler. The request and writer must outlive the returned coroutine. Never throws.
  boost::asio::awaitable<void> Handle(net::ServerRequest& request, net::ResponseWriter& writer);

  // The body of GET /sim/stats.
  [[nodiscard]] std::string StatsJson() const;
  // What POST /sim/reset does: zeroes the stats, the request counter (ids), the fail-rate counter
  // and the rate windows.
  void Reset();

  [[nodiscard]] const SimOptions& options() const { return options_; }

 private:
  struct Call;
  struct Immediate;
  struct Prepared;
  Prepared Prepare(const net::ServerRequest& request, std::string_view path);
  boost::asio::awaitable<void> HandleApi(net::ServerRequest& request, net::ResponseWriter& writer,
                                         std::string_view path);
  boost::asio::awaitable<void> Answer(Call& call, net::ResponseWriter& writer);
  boost::asio::awaitable<void> AnswerStream(Call& call, net::ResponseWriter& writer);
  // The Gemini generateContent paths (gemini_handler.cpp).
  boost::asio::awaitable<void> HandleGemini(net::ServerRequest& request,
                                            net::ResponseWriter& writer, std::string_view path);
  boost::asio::awaitable<void> SendJson(net::ResponseWriter& writer, int status,
                                        net::Headers headers, std::string body);

  const SimOptions options_;
  const Clock clock_;
  Stats stats_;
  RateWindows rate_;
  FailDecider fail_;
  std::atomic<int64_t> counter_{0};
  QianfanSim qianfan_;  // Baidu Qianfan legacy paths (qianfan.hpp)
  DashScopeSim dashscope_;  // Alibaba DashScope native paths (dashscope.hpp)
  BedrockSim bedrock_;  // AWS Bedrock Runtime paths (bedrock.hpp)
  HunyuanSim hunyuan_;  // Tencent Hunyuan native: POST / with X-TC-Action (hunyuan.hpp)
  OllamaSim ollama_;  // Ollama native /api/* and /ollama/api/* (ollama.hpp)
};

}  // namespace modelmux::sim
