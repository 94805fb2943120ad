#pragma once
// The live state of the deployments behind one model alias, and the choice among them.
//
// - Outlier ejection as Envoy does it: after `consecutive_failures` failures in a row a
//   deployment is ejected for base_ejection x (times ejected), at most max_ejection, and never
//   more than max_ejection_percent of the set at once (at least one may always be ejected, as
//   long as one other stays in). It comes back by itself when its time is up; a success resets
//   its failure count. An ejected deployment gets no traffic while another is in rotation.
//   The multiplier decays as Envoy's does: each base_ejection spent back in rotation without a
//   new ejection lowers `times ejected` by one, so an old outage does not lengthen a new one.
// - Strategies: weighted random; least outstanding requests (ties by weight); latency-aware
//   (power of two choices over an EWMA of latency times outstanding requests); usage-aware (the
//   most provider-reported headroom, from x-ratelimit-remaining-* / -limit-* headers; a report
//   expires after its window's reset time, at most kHeadroomHorizon, and then counts as full).
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
  // An ejected deployment is skipped while any other is in rotation, even one in `tried`: then
  // the answer is nullopt, and the caller clears `tried` to go round the healthy ones again.
  [[nodiscard]] std::optional<size_t> Pick(Strategy strategy, const std::vector<size_t>& tried,
                                           double u1, double u2) const;

  void Begin(size_t i);  // an attempt starts (outstanding + 1)
  void OnSuccess(size_t i, std::chrono::milliseconds latency);
  // A failure that counts toward ejection (5xx, timeouts, resets). Failures of an ejected
  // deployment (tried because every one was ejected, or stragglers) count toward its next
  // ejection, which can start only once the current one is over.
  void OnFailure(size_t i);
  void End(size_t i);  // the attempt (or the body or stream it opened) ended (outstanding - 1)
  // Provider-reported headroom (0..1) from its rate-limit headers, for kUsage; it holds for
  // `valid_for` (the provider's reset time when known), at most kHeadroomHorizon, then the
  // deployment counts as having full headroom again until it reports anew.
  static constexpr std::chrono::milliseconds kHeadroomHorizon{60'000};
  void SetHeadroom(size_t i, double remaining_fraction,
                   std::chrono::milliseconds valid_for = kHeadroomHorizon);

  [[nodiscard]] bool Ejected(size_t i) const;
  // The ejection multiplier now (after decay): the next ejection lasts base x (this + 1).
  [[nodiscard]] int TimesEjected(size_t i) const;
  // Every ejection of deployment i since the set was built (never decreases; for counters).
  [[nodiscard]] int64_t EjectionsTotal(size_t i) const;
  [[nodiscard]] int64_t Outstanding(size_t i) const;
  [[nodiscard]] double Headroom(size_t i) const;  // 1 when unreported or expired
  [[nodiscard]] int64_t ejections_total() const;

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct State {
    int consecutive = 0;
    int times_ejected = 0;      // the multiplier, as of decay_from
    TimePoint ejected_until{};  // also where the healthy period (decay) starts
    TimePoint decay_from{};     // the start of the next base_ejection that would lower it
    int64_t ejections = 0;
    int64_t outstanding = 0;
    double ewma_ms = 0;  // 0 = no sample yet
    double headroom = 1;
    TimePoint headroom_until{};  // headroom holds until then
  };
  [[nodiscard]] bool EjectedLocked(size_t i, TimePoint now) const;
  [[nodiscard]] size_t EjectedCountLocked(TimePoint now) const;
  [[nodiscard]] int DecayedLocked(const State& s, TimePoint now) const;
  [[nodiscard]] static double HeadroomLocked(const State& s, TimePoint now);

  std::vector<uint32_t> weights_;
  OutlierOptions options_;
  Clock clock_;
  mutable std::mutex mu_;
  std::vector<State> states_;  // guarded by mu_
  int64_t ejections_ = 0;      // guarded by mu_
};

}  // namespace modelmux::resilience
