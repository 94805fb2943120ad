#pragma once
// The live state of the deployments behind one model alias, and the choice among them.
//
// - Outlier ejection as Envoy does it: after `consecutive_failures` failures in a row a
//   deployment is ejected for base_ejection x (times ejected), at most max_ejection, and never
//   more than max_ejection_percent of the set at once (at least one may always be ejected, as
//   long as one other stays in). It comes back by itself when its time is up; a success resets
//   its failure count.
// - Strategies: weighted random; least outstanding requests (ties by weight); latency-aware
//   (power of two choices over an EWMA of latency times outstanding requests); usage-aware (the
//   most provider-reported headroom, from x-ratelimit-remaining-* headers).
//
// Thread-safe; the clock is injected. Randomness comes in as uniform draws in [0, 1).

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

namespace modelmux::resilience {

enum class Strategy { kWeightedRandom, kLeastOutstanding, kLatency, kUsage };

[[nodiscard]] std::optional<Strategy> ParseStrategy(std::string_view name);
[[nodiscard]] std::string_view StrategyName(Strategy strategy);

struct OutlierOptions {
  int consecutive_failures = 5;
  std::chrono::milliseconds base_ejection{30'000};
  std::chrono::milliseconds max_ejection{300'000};
  double max_ejection_percent = 10;
};

class DeploymentSet {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  DeploymentSet(std::vector<uint32_t> weights, OutlierOptions options, Clock clock);
  DeploymentSet(const DeploymentSet&) = delete;
  DeploymentSet& operator=(const DeploymentSet&) = delete;

  [[nodiscard]] size_t size() const { return weights_.size(); }

  // A deployment for the next attempt, skipping ejected ones and those in `tried` (indexes of
  // deployments this request already used). When every candidate is ejected the least recently
  // ejected one is used anyway (better a likely failure than a certain one). nullopt when every
  // deployment was tried. `u1`, `u2`: uniform draws in [0, 1).
  [[nodiscard]] std::optional<size_t> Pick(Strategy strategy, const std::vector<size_t>& tried,
                                           double u1, double u2) const;

  void Begin(size_t i);  // an attempt starts (outstanding + 1)
  void OnSuccess(size_t i, std::chrono::milliseconds latency);
  void OnFailure(size_t i);  // a failure that counts toward ejection (5xx, timeouts, resets)
  void End(size_t i);        // the attempt ended (outstanding - 1)
  // Provider-reported headroom (0..1) from its rate-limit headers, for kUsage.
  void SetHeadroom(size_t i, double remaining_fraction);

  [[nodiscard]] bool Ejected(size_t i) const;
  [[nodiscard]] int TimesEjected(size_t i) const;
  [[nodiscard]] int64_t Outstanding(size_t i) const;
  [[nodiscard]] int64_t ejections_total() const;

 private:
  struct State {
    int consecutive = 0;
    int times_ejected = 0;
    std::chrono::steady_clock::time_point ejected_until{};
    int64_t outstanding = 0;
    double ewma_ms = 0;  // 0 = no sample yet
    double headroom = 1;
  };
  [[nodiscard]] bool EjectedLocked(size_t i, std::chrono::steady_clock::time_point now) const;
  [[nodiscard]] size_t EjectedCountLocked(std::chrono::steady_clock::time_point now) const;

  std::vector<uint32_t> weights_;
  OutlierOptions options_;
  Clock clock_;
  mutable std::mutex mu_;
  std::vector<State> states_;  // guarded by mu_
  int64_t ejections_ = 0;      // guarded by mu_
};

}  // namespace modelmux::resilience
