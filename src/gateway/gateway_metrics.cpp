#include "gateway/gateway_metrics.hpp"

#include <cmath>
#include <cstdlib>

#include "routing/router.hpp"

namespace modelmux::gateway {

void GatewayMetrics::StartTracing(const routing::TelemetryConfig& config) {
  auto options =
      telemetry::ResolveOtlpOptions(config.otlp_endpoint, config.otlp_headers, config.otlp_timeout,
                                    [](const std::string& name) -> std::optional<std::string> {
                                      const char* v = std::getenv(name.c_str());
                                      if (v == nullptr) return std::nullopt;
                                      return std::string(v);
                                    });
  if (!options) return;
  options->service_version = "0.1.0";
  tracer = std::make_unique<telemetry::SpanExporter>(std::move(*options), &trace_spans);
}

void GatewayMetrics::CollectDeployments(const routing::Router& router) {
  for (const auto& alias : router.config().models) {
    const resilience::DeploymentSet* set = router.dispatcher().SetFor(alias.name);
    if (set == nullptr) continue;
    for (size_t i = 0; i < set->size() && i < alias.deployments.size(); ++i) {
      const auto& d = alias.deployments[i];
      const std::vector<std::string> labels{alias.name, d.provider + "/" + d.model};
      deployment_ejected.With(labels).Set(set->Ejected(i) ? 1 : 0);
      deployment_ejections.With(labels).SetTotal(static_cast<double>(set->EjectionsTotal(i)));
      deployment_outstanding.With(labels).Set(set->Outstanding(i));
    }
  }
  auto budget = [&](const char* scope, const std::string& name,
                    const resilience::RetryBudget* b) {
    if (b == nullptr) return;
    const std::vector<std::string> labels{scope, name};
    retries_throttled.With(labels).SetTotal(static_cast<double>(b->throttled()));
    retry_budget_tokens.With(labels).Set(static_cast<int64_t>(std::floor(b->tokens())));
  };
  for (const auto& alias : router.config().models) {
    budget("alias", alias.name, router.dispatcher().AliasBudgetFor(alias.name));
  }
  for (const auto& p : router.config().providers) {
    budget("provider", p.name, router.dispatcher().BudgetFor(p.name));
  }
  shared_limit_fallbacks.SetTotal(
      static_cast<double>(router.dispatcher().SharedWindowLocalFallbacks()));
}

}  // namespace modelmux::gateway
