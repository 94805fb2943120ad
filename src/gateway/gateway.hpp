#pragma once
// The gateway's HTTP handlers: the OpenAI-compatible /v1 surface, health, readiness and metrics.
// One Gateway serves every event loop; its router snapshot is swapped atomically on reload.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <memory>

#include "gateway/recent_errors.hpp"
#include "net/server.hpp"
#include "routing/router.hpp"
#include "telemetry/ledger.hpp"
#include "telemetry/metrics.hpp"
#include "telemetry/request_log.hpp"

namespace modelmux::batch {
class BatchService;
}  // namespace modelmux::batch

namespace modelmux::gateway {

struct GatewayMetrics;
class Gatekeeper;

struct GatewayOptions {
  telemetry::LogFormat log_format = telemetry::LogFormat::kJson;
  bool access_log = true;
  // One row per API request goes to the usage ledger (not owned; outlives the gateway). nullptr:
  // no ledger, and GET /v1/usage answers 404.
  telemetry::Ledger* ledger = nullptr;
  // Request and response bodies in the request log, redacted (telemetry.log_bodies).
  bool log_bodies = false;
};

class Gateway {
 public:
  Gateway(std::shared_ptr<const routing::Router> router, GatewayOptions options);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // The net::Handler of the gateway.
  boost::asio::awaitable<void> Handle(net::ServerRequest& request, net::ResponseWriter& writer);

  // Swaps in a new router (configuration reload). Requests in flight keep the old one.
  void SetRouter(std::shared_ptr<const routing::Router> router);
  // Installs the usage ledger (before serving; not owned). See GatewayOptions::ledger.
  void SetLedger(telemetry::Ledger* ledger) { options_.ledger = ledger; }
  // Installs virtual keys, scopes, IP allowlists and per-key limits (admission.hpp); before
  // serving. Without one, only the master-key checks of /admin/cache apply.
  void SetGatekeeper(std::shared_ptr<Gatekeeper> gatekeeper);
  // Installs the Batch API's engine (batch/service.hpp); before serving. Without one, /v1/files
  // and /v1/batches answer 404.
  void SetBatchService(std::shared_ptr<batch::BatchService> service) {
    batch_ = std::move(service);
  }
  [[nodiscard]] std::shared_ptr<const routing::Router> router() const;

  // Body limit for a path, from the current configuration.
  [[nodiscard]] size_t BodyLimit(std::string_view path) const;

  [[nodiscard]] telemetry::Registry& registry() { return registry_; }
  // Writes buffered request-log lines (called periodically and at shutdown).
  void FlushLogs() const { log_.Flush(); }

  struct Exchange;  // per-request state of one call

 private:
  boost::asio::awaitable<void> ChatCompletions(Exchange& ex, bool legacy);
  boost::asio::awaitable<void> Models(Exchange& ex);
  // POST /v1/embeddings (the work is in embeddings.hpp).
  boost::asio::awaitable<void> Embeddings(Exchange& ex);
  // POST /v1/describe (the work is in describe.hpp).
  boost::asio::awaitable<void> Describe(Exchange& ex);
  // /admin/cache/* (the work is in cache_admin.hpp).
  boost::asio::awaitable<void> CacheAdmin(Exchange& ex);
  // Admission (admission.hpp): IP allowlists, the caller's key, scopes and limits; false when it
  // refused the request (the refusal is sent).
  boost::asio::awaitable<bool> Govern(Exchange& ex);
  // /admin/keys[/{id}] (the work is in keys_admin.hpp).
  boost::asio::awaitable<void> KeysAdmin(Exchange& ex);
  // /v1/files[/...] and /v1/batches[/...] (the work is in batch_api.hpp).
  boost::asio::awaitable<void> BatchApi(Exchange& ex);
  // GET /ui, /ui/* (ui.hpp) and the dashboard's data: /admin/stats, /admin/errors (stats_api.hpp).
  boost::asio::awaitable<void> Dashboard(Exchange& ex);
  // POST /utils/token_counter (the work is in token_counter.hpp).
  boost::asio::awaitable<void> TokenCounter(Exchange& ex);
  // The Anthropic Messages front door, and its token counter.
  boost::asio::awaitable<void> Messages(Exchange& ex);
  boost::asio::awaitable<void> CountTokens(Exchange& ex);
  // Caller and upstream speak different dialects: decode, route, translate the answer back.
  boost::asio::awaitable<void> Translated(Exchange& ex, ChatRequest request);

  std::atomic<std::shared_ptr<const routing::Router>> router_;
  GatewayOptions options_;
  telemetry::Registry registry_;
  std::unique_ptr<GatewayMetrics> metrics_;
  telemetry::RequestLog log_;
  std::shared_ptr<Gatekeeper> gatekeeper_;      // null: no governance (SetGatekeeper)
  std::shared_ptr<batch::BatchService> batch_;  // null: no Batch API (SetBatchService)
  RecentErrors recent_errors_{100};             // the latest failed requests, for the dashboard
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace modelmux::gateway
