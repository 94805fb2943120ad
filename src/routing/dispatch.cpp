#include "routing/dispatch.hpp"

#include <charconv>

namespace modelmux::routing {
namespace {

// Failures that say something about the deployment's health (Envoy's consecutive 5xx plus
// locally originated failures); 429s and bad requests do not.
bool CountsTowardEjection(const Error& e) {
  switch (e.kind) {
    case ErrorKind::kUpstreamError:
    case ErrorKind::kUnavailable:
    case ErrorKind::kOverloaded:
    case ErrorKind::kTimeout:
      return true;
    default:
      return false;
  }
}

}  // namespace

Dispatcher::Dispatcher(std::shared_ptr<const Config> config, ProviderLookup lookup, Clock clock,
                       uint64_t seed)
    : config_(std::move(config)), lookup_(std::move(lookup)), clock_(std::move(clock)), rng_(seed) {
  for (const auto& alias : config_->models) {
    if (alias.deployments.size() < 2) continue;
    std::vector<uint32_t> weights;
    for (const auto& d : alias.deployments) weights.push_back(d.weight);
    sets_.emplace(alias.name, std::make_unique<resilience::DeploymentSet>(
                                  std::move(weights), config_->router.outlier, clock_));
  }
  for (const auto& alias : config_->models) {
    bool any = false;
    std::vector<std::unique_ptr<resilience::RateLimiter>> per;
    for (const auto& d : alias.deployments) {
      if (!d.rpm && !d.tpm) {
        per.emplace_back();
        continue;
      }
      resilience::RateLimits limits;
      limits.rpm = d.rpm.value_or(0);
      limits.tpm = d.tpm.value_or(0);
      limits.window = d.rate_window;
      limits.max_wait = config_->router.queue_timeout;
      per.push_back(std::make_unique<resilience::RateLimiter>(limits));
      any = true;
    }
    if (any) limiters_.emplace(alias.name, std::move(per));
  }
  for (const auto& p : config_->providers) {
    budgets_.emplace(p.name,
                     std::make_unique<resilience::RetryBudget>(config_->router.retry_budget));
  }
}

Result<Dispatcher::Stage> Dispatcher::StageFor(std::string_view model,
                                               const std::string& key) const {
  MM_TRY(ResolvedModel resolved, ResolveModel(*config_, model));
  Stage stage;
  stage.strategy = config_->router.strategy;
  for (const auto& alias : config_->models) {
    if (alias.name == resolved.alias) {
      stage.alias = &alias;
      if (alias.strategy) stage.strategy = *alias.strategy;
      break;
    }
  }
  for (const auto& d : resolved.deployments) {
    const upstream::Provider* p = lookup_(d.provider);
    if (p == nullptr) continue;  // a provider type this build does not speak
    stage.targets.push_back({p, d.model, d.provider + "/" + d.model, key});
  }
  if (stage.targets.empty()) {
    Error e;
    e.kind = ErrorKind::kNotFound;
    e.param = "model";
    e.code = "provider_not_supported";
    e.message = "The model '" + std::string(model) + "' resolves to provider '" +
                resolved.provider + "', whose dialect this build cannot call yet";
    return e;
  }
  // Ejection and rate state are kept per alias, and only when every deployment could be built.
  if (stage.alias && stage.targets.size() == resolved.deployments.size()) {
    auto it = sets_.find(stage.alias->name);
    if (it != sets_.end()) {
      stage.set = it->second.get();
      for (size_t i = 0; i < stage.targets.size(); ++i) {
        stage.targets[i].set = stage.set;
        stage.targets[i].index = i;
      }
    }
    auto lim = limiters_.find(stage.alias->name);
    if (lim != limiters_.end()) {
      for (const auto& l : lim->second) stage.limiters.push_back(l.get());
    }
  }
  return stage;
}

Result<std::vector<Target>> Dispatcher::Targets(std::string_view model) const {
  MM_TRY(Stage stage, StageFor(model, {}));
  return std::move(stage.targets);
}

bool Dispatcher::AllOpenAiWire(std::string_view model) const {
  // A pipeline (routing/pipeline_run.hpp) runs inside Router::Chat / OpenStream only.
  if (config_->FindPipeline(model) != nullptr) return false;
  auto stage = StageFor(model, {});
  if (!stage.ok()) return false;
  auto all_openai = [](const Stage& s) {
    for (const auto& t : s.targets) {
      if (t.provider->dialect() != upstream::WireDialect::kOpenAi) return false;
    }
    return true;
  };
  if (!all_openai(*stage)) return false;
  if (stage->alias == nullptr) return true;
  std::vector<std::string> more = stage->alias->fallbacks;
  for (const std::string* m :
       {&stage->alias->context_window_fallback, &stage->alias->content_policy_fallback}) {
    if (!m->empty()) more.push_back(*m);
  }
  for (const auto& m : more) {
    auto fb = StageFor(m, {});
    if (fb.ok() && !all_openai(*fb)) return false;
  }
  return true;
}

std::optional<size_t> Dispatcher::Pick(const Stage& stage, const std::vector<size_t>& tried) const {
  if (stage.set) return stage.set->Pick(stage.strategy, tried, Draw(), Draw());
  for (size_t i = 0; i < stage.targets.size(); ++i) {
    if (std::find(tried.begin(), tried.end(), i) == tried.end()) return i;
  }
  return std::nullopt;
}

void Dispatcher::Record(const Stage& stage, size_t index, const Target& target, const Error* error,
                        std::chrono::milliseconds latency) const {
  auto it = budgets_.find(target.provider->spec().name);
  resilience::RetryBudget* budget = it == budgets_.end() ? nullptr : it->second.get();
  if (error == nullptr) {
    if (stage.set) stage.set->OnSuccess(index, latency);
    if (budget) budget->OnSuccess();
    return;
  }
  if (stage.set && CountsTowardEjection(*error)) stage.set->OnFailure(index);
  if (budget && resilience::Retryable(*error, ShouldRetryHint(*error))) budget->OnFailure();
}

std::string Dispatcher::FallbackAfter(const ModelAlias* alias, const Error& error,
                                      size_t& next_fallback) {
  if (alias == nullptr) return {};
  if (error.kind == ErrorKind::kContextLength) return alias->context_window_fallback;
  if (error.kind == ErrorKind::kContentFilter) return alias->content_policy_fallback;
  if (!resilience::Retryable(error, ShouldRetryHint(error))) return {};
  if (next_fallback >= alias->fallbacks.size()) return {};
  return alias->fallbacks[next_fallback++];
}

std::optional<double> HeadroomFromHeaders(std::string_view remaining_requests,
                                          std::string_view limit_requests,
                                          std::string_view remaining_tokens,
                                          std::string_view limit_tokens) {
  auto fraction = [](std::string_view remaining, std::string_view limit) -> std::optional<double> {
    double r = 0, l = 0;
    auto [re, rec] = std::from_chars(remaining.data(), remaining.data() + remaining.size(), r);
    auto [le, lec] = std::from_chars(limit.data(), limit.data() + limit.size(), l);
    if (remaining.empty() || limit.empty() || rec != std::errc() || lec != std::errc() ||
        !(l > 0) || !(r >= 0)) {
      return std::nullopt;
    }
    return std::min(1.0, r / l);
  };
  auto req = fraction(remaining_requests, limit_requests);
  auto tok = fraction(remaining_tokens, limit_tokens);
  if (req && tok) return std::min(*req, *tok);
  return req ? req : tok;
}

Error LocallyLimited(const Target& target, std::chrono::milliseconds retry_after) {
  Error e;
  e.kind = ErrorKind::kRateLimited;
  e.code = "rate_limit_queue_full";
  e.message = "deployment " + target.label +
              " is at its configured request/token rate and its queue is full; retry later";
  e.retry_after = std::max(retry_after, std::chrono::milliseconds(1));
  return e;
}

void Dispatcher::Settle(const AttemptLog& log, int64_t actual_tokens) {
  if (log.limiter) log.limiter->Settle(log.reserved_tokens, actual_tokens);
}

double Dispatcher::Draw() const {
  std::lock_guard lock(rng_mu_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

const resilience::DeploymentSet* Dispatcher::SetFor(std::string_view alias) const {
  auto it = sets_.find(alias);
  return it == sets_.end() ? nullptr : it->second.get();
}

const resilience::RetryBudget* Dispatcher::BudgetFor(std::string_view provider) const {
  auto it = budgets_.find(provider);
  return it == budgets_.end() ? nullptr : it->second.get();
}

}  // namespace modelmux::routing
