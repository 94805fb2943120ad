#pragma once
// Every metric the gateway's handlers export, declared in one place. Names, labels and meanings
// are listed in docs/OBSERVABILITY.md.

#include "routing/dispatch.hpp"
#include "telemetry/metrics.hpp"
#include "telemetry/price_table.hpp"
#include "telemetry/request_log.hpp"

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
                                      {"model", "currency"})) {}

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
    }
    const std::string status = std::to_string(rec.status);
    requests.With({model, rec.provider, status}).Inc();
    latency.With({model, rec.provider}).Observe(rec.latency.count());
    if (rec.usage && spent) {
      tokens.With({model, rec.provider, "prompt"})
          .Inc(static_cast<double>(rec.usage->prompt_tokens));
      tokens.With({model, rec.provider, "completion"})
          .Inc(static_cast<double>(rec.usage->completion_tokens));
      if (rec.usage->cache_read_tokens) {
        tokens.With({model, rec.provider, "cache_read"})
            .Inc(static_cast<double>(rec.usage->cache_read_tokens));
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
};

}  // namespace modelmux::gateway
