#include "telemetry/metrics.hpp"

#include <cmath>
#include <cstdio>

namespace modelmux::telemetry {
namespace {

std::string Num(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    snprintf(buf, sizeof(buf), "%.0f", v);
  } else {
    snprintf(buf, sizeof(buf), "%.9g", v);
  }
  return buf;
}

std::string LabelText(const std::vector<std::string>& names, const std::vector<std::string>& values,
                      const std::string& extra = {}) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!out.empty()) out += ',';
    out += names[i] + "=\"" + EscapeLabel(i < values.size() ? values[i] : "") + "\"";
  }
  if (!extra.empty()) {
    if (!out.empty()) out += ',';
    out += extra;
  }
  return out.empty() ? "" : "{" + out + "}";
}

}  // namespace

std::string EscapeLabel(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::vector<double> LatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
          1,     2.5,    5,     10,   30,    60,   120, 300,  600};
}

std::vector<double> OverheadBuckets() {
  return {0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
          0.01,     0.025,   0.05,   0.1,     0.25,   0.5,   1,      2.5};
}

Histogram::Histogram(const std::vector<double>* bounds)
    : bounds_(bounds), buckets_(new std::atomic<uint64_t>[bounds->size() + 1]) {
  for (size_t i = 0; i <= bounds->size(); ++i) buckets_[i] = 0;
}

void Histogram::Observe(double v) {
  size_t i = 0;
  while (i < bounds_->size() && v > (*bounds_)[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<int64_t>(v * 1e6), std::memory_order_relaxed);
}

template <class T>
T& Family<T>::With(const std::vector<std::string>& values) {
  std::string key;
  for (const auto& v : values) {
    key += v;
    key += '\x1f';
  }
  std::lock_guard lock(mu_);
  auto it = children_.find(key);
  if (it != children_.end()) return *it->second.second;
  std::unique_ptr<T> child;
  if constexpr (std::is_same_v<T, Histogram>) {
    child = std::make_unique<T>(&bounds_);
  } else {
    child = std::make_unique<T>();
  }
  auto& slot = children_[key];
  slot.first = values;
  slot.second = std::move(child);
  return *slot.second;
}

template <class T>
void Family<T>::Render(std::string& out, const char* type) const {
  out += "# HELP " + name_ + " " + help_ + "\n# TYPE " + name_ + " " + type + "\n";
  std::lock_guard lock(mu_);
  for (const auto& [key, entry] : children_) {
    const auto& [values, child] = entry;
    if constexpr (std::is_same_v<T, Histogram>) {
      uint64_t cum = 0;
      for (size_t i = 0; i <= bounds_.size(); ++i) {
        cum += child->Bucket(i);
        std::string le =
            "le=\"" + (i < bounds_.size() ? Num(bounds_[i]) : std::string("+Inf")) + "\"";
        out +=
            name_ + "_bucket" + LabelText(labels_, values, le) + " " + std::to_string(cum) + "\n";
      }
      out += name_ + "_sum" + LabelText(labels_, values) + " " + Num(child->Sum()) + "\n";
      out += name_ + "_count" + LabelText(labels_, values) + " " + std::to_string(child->Count()) +
             "\n";
    } else if constexpr (std::is_same_v<T, Gauge>) {
      out += name_ + LabelText(labels_, values) + " " + std::to_string(child->Value()) + "\n";
    } else {
      out += name_ + LabelText(labels_, values) + " " + Num(child->Value()) + "\n";
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

CounterFamily& Registry::AddCounter(std::string name, std::string help,
                                    std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  counters_.push_back(
      std::make_unique<CounterFamily>(std::move(name), std::move(help), std::move(labels)));
  return *counters_.back();
}

GaugeFamily& Registry::AddGauge(std::string name, std::string help,
                                std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  gauges_.push_back(
      std::make_unique<GaugeFamily>(std::move(name), std::move(help), std::move(labels)));
  return *gauges_.back();
}

HistogramFamily& Registry::AddHistogram(std::string name, std::string help,
                                        std::vector<std::string> labels,
                                        std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  histograms_.push_back(std::make_unique<HistogramFamily>(std::move(name), std::move(help),
                                                          std::move(labels), std::move(bounds)));
  return *histograms_.back();
}

std::string Registry::Render() const {
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& f : counters_) f->Render(out, "counter");
  for (const auto& f : gauges_) f->Render(out, "gauge");
  for (const auto& f : histograms_) f->Render(out, "histogram");
  return out;
}

std::vector<FamilyInfo> Registry::Families() const {
  std::vector<FamilyInfo> out;
  std::lock_guard lock(mu_);
  for (const auto& f : counters_) out.push_back({f->name(), "counter", f->help(), f->labels()});
  for (const auto& f : gauges_) out.push_back({f->name(), "gauge", f->help(), f->labels()});
  for (const auto& f : histograms_) {
    out.push_back({f->name(), "histogram", f->help(), f->labels()});
  }
  return out;
}

}  // namespace modelmux::telemetry
