#include "resilience/deployment_set.hpp"

#include <algorithm>
#include <cmath>

namespace modelmux::resilience {
namespace {

constexpr double kEwmaAlpha = 0.3;  // weight of the newest latency sample

}  // namespace

std::optional<Strategy> ParseStrategy(std::string_view name) {
  if (name == "weighted_random" || name == "simple-shuffle") return Strategy::kWeightedRandom;
  if (name == "least_outstanding" || name == "least-busy") return Strategy::kLeastOutstanding;
  if (name == "latency" || name == "latency-based-routing") return Strategy::kLatency;
  if (name == "usage" || name == "usage-based-routing") return Strategy::kUsage;
  return std::nullopt;
}

std::string_view StrategyName(Strategy s) {
  switch (s) {
    case Strategy::kWeightedRandom:
      return "weighted_random";
    case Strategy::kLeastOutstanding:
      return "least_outstanding";
    case Strategy::kLatency:
      return "latency";
    case Strategy::kUsage:
      return "usage";
  }
  return "weighted_random";
}

DeploymentSet::DeploymentSet(std::vector<uint32_t> weights, OutlierOptions options, Clock clock)
    : weights_(std::move(weights)),
      options_(options),
      clock_(std::move(clock)),
      states_(weights_.size()) {
  for (auto& w : weights_) w = std::max<uint32_t>(w, 1);
}

bool DeploymentSet::EjectedLocked(size_t i, TimePoint now) const {
  return states_[i].ejected_until > now;
}

size_t DeploymentSet::EjectedCountLocked(TimePoint now) const {
  size_t n = 0;
  for (size_t i = 0; i < states_.size(); ++i) n += EjectedLocked(i, now) ? 1 : 0;
  return n;
}

int DeploymentSet::DecayedLocked(const State& s, TimePoint now) const {
  if (s.times_ejected == 0 || now < s.decay_from || options_.base_ejection.count() <= 0) {
    return s.times_ejected;
  }
  const auto periods = (now - s.decay_from) / options_.base_ejection;
  return static_cast<int>(std::max<int64_t>(0, s.times_ejected - static_cast<int64_t>(periods)));
}

double DeploymentSet::HeadroomLocked(const State& s, TimePoint now) {
  return now < s.headroom_until ? s.headroom : 1.0;
}

std::optional<size_t> DeploymentSet::Pick(Strategy strategy, const std::vector<size_t>& tried,
                                          double u1, double u2) const {
  std::lock_guard lock(mu_);
  const auto now = clock_();
  std::vector<size_t> fresh, healthy;
  bool any_in_rotation = false;
  for (size_t i = 0; i < states_.size(); ++i) {
    const bool ejected = EjectedLocked(i, now);
    any_in_rotation = any_in_rotation || !ejected;
    if (std::find(tried.begin(), tried.end(), i) != tried.end()) continue;
    fresh.push_back(i);
    if (!ejected) healthy.push_back(i);
  }
  if (fresh.empty()) return std::nullopt;
  if (healthy.empty()) {
    // Another deployment is in rotation (already tried): go round those again, not here.
    if (any_in_rotation) return std::nullopt;
    // All ejected: the one whose ejection ends first.
    return *std::min_element(fresh.begin(), fresh.end(), [&](size_t a, size_t b) {
      return states_[a].ejected_until < states_[b].ejected_until;
    });
  }
  const std::vector<size_t>& c = healthy;
  auto weighted = [&](double u) {
    uint64_t total = 0;
    for (size_t i : c) total += weights_[i];
    double target = std::clamp(u, 0.0, 0.999999999) * static_cast<double>(total);
    for (size_t i : c) {
      target -= weights_[i];
      if (target < 0) return i;
    }
    return c.back();
  };
  switch (strategy) {
    case Strategy::kWeightedRandom:
      return weighted(u1);
    case Strategy::kLeastOutstanding: {
      // Fewest in flight per unit of weight; ties go to the weighted draw's order.
      size_t best = weighted(u1);
      for (size_t i : c) {
        const double load_i = static_cast<double>(states_[i].outstanding) / weights_[i];
        const double load_b = static_cast<double>(states_[best].outstanding) / weights_[best];
        if (load_i < load_b) best = i;
      }
      return best;
    }
    case Strategy::kLatency: {
      // Power of two choices: two weighted draws, the lower expected wait wins. A deployment
      // without samples yet is tried first so that it gets some.
      const size_t a = weighted(u1);
      const size_t b = weighted(u2);
      auto cost = [&](size_t i) {
        const auto& s = states_[i];
        if (s.ewma_ms <= 0) return -1.0;
        return s.ewma_ms * static_cast<double>(s.outstanding + 1);
      };
      return cost(b) < cost(a) ? b : a;
    }
    case Strategy::kUsage: {
      size_t best = weighted(u1);
      for (size_t i : c) {
        if (HeadroomLocked(states_[i], now) > HeadroomLocked(states_[best], now)) best = i;
      }
      return best;
    }
  }
  return weighted(u1);
}

void DeploymentSet::Begin(size_t i) {
  std::lock_guard lock(mu_);
  ++states_[i].outstanding;
}

void DeploymentSet::End(size_t i) {
  std::lock_guard lock(mu_);
  if (states_[i].outstanding > 0) --states_[i].outstanding;
}

void DeploymentSet::OnSuccess(size_t i, std::chrono::milliseconds latency) {
  std::lock_guard lock(mu_);
  auto& s = states_[i];
  s.consecutive = 0;
  const double ms = static_cast<double>(std::max<int64_t>(latency.count(), 1));
  s.ewma_ms = s.ewma_ms <= 0 ? ms : kEwmaAlpha * ms + (1 - kEwmaAlpha) * s.ewma_ms;
}

void DeploymentSet::OnFailure(size_t i) {
  std::lock_guard lock(mu_);
  const auto now = clock_();
  auto& s = states_[i];
  ++s.consecutive;
  if (EjectedLocked(i, now)) return;  // counts toward the next ejection
  if (s.consecutive < options_.consecutive_failures) return;
  // The cap on the ejected share: at least one may be ejected, and one must stay in.
  const size_t n = states_.size();
  const size_t cap = std::max<size_t>(
      1, static_cast<size_t>(std::floor(options_.max_ejection_percent / 100.0 * n)));
  const size_t ejected = EjectedCountLocked(now);
  if (ejected >= cap || ejected + 1 >= n) return;
  s.times_ejected = DecayedLocked(s, now) + 1;
  auto span = options_.base_ejection * s.times_ejected;
  if (span > options_.max_ejection) span = options_.max_ejection;
  s.ejected_until = now + span;
  s.decay_from = s.ejected_until;
  s.consecutive = 0;
  ++s.ejections;
  ++ejections_;
}

void DeploymentSet::SetHeadroom(size_t i, double remaining_fraction,
                                std::chrono::milliseconds valid_for) {
  if (valid_for.count() <= 0 || valid_for > kHeadroomHorizon) valid_for = kHeadroomHorizon;
  std::lock_guard lock(mu_);
  states_[i].headroom = std::clamp(remaining_fraction, 0.0, 1.0);
  states_[i].headroom_until = clock_() + valid_for;
}

bool DeploymentSet::Ejected(size_t i) const {
  std::lock_guard lock(mu_);
  return EjectedLocked(i, clock_());
}

int DeploymentSet::TimesEjected(size_t i) const {
  std::lock_guard lock(mu_);
  return DecayedLocked(states_[i], clock_());
}

int64_t DeploymentSet::EjectionsTotal(size_t i) const {
  std::lock_guard lock(mu_);
  return states_[i].ejections;
}

double DeploymentSet::Headroom(size_t i) const {
  std::lock_guard lock(mu_);
  return HeadroomLocked(states_[i], clock_());
}

int64_t DeploymentSet::Outstanding(size_t i) const {
  std::lock_guard lock(mu_);
  return states_[i].outstanding;
}

int64_t DeploymentSet::ejections_total() const {
  std::lock_guard lock(mu_);
  return ejections_;
}

}  // namespace modelmux::resilience
