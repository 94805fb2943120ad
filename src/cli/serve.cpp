// `modelmux serve`: the gateway.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <cstdlib>

#include "batch/service.hpp"
#include "cli/commands.hpp"
#include "gateway/admission.hpp"
#include "gateway/batch_gate.hpp"
#include "gateway/gateway.hpp"
#include "telemetry/price_table.hpp"

namespace modelmux::cli {

namespace asio = boost::asio;

int Fail(const Error& e) {
  // The machine code too, so scripts can tell failures apart.
  if (e.code.empty()) {
    std::fprintf(stderr, "modelmux: %s\n", e.message.c_str());
  } else {
    std::fprintf(stderr, "modelmux: %s [%s]\n", e.message.c_str(), e.code.c_str());
  }
  return e.kind == ErrorKind::kInvalidRequest ? 2 : 1;
}

void AddServeFlags(CLI::App& cmd, ServeArgs& a) {
  cmd.add_option("--config", a.config.config_file, "YAML config file (env MODELMUX_CONFIG)");
  cmd.add_option("--host", a.config.host, "Listen address (default 127.0.0.1; env MODELMUX_HOST)");
  cmd.add_option("--port", a.config.port, "Listen port, 0 for a free one (default 8080)")
      ->check(CLI::Range(0, 65535));
  cmd.add_option("--data-dir", a.config.data_dir, "State directory (default ./modelmux-data)");
  cmd.add_option("--redis", a.config.redis,
                 "Redis URL(s) shared by replicas: redis://, rediss://, comma-separated cluster "
                 "seeds (env MODELMUX_REDIS_URL)");
  cmd.add_option("--log-format", a.config.log_format, "json (default) or human")
      ->check(CLI::IsMember({"json", "human"}));
  cmd.add_option("--threads", a.threads, "Event loops (default: the CPUs this process may use)");
  cmd.add_flag("--no-access-log", a.no_access_log, "Do not log one record per request");
  cmd.add_option("--tls-cert", a.tls_cert,
                 "Serve HTTPS: PEM certificate chain (with --tls-key; env MODELMUX_TLS_CERT)");
  cmd.add_option("--tls-key", a.tls_key, "PEM private key for --tls-cert (env MODELMUX_TLS_KEY)");
  cmd.add_flag("--log-bodies", a.log_bodies,
               "Log request and response bodies (media elided, secrets redacted)");
  cmd.add_flag("--no-ledger", a.no_ledger, "Do not write the usage ledger (<data-dir>/ledger.db)");
  cmd.add_option("--prices", a.prices_file,
                 "Prices file merged over the built-in table (telemetry.prices_file)");
}

namespace {

net::ServerOptions ServerOptionsFrom(const routing::Config& cfg, gateway::Gateway* gw) {
  net::ServerOptions so;
  so.host = cfg.server.host;
  so.port = cfg.server.port;
  so.header_limit = cfg.server.limits.headers;
  so.header_timeout = cfg.server.header_timeout;
  so.idle_timeout = cfg.server.idle_timeout;
  so.max_connections_per_ip = cfg.server.max_connections_per_ip;
  so.body_limit = [gw](std::string_view path) { return gw->BodyLimit(path); };
  return so;
}

asio::awaitable<void> Drain(net::Server* server, net::EventLoops* loops,
                            std::chrono::milliseconds timeout) {
  server->StopAccepting();
  auto until = std::chrono::steady_clock::now() + timeout;
  asio::steady_timer t(co_await asio::this_coro::executor);
  while (server->in_flight() > 0 && std::chrono::steady_clock::now() < until) {
    t.expires_after(std::chrono::milliseconds(50));
    co_await t.async_wait(asio::use_awaitable);
  }
  loops->Stop();
}

}  // namespace

int RunServe(const ServeArgs& args) {
  auto cfg = LoadConfig(args.config, true);
  if (!cfg.ok()) return Fail(cfg.error());
  auto config = *cfg;
  const unsigned threads = args.threads ? args.threads : config->server.threads;
  net::EventLoops loops(threads);

  auto rt = Runtime::Start(config, loops, /*with_cache=*/true);
  if (!rt.ok()) return Fail(rt.error());
  auto& runtime = **rt;

  gateway::GatewayOptions gopt;
  gopt.log_format = config->server.log_format == routing::LogFormat::kHuman
                        ? telemetry::LogFormat::kHuman
                        : telemetry::LogFormat::kJson;
  gopt.access_log = !args.no_access_log;
  (void)telemetry::PriceTable::BuiltIn();  // parse the embedded price table now, not on a request
  if (args.log_bodies) config->telemetry.log_bodies = true;
  if (args.no_ledger) config->telemetry.ledger = false;
  if (!args.prices_file.empty()) config->telemetry.prices_file = args.prices_file;
  if (auto st = InstallPrices(*config); !st.ok()) return Fail(st.error());
  gopt.log_bodies = config->telemetry.log_bodies;
  gateway::Gateway gw(runtime.router(), gopt);
  auto ledger = OpenServeLedger(*config, gw.registry());
  if (!ledger.ok()) return Fail(ledger.error());
  gw.SetLedger(ledger->get());
  // Virtual keys, scopes, IP allowlists, per-key limits; the audit log (gateway/admission.hpp).
  auto gatekeeper = gateway::Gatekeeper::Create(*config, loops.loop(0).get_executor());
  if (!gatekeeper.ok()) return Fail(gatekeeper.error());
  gw.SetGatekeeper(*gatekeeper);
  // The Batch API (batch/service.hpp): files and jobs under <data_dir>/batch, run on the loops.
  batch::ServiceOptions batch_options;
  batch_options.data_dir = config->server.data_dir;
  batch_options.retention = config->batch.retention;
  for (size_t i = 0; i < loops.size(); ++i) {
    batch_options.executors.push_back(loops.loop(i).get_executor());
  }
  batch_options.router = [&gw] { return gw.router(); };
  batch_options.run.concurrency = config->batch.concurrency;
  batch_options.run.flush_every = config->batch.flush_every;
  batch_options.run.flush_interval = config->batch.flush_interval;
  // Every line is held to its owner's limits and written to the ledger (gateway/batch_gate.hpp).
  batch_options.gate_for =
      [gate = gateway::BatchGateOptions{*gatekeeper, ledger->get(), [&gw] { return gw.router(); }}](
          const std::string& owner, const std::string& batch_id) {
        return gateway::MakeBatchGate(gate, owner, batch_id + "-");
      };
  auto batch_service = batch::BatchService::Create(std::move(batch_options));
  if (!batch_service.ok()) return Fail(batch_service.error());
  gw.SetBatchService(*batch_service);
  (*batch_service)->Start();
  auto server_options = ServerOptionsFrom(*config, &gw);
  // TLS termination: flags first, then the environment.
  server_options.tls_cert_file = args.tls_cert;
  server_options.tls_key_file = args.tls_key;
  if (const char* v = std::getenv("MODELMUX_TLS_CERT"); v && server_options.tls_cert_file.empty())
    server_options.tls_cert_file = v;
  if (const char* v = std::getenv("MODELMUX_TLS_KEY"); v && server_options.tls_key_file.empty())
    server_options.tls_key_file = v;
  net::Server server(
      loops, std::move(server_options),
      [&gw](net::ServerRequest& r, net::ResponseWriter& w) { return gw.Handle(r, w); });
  if (auto st = server.Listen(); !st.ok()) return Fail(st.error());

  // SIGTERM / SIGINT: drain. SIGHUP: reload the config file; a bad file keeps the old config.
  asio::signal_set stop_signals(loops.loop(0), SIGTERM, SIGINT);
  asio::signal_set hup(loops.loop(0), SIGHUP);
  const auto drain_timeout = config->server.drain_timeout;
  stop_signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    asio::co_spawn(loops.loop(0), Drain(&server, &loops, drain_timeout), asio::detached);
  });
  std::function<void(const boost::system::error_code&, int)> on_hup =
      [&](const boost::system::error_code& ec, int) {
        if (ec) return;
        auto next = LoadConfig(args.config, true);
        if (next.ok()) {
          auto router = runtime.Rebuild(*next);
          if (router.ok()) {
            gw.SetRouter(*router);
            if (!args.prices_file.empty()) (*next)->telemetry.prices_file = args.prices_file;
            if (auto st = InstallPrices(**next); !st.ok()) {
              std::fprintf(stderr, "modelmux: prices file refused, keeping the old prices: %s\n",
                           st.error().message.c_str());
            }
            std::fprintf(stderr, "modelmux: configuration reloaded\n");
          } else {
            std::fprintf(stderr, "modelmux: reload refused, keeping the old config: %s\n",
                         router.error().message.c_str());
          }
        } else {
          std::fprintf(stderr, "modelmux: reload refused, keeping the old config: %s\n",
                       next.error().message.c_str());
        }
        hup.async_wait(on_hup);
      };
  hup.async_wait(on_hup);

  if (runtime.simulator_running() && config->using_simulator) {
    std::printf(
        "no provider key found in the environment: serving the built-in simulator (models "
        "sim/*)\n");
  }
  std::printf("listening on %s:%u\n", server.host().c_str(), server.port());
  std::fflush(stdout);

  // Request-log lines are written in groups; a quiet gateway still writes them within 200 ms.
  asio::co_spawn(
      loops.loop(0),
      [](gateway::Gateway* g) -> asio::awaitable<void> {
        asio::steady_timer t(co_await asio::this_coro::executor);
        while (true) {
          t.expires_after(std::chrono::milliseconds(200));
          auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
          if (ec) co_return;
          g->FlushLogs();
        }
      }(&gw),
      asio::detached);

  loops.Start();
  loops.Join();
  (*batch_service)->Stop();
  gw.FlushLogs();
  if (*ledger) (*ledger)->Flush();
  return 0;
}

}  // namespace modelmux::cli
