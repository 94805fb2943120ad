#include "batch/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cmath>

namespace modelmux::batch {
namespace json = boost::json;

double Progress::rate() const {
  const double s = static_cast<double>(elapsed.count()) / 1000.0;
  return s > 0 ? static_cast<double>(done) / s : 0;
}

std::chrono::seconds Progress::eta() const {
  const double r = rate();
  if (r <= 0 || done >= to_run()) return std::chrono::seconds(0);
  return std::chrono::seconds(static_cast<int64_t>(static_cast<double>(to_run() - done) / r));
}

double Report::success_rate() const {
  return progress.done == 0 ? 1.0
                            : static_cast<double>(progress.ok) / static_cast<double>(progress.done);
}

double Percentile(std::vector<float> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
  rank = std::clamp<size_t>(rank, 1, values.size());
  return values[rank - 1];
}

void ReportBuilder::Add(const Outcome& o) {
  auto& p = report_.progress;
  ++p.done;
  const std::string& name = o.deployment.empty() ? o.model : o.deployment;
  ModelStats& m = report_.models[name];
  ++m.requests;
  if (o.error) {
    ++p.failed;
    ++m.failed;
  } else {
    ++p.ok;
    ++m.ok;
    latencies_ms_.push_back(static_cast<float>(o.latency.count()));
  }
  if (o.cache_hit) ++report_.cache_hits;
  if (o.usage) {
    p.prompt_tokens += o.usage->prompt_tokens;
    p.completion_tokens += o.usage->completion_tokens;
    m.prompt_tokens += o.usage->prompt_tokens;
    m.completion_tokens += o.usage->completion_tokens;
    const telemetry::ModelPrice* price = price_of_ ? price_of_(o.deployment) : nullptr;
    if (price != nullptr && !o.cache_hit) {
      if (auto cost = telemetry::Cost(*price, *o.usage)) {
        m.cost_micros += cost->micros;
        m.currency = cost->currency;
        m.cost_known = true;
        if (cost->currency == telemetry::Currency::kUsd) p.cost_micros_usd += cost->micros;
      }
    }
  }
}

Report ReportBuilder::Finish() const {
  Report r = report_;
  r.latency_p50_ms = Percentile(latencies_ms_, 0.50);
  r.latency_p95_ms = Percentile(latencies_ms_, 0.95);
  r.latency_p99_ms = Percentile(latencies_ms_, 0.99);
  return r;
}

std::string Report::ToJson() const {
  const auto& p = progress;
  json::object models_json;
  for (const auto& [name, m] : models) {
    json::object mj{{"requests", m.requests},
                    {"ok", m.ok},
                    {"failed", m.failed},
                    {"prompt_tokens", m.prompt_tokens},
                    {"completion_tokens", m.completion_tokens}};
    if (m.cost_known) {
      mj["cost"] = telemetry::FormatMoney({m.cost_micros, m.currency});
      mj["cost_micros"] = m.cost_micros;
      mj["currency"] = m.currency == telemetry::Currency::kUsd ? "USD" : "CNY";
    } else {
      mj["cost"] = nullptr;
    }
    models_json[name] = std::move(mj);
  }
  const double wall = static_cast<double>(p.elapsed.count()) / 1000.0;
  json::object o{
      {"total", p.total},
      {"ok", p.ok},
      {"failed", p.failed},
      {"skipped", p.skipped},
      {"not_run", p.to_run() - p.done},
      {"success_rate", success_rate()},
      {"latency_ms",
       json::object{{"p50", latency_p50_ms}, {"p95", latency_p95_ms}, {"p99", latency_p99_ms}}},
      {"prompt_tokens", p.prompt_tokens},
      {"completion_tokens", p.completion_tokens},
      {"cost_usd_micros", p.cost_micros_usd},
      {"cache_hits", cache_hits},
      {"rate_limited", p.rate_limited},
      {"provider_pauses", p.provider_pauses},
      {"wall_time_s", wall},
      {"requests_per_s", p.rate()},
      {"cancelled", cancelled},
      {"models", std::move(models_json)}};
  return json::serialize(o);
}

std::string Report::Summary() const {
  const auto& p = progress;
  std::string s = fmt::format(
      "batch: {} lines: {} ok, {} failed, {} skipped{} ({:.1f}% success)\n", p.total, p.ok,
      p.failed, p.skipped,
      p.to_run() > p.done ? fmt::format(", {} not run", p.to_run() - p.done) : std::string(),
      success_rate() * 100);
  s += fmt::format("  wall {:.2f}s, {:.1f} req/s, latency p50 {:.0f}ms p95 {:.0f}ms p99 {:.0f}ms\n",
                   static_cast<double>(p.elapsed.count()) / 1000.0, p.rate(), latency_p50_ms,
                   latency_p95_ms, latency_p99_ms);
  s += fmt::format("  tokens {} in / {} out, cache hits {}, 429s {}\n", p.prompt_tokens,
                   p.completion_tokens, cache_hits, p.rate_limited);
  for (const auto& [name, m] : models) {
    s += fmt::format("  {}: {} ok, {} failed, {} in / {} out, cost {}\n", name, m.ok, m.failed,
                     m.prompt_tokens, m.completion_tokens,
                     m.cost_known ? telemetry::FormatMoney({m.cost_micros, m.currency})
                                  : std::string("unknown"));
  }
  return s;
}

}  // namespace modelmux::batch
