// `modelmux sim`: the provider simulator as its own process.

#include <boost/asio/signal_set.hpp>
#include <cstdio>

#include "cli/commands.hpp"

namespace modelmux::cli {

void AddSimFlags(CLI::App& cmd, SimArgs& a) {
  cmd.add_option("--host", a.host, "Listen address");
  cmd.add_option("--port", a.port, "Listen port, 0 for a free one")->check(CLI::Range(0, 65535));
  cmd.add_option("--threads", a.threads, "Event loops (default: usable CPUs)");
  cmd.add_option("--ttft-ms", a.ttft_ms, "Delay before the first stream chunk");
  cmd.add_option("--tokens-per-s", a.tokens_per_s, "Stream pacing (0: as fast as possible)");
  cmd.add_option("--latency-ms", a.latency_ms, "Delay of non-streamed answers");
  cmd.add_option("--rpm", a.rpm, "Requests per window before 429 (0: unlimited)");
  cmd.add_option("--tpm", a.tpm, "Tokens per window before 429 (0: unlimited)");
  cmd.add_option("--window-s", a.window_s, "Rate-limit window in seconds (default 60)");
  cmd.add_option("--fail-rate", a.fail_rate, "Fraction 0..1 of requests that fail")
      ->check(CLI::Range(0.0, 1.0));
  cmd.add_option("--seed", a.seed, "Random failures with this seed instead of evenly spread ones");
  cmd.add_option("--fail-status", a.fail_status, "HTTP status of failures (default 500)");
  cmd.add_option("--retry-after", a.retry_after, "retry-after seconds on failures");
  cmd.add_option("--retry-after-ms", a.retry_after_ms, "retry-after-ms on failures");
  cmd.add_option("--require-key", a.require_key, "Answer 401 unless this Bearer key is sent");
}

int RunSim(const SimArgs& a) {
  sim::SimOptions o;
  o.ttft = std::chrono::milliseconds(a.ttft_ms);
  o.tokens_per_s = a.tokens_per_s;
  o.latency = std::chrono::milliseconds(a.latency_ms);
  o.rpm = a.rpm;
  o.tpm = a.tpm;
  o.window = std::chrono::seconds(a.window_s);
  o.fail_rate = a.fail_rate;
  o.seed = a.seed;
  o.fail_status = a.fail_status;
  o.retry_after_s = a.retry_after;
  o.retry_after_ms = a.retry_after_ms;
  o.require_key = a.require_key;
  sim::Simulator simulator(o);

  net::EventLoops loops(a.threads);
  net::ServerOptions so;
  so.host = a.host;
  so.port = static_cast<uint16_t>(a.port);
  so.body_limit = [](std::string_view) -> size_t { return 256u << 20; };
  net::Server server(loops, so, [&simulator](net::ServerRequest& r, net::ResponseWriter& w) {
    return simulator.Handle(r, w);
  });
  if (auto st = server.Listen(); !st.ok()) return Fail(st.error());
  std::printf("listening on %s:%u\n", server.host().c_str(), server.port());
  std::fflush(stdout);

  boost::asio::signal_set signals(loops.loop(0), SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    server.StopAccepting();
    loops.Stop();
  });
  loops.Start();
  loops.Join();
  return 0;
}

}  // namespace modelmux::cli
