#pragma once
// A small Prometheus registry: counters and histograms with label values, rendered in the text
// exposition format. Lookups of a label set take a short lock; increments are atomic. Each module
// declares its own metrics in one place (see gateway/gateway_metrics.hpp).

#include <atomic>
#include <cmath>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace modelmux::telemetry {

class Counter {
 public:
  void Inc(double v = 1) {
    // Stored as micro-units so that fractional amounts (money, seconds) stay exact enough.
    // Rounded, not truncated: an amount given as micros / 1e6 comes back as exactly those micros.
    value_.fetch_add(std::llround(v * 1e6), std::memory_order_relaxed);
  }
  [[nodiscard]] double Value() const { return value_.load(std::memory_order_relaxed) / 1e6; }
  // For a counter mirrored from a source that keeps its own running total (e.g. a deployment
  // set's ejection count), set at scrape time.
  void SetTotal(double v) {
    value_.store(static_cast<int64_t>(v * 1e6), std::memory_order_relaxed);
  }

 private:
  std::atomic<int64_t> value_{0};
};

class Gauge {
 public:
  void Add(int64_t v) { value_.fetch_add(v, std::memory_order_relaxed); }
  void Set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  [[nodiscard]] int64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

class Histogram {
 public:
  explicit Histogram(const std::vector<double>* bounds);
  void Observe(double v);
  [[nodiscard]] uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  [[nodiscard]] double Sum() const { return sum_micros_.load(std::memory_order_relaxed) / 1e6; }
  [[nodiscard]] uint64_t Bucket(size_t i) const {
    return buckets_[i].load(std::memory_order_relaxed);
  }

 private:
  const std::vector<double>* bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // non-cumulative, one per bound (+Inf last)
  std::atomic<uint64_t> count_{0};
  std::atomic<int64_t> sum_micros_{0};
};

// A metric name with a fixed list of label names; children per label-value tuple.
template <class T>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> labels,
         std::vector<double> bounds = {})
      : name_(std::move(name)),
        help_(std::move(help)),
        labels_(std::move(labels)),
        bounds_(std::move(bounds)) {}

  T& With(const std::vector<std::string>& values);
  void Render(std::string& out, const char* type) const;
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] const std::string& help() const { return help_; }
  [[nodiscard]] const std::vector<std::string>& labels() const { return labels_; }

 private:
  std::string name_, help_;
  std::vector<std::string> labels_;
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::pair<std::vector<std::string>, std::unique_ptr<T>>>
      children_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

// Latency buckets in seconds, from 1 ms to 10 min.
[[nodiscard]] std::vector<double> LatencyBuckets();
// Buckets for the gateway's own time per request, from 25 us to 2.5 s.
[[nodiscard]] std::vector<double> OverheadBuckets();

// What a registry holds, for documentation checks: one entry per family.
struct FamilyInfo {
  std::string name;
  std::string type;  // counter, gauge, histogram
  std::string help;
  std::vector<std::string> labels;
};

class Registry {
 public:
  CounterFamily& AddCounter(std::string name, std::string help, std::vector<std::string> labels);
  GaugeFamily& AddGauge(std::string name, std::string help, std::vector<std::string> labels);
  HistogramFamily& AddHistogram(std::string name, std::string help, std::vector<std::string> labels,
                                std::vector<double> bounds);
  // Prometheus text exposition format 0.0.4.
  [[nodiscard]] std::string Render() const;
  // Every family registered so far, in registration order per type.
  [[nodiscard]] std::vector<FamilyInfo> Families() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<CounterFamily>> counters_;
  std::vector<std::unique_ptr<GaugeFamily>> gauges_;
  std::vector<std::unique_ptr<HistogramFamily>> histograms_;
};

// Escapes a label value for the text format.
[[nodiscard]] std::string EscapeLabel(std::string_view v);

}  // namespace modelmux::telemetry
