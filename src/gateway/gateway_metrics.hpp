#pragma once
// Every metric the gateway's handlers export, declared in one place. Names, labels and meanings
// are listed in docs/OBSERVABILITY.md.

#include <memory>

#include "routing/config.hpp"
#include "routing/dispatch.hpp"
#include "telemetry/metrics.hpp"
#include "telemetry/price_table.hpp"
#include "telemetry/request_log.hpp"
#include "telemetry/trace_exporter.hpp"

namespace modelmux::routing {
class Router;
}

namespace modelmux::gateway {

struct GatewayMetrics {
  explicit GatewayMetrics(telemetry::Registry& r)
      : requests(r.AddCounter("modelmux_requests_total",
                              "Requests answered, by model (as the caller named it), provider and "
                              "HTTP status.",
                              {"model", "provider", "status"})),
        latency(r.AddHistogram("modelmux_request_duration_seconds",
                               "Time from the request head to the end of the response.",
                               {"model", "provider"}, telemetry::LatencyBuckets())),
        tokens(r.AddCounter("modelmux_tokens_total", "Tokens reported by providers, by kind.",
                            {"model", "provider", "kind"})),
        upstream_errors(r.AddCounter("modelmux_upstream_errors_total",
                                     "Upstream calls that failed, by provider and error kind.",
                                     {"provider", "kind"})),
        cost(r.AddCounter("modelmux_cost_total",
                          "Money spent at the provider's list price, in the model's currency.",
                          {"model", "provider", "currency"})),
        unpriced(r.AddCounter("modelmux_unpriced_requests_total",
                              "Requests whose reported tokens have no known price (their cost is "
                              "missing from modelmux_cost_total), by model and provider.",
                              {"model", "provider"})),
        in_flight(
            r.AddGauge("modelmux_requests_in_flight", "Requests being handled now.", {}).With({})),
        attempts(r.AddCounter("modelmux_upstream_attempts_total",
                              "Upstream attempts made, by model (as the caller named it).",
                              {"model"})),
        retries(r.AddCounter("modelmux_retries_total",
                             "Upstream attempts after the first of a request, by model.",
                             {"model"})),
        fallbacks(r.AddCounter("modelmux_fallbacks_total",
                               "Requests that went to a fallback model, by model and fallback.",
                               {"model", "fallback"})),
        queue_wait(r.AddHistogram("modelmux_rate_limit_queue_seconds",
                                  "Time requests waited in a deployment's client-side rate-limit "
                                  "queue (requests that did not wait are not observed).",
                                  {"model"}, telemetry::LatencyBuckets())),
        backoff_wait(r.AddCounter("modelmux_retry_backoff_seconds_total",
                                  "Time spent waiting between retries, by model.", {"model"})),
        media_bytes(r.AddCounter("modelmux_media_bytes_total",
                                 "Image and video bytes as received (stage=before) and as sent "
                                 "upstream (stage=after), by provider.",
                                 {"provider", "stage"})),
        media_parts(r.AddCounter("modelmux_media_parts_total",
                                 "Media handled by the media stage, by provider and what was "
                                 "done (image, reencoded, fetched, video, frame, url).",
                                 {"provider", "action"})),
        cache_requests(r.AddCounter("modelmux_cache_requests_total",
                                    "Chat requests by the response cache's verdict (hit, miss, "
                                    "bypass), by model.",
                                    {"model", "result"})),
        cache_saved_tokens(r.AddCounter("modelmux_cache_saved_tokens_total",
                                        "Tokens that cache hits did not spend, by model and kind.",
                                        {"model", "kind"})),
        cache_saved_cost(r.AddCounter("modelmux_cache_saved_cost_total",
                                      "Money that cache hits did not spend (list price), by model "
                                      "and currency.",
                                      {"model", "currency"})),
        request_errors(r.AddCounter("modelmux_request_errors_total",
                                    "Requests that ended with an error (an error status, or a "
                                    "stream that failed after its 200 head), by model, provider "
                                    "and error code.",
                                    {"model", "provider", "code"})),
        ttft(r.AddHistogram("modelmux_time_to_first_token_seconds",
                            "Streams: time from the request head to the first content chunk "
                            "written to the caller.",
                            {"model", "provider"}, telemetry::LatencyBuckets())),
        overhead(r.AddHistogram("modelmux_gateway_overhead_seconds",
                                "The gateway's own time per API request: total time minus the "
                                "time spent waiting for upstreams, for the caller's socket "
                                "(streams), in retry backoff and in rate-limit queues.",
                                {}, telemetry::OverheadBuckets())
                     .With({})),
        deployment_ejected(r.AddGauge("modelmux_deployment_ejected",
                                      "1 while outlier ejection keeps a deployment of a model "
                                      "alias out of rotation (the breaker is open), else 0.",
                                      {"model", "deployment"})),
        deployment_ejections(r.AddCounter("modelmux_deployment_ejections_total",
                                          "Times a deployment was ejected since the current "
                                          "configuration was loaded.",
                                          {"model", "deployment"})),
        deployment_outstanding(r.AddGauge("modelmux_deployment_outstanding",
                                          "Upstream attempts in flight per deployment.",
                                          {"model", "deployment"})),
        retries_throttled(r.AddCounter("modelmux_retries_throttled_total",
                                       "Retries the retry budget refused, by budget scope "
                                       "(alias or provider) and its name.",
                                       {"scope", "name"})),
        retry_budget_tokens(r.AddGauge("modelmux_retry_budget_tokens",
                                       "Whole tokens left in a retry budget (retries need more "
                                       "than half of router.retry_budget.max_tokens).",
                                       {"scope", "name"})),
        shared_limit_fallbacks(r.AddCounter("modelmux_shared_limit_local_fallbacks_total",
                                            "Rate-limit decisions of shared windows "
                                            "(router.shared_limits) made locally because Redis "
                                            "failed.",
                                            {})
                                   .With({})),
        trace_spans(r.AddCounter("modelmux_trace_spans_total",
                                 "Spans handed to the OTLP exporter, by result (exported, "
                                 "failed, dropped_queue_full).",
                                 {"result"})),
        budget_alerts(r.AddCounter("modelmux_budget_alerts_total",
                                   "Budget alerts raised, by key id, budget (daily, monthly, "
                                   "total) and threshold (limits.alert_thresholds).",
                                   {"key", "budget", "threshold"})) {}

  // Starts the OTLP span exporter when the configuration or the OTEL_EXPORTER_OTLP_* environment
  // names a collector. Call once, before requests.
  void StartTracing(const routing::TelemetryConfig& config);
  [[nodiscard]] bool tracing() const { return tracer != nullptr; }

  // Copies each model alias's deployment state (ejection, outstanding attempts), the retry
  // budgets and the shared windows' fallback count into the metrics; called before /metrics is
  // rendered.
  void CollectDeployments(const routing::Router& router);

  // The gateway's own time: `total` minus every wait that is not ours.
  [[nodiscard]] static std::chrono::nanoseconds Overhead(std::chrono::nanoseconds total,
                                                         const routing::AttemptLog& log,
                                                         std::chrono::nanoseconds io_wait) {
    auto own = total - log.upstream - io_wait - std::chrono::nanoseconds(log.waited) -
               std::chrono::nanoseconds(log.queued);
    return own.count() < 0 ? std::chrono::nanoseconds(0) : own;
  }

  void RecordCacheSaved(const std::string& model, const std::optional<Usage>& usage,
                        const std::optional<telemetry::Money>& money) {
    if (usage) {
      cache_saved_tokens.With({model, "prompt"}).Inc(static_cast<double>(usage->prompt_tokens));
      cache_saved_tokens.With({model, "completion"})
          .Inc(static_cast<double>(usage->completion_tokens));
    }
    if (money) {
      cache_saved_cost.With({model, money->currency == telemetry::Currency::kCny ? "CNY" : "USD"})
          .Inc(static_cast<double>(money->micros) / 1e6);
    }
  }

  // What the media stage did for one request.
  void RecordMedia(const std::string& provider, const routing::AttemptLog& log) {
    if (!log.media) return;
    const media::MediaReport& m = *log.media;
    media_bytes.With({provider, "before"}).Inc(static_cast<double>(m.bytes_before));
    media_bytes.With({provider, "after"}).Inc(static_cast<double>(m.bytes_after));
    auto add = [&](const char* action, int n) {
      if (n > 0) media_parts.With({provider, action}).Inc(n);
    };
    add("image", m.images);
    add("reencoded", m.reencoded);
    add("fetched", m.fetched);
    add("video", m.videos);
    add("frame", m.frames);
    add("url", m.passed_urls);
  }

  // What the attempt loop did for one request.
  void RecordAttempts(const std::string& model, const routing::AttemptLog& log) {
    if (log.attempts == 0) return;
    attempts.With({model}).Inc(log.attempts);
    if (log.attempts > 1) retries.With({model}).Inc(log.attempts - 1);
    for (const auto& f : log.fallbacks) fallbacks.With({model, f}).Inc();
    if (log.queued.count() > 0) queue_wait.With({model}).Observe(log.queued.count() / 1000.0);
    if (log.waited.count() > 0) backoff_wait.With({model}).Inc(log.waited.count() / 1000.0);
  }

  // `spent`: the tokens were spent at the provider (false for a cache hit).
  void Record(const std::string& model, const telemetry::RequestRecord& rec,
              const std::optional<telemetry::Money>& money, bool spent = true) {
    if (money) {
      cost.With({model, rec.provider, money->currency == telemetry::Currency::kCny ? "CNY" : "USD"})
          .Inc(static_cast<double>(money->micros) / 1e6);
    } else if (rec.usage && spent) {
      unpriced.With({model, rec.provider}).Inc();  // tokens spent at a price we do not know
    }
    const std::string status = std::to_string(rec.status);
    requests.With({model, rec.provider, status}).Inc();
    if (!rec.error_code.empty()) request_errors.With({model, rec.provider, rec.error_code}).Inc();
    latency.With({model, rec.provider}).Observe(rec.latency.count());
    if (rec.usage && spent) {
      tokens.With({model, rec.provider, "prompt"})
          .Inc(static_cast<double>(rec.usage->prompt_tokens));
      tokens.With({model, rec.provider, "completion"})
          .Inc(static_cast<double>(rec.usage->completion_tokens));
      if (rec.usage->cache_read_tokens) {
        tokens.With({model, rec.provider, "cached"})
            .Inc(static_cast<double>(rec.usage->cache_read_tokens));
      }
      if (rec.usage->cache_write_tokens) {
        tokens.With({model, rec.provider, "cache_write"})
            .Inc(static_cast<double>(rec.usage->cache_write_tokens));
      }
      if (rec.usage->reasoning_tokens) {
        tokens.With({model, rec.provider, "reasoning"})
            .Inc(static_cast<double>(rec.usage->reasoning_tokens));
      }
    }
  }

  telemetry::CounterFamily& requests;
  telemetry::HistogramFamily& latency;
  telemetry::CounterFamily& tokens;
  telemetry::CounterFamily& upstream_errors;
  telemetry::CounterFamily& cost;
  telemetry::CounterFamily& unpriced;
  telemetry::Gauge& in_flight;
  telemetry::CounterFamily& attempts;
  telemetry::CounterFamily& retries;
  telemetry::CounterFamily& fallbacks;
  telemetry::HistogramFamily& queue_wait;
  telemetry::CounterFamily& backoff_wait;
  telemetry::CounterFamily& media_bytes;
  telemetry::CounterFamily& media_parts;
  telemetry::CounterFamily& cache_requests;
  telemetry::CounterFamily& cache_saved_tokens;
  telemetry::CounterFamily& cache_saved_cost;
  telemetry::CounterFamily& request_errors;
  telemetry::HistogramFamily& ttft;
  telemetry::Histogram& overhead;
  telemetry::GaugeFamily& deployment_ejected;
  telemetry::CounterFamily& deployment_ejections;
  telemetry::GaugeFamily& deployment_outstanding;
  telemetry::CounterFamily& retries_throttled;
  telemetry::GaugeFamily& retry_budget_tokens;
  telemetry::Counter& shared_limit_fallbacks;
  telemetry::CounterFamily& trace_spans;
  telemetry::CounterFamily& budget_alerts;
  std::unique_ptr<telemetry::SpanExporter> tracer;  // null while tracing is off
};

}  // namespace modelmux::gateway
