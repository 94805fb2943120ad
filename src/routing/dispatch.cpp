#include "routing/dispatch.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <cctype>
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
    sets_.emplace(alias.name, std::make_shared<resilience::DeploymentSet>(
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
  alias_budgets_.reserve(config_->models.size());
  for (size_t i = 0; i < config_->models.size(); ++i) {
    alias_budgets_.push_back(
        std::make_unique<resilience::RetryBudget>(config_->router.retry_budget));
  }
}

Result<Dispatcher::Stage> Dispatcher::StageFor(std::string_view model,
                                               const std::string& key) const {
  MM_TRY(ResolvedModel resolved, ResolveModel(*config_, model));
  Stage stage;
  stage.strategy = config_->router.strategy;
  for (size_t i = 0; i < config_->models.size(); ++i) {
    const auto& alias = config_->models[i];
    if (alias.name == resolved.alias) {
      stage.alias = &alias;
      stage.budget = alias_budgets_[i].get();
      if (alias.strategy) stage.strategy = *alias.strategy;
      break;
    }
  }
  for (const auto& d : resolved.deployments) {
    const upstream::Provider* p = lookup_(d.provider);
    if (p == nullptr) continue;  // a provider type this build does not speak
    stage.targets.push_back({p, d.model, d.provider + "/" + d.model, key});
    auto b = budgets_.find(d.provider);
    if (b != budgets_.end()) stage.targets.back().budget = b->second.get();
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
      stage.set_owner = &it->second;
      for (size_t i = 0; i < stage.targets.size(); ++i) {
        stage.targets[i].set = stage.set;
        stage.targets[i].index = i;
      }
    }
    auto lim = limiters_.find(stage.alias->name);
    if (lim != limiters_.end()) {
      for (const auto& l : lim->second) stage.limiters.push_back(l.get());
    }
    auto sh = shared_.find(stage.alias->name);
    if (sh != shared_.end()) {
      stage.shared = sh->second;
      stage.limiters.clear();
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

bool Dispatcher::AllowRetry(const Stage& stage, size_t index) {
  resilience::RetryBudget* provider = stage.targets[index].budget;
  const bool alias_ok = stage.budget == nullptr || stage.budget->AllowRetry();
  const bool provider_ok = provider == nullptr || provider->AllowRetry();
  if (!alias_ok) stage.budget->NoteThrottled();
  if (!provider_ok) provider->NoteThrottled();
  return alias_ok && provider_ok;
}

void Dispatcher::Record(const Stage& stage, size_t index, const Target& target,
                        const Error* error) const {
  if (error == nullptr) {
    // The set hears of a success when the answer is released (OutstandingHold): a stream that
    // fails mid-way is a failure, not a success.
    if (target.budget) target.budget->OnSuccess();
    if (stage.budget) stage.budget->OnSuccess();
    return;
  }
  if (stage.set && CountsTowardEjection(*error)) stage.set->OnFailure(index);
  if (resilience::Retryable(*error, ShouldRetryHint(*error))) {
    if (target.budget) target.budget->OnFailure();
    if (stage.budget) stage.budget->OnFailure();
  }
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

std::optional<std::chrono::milliseconds> ParseResetDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double total_ms = 0;
  size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.')) {
      ++j;
    }
    if (j == i) return std::nullopt;
    double value = 0;
    auto [end, ec] = std::from_chars(text.data() + i, text.data() + j, value);
    if (ec != std::errc() || end != text.data() + j) return std::nullopt;
    size_t k = j;
    while (k < text.size() && std::isalpha(static_cast<unsigned char>(text[k]))) ++k;
    const std::string_view unit = text.substr(j, k - j);
    double scale = 0;
    if (unit.empty() || unit == "s") {
      scale = 1000;
    } else if (unit == "ms") {
      scale = 1;
    } else if (unit == "us") {
      scale = 0.001;
    } else if (unit == "ns") {
      scale = 0.000001;
    } else if (unit == "m") {
      scale = 60'000;
    } else if (unit == "h") {
      scale = 3'600'000;
    } else {
      return std::nullopt;
    }
    if (unit.empty() && (i != 0 || k != text.size())) return std::nullopt;  // plain seconds only
    total_ms += value * scale;
    any = true;
    i = k;
  }
  if (!any || total_ms < 0 || total_ms > 86'400'000.0 * 366) return std::nullopt;
  return std::chrono::milliseconds(static_cast<int64_t>(total_ms + 0.5));
}

std::optional<ProviderLimits> ProviderLimitsFrom(std::string_view remaining_requests,
                                                 std::string_view reset_requests,
                                                 std::string_view remaining_tokens,
                                                 std::string_view reset_tokens) {
  auto count = [](std::string_view s) -> std::optional<int64_t> {
    int64_t n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || n < 0) return std::nullopt;
    return n;
  };
  ProviderLimits l;
  l.remaining_requests = count(remaining_requests);
  l.remaining_tokens = count(remaining_tokens);
  if (!l.remaining_requests && !l.remaining_tokens) return std::nullopt;
  l.reset_requests = ParseResetDuration(reset_requests).value_or(std::chrono::milliseconds(0));
  l.reset_tokens = ParseResetDuration(reset_tokens).value_or(std::chrono::milliseconds(0));
  return l;
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

OutstandingHold::OutstandingHold(std::shared_ptr<resilience::DeploymentSet> set, size_t index,
                                 std::chrono::milliseconds latency)
    : set_(std::move(set)), index_(index), latency_(latency) {}

OutstandingHold::~OutstandingHold() {
  if (!failed_.load()) set_->OnSuccess(index_, latency_);
  set_->End(index_);
}

void OutstandingHold::Fail() {
  if (!failed_.exchange(true)) set_->OnFailure(index_);
}

void AddTraceparent(const Target& target, net::Headers& headers) {
  if (!target.traceparent.empty()) headers.Set("traceparent", target.traceparent);
}

namespace {
int64_t UnixNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

void Dispatcher::BeginAttemptSpan(AttemptLog& log, Target& target, int retry, int stage_no) {
  if (!log.record_spans) {
    // Not recording: the caller's context goes upstream as it came.
    target.traceparent = telemetry::FormatTraceparent(log.trace);
    return;
  }
  telemetry::Span span;
  span.trace_id = log.trace.trace_id;
  span.span_id = telemetry::NewSpanId();
  span.parent_span_id = log.trace.span_id;
  span.kind = telemetry::SpanKind::kClient;
  span.name = "attempt " + target.label;
  span.start_unix_ns = UnixNanos();
  span.Set("modelmux.provider", target.provider->spec().name);
  span.Set("modelmux.provider_type", target.provider->spec().type);
  span.Set("modelmux.deployment", target.label);
  span.Set("gen_ai.request.model", target.model);
  span.Set("modelmux.attempt", log.attempts);
  span.Set("modelmux.retry", retry);
  span.Set("modelmux.fallback", stage_no > 0);
  target.traceparent = telemetry::FormatTraceparent({span.trace_id, span.span_id, true});
  log.spans.push_back(std::move(span));
}

void Dispatcher::EndAttemptSpan(AttemptLog& log, const Error* error) {
  if (log.spans.empty()) return;
  telemetry::Span& span = log.spans.back();
  span.end_unix_ns = UnixNanos();
  if (error == nullptr) {
    span.Set("http.response.status_code", 200);
    return;
  }
  if (error->upstream_status != 0) span.Set("http.response.status_code", error->upstream_status);
  span.Set("error.type", std::string(ErrorKindName(error->kind)));
  span.error = true;
  span.status_message = std::string(ErrorKindName(error->kind));
}

namespace {
boost::asio::awaitable<void> SettleShared(std::shared_ptr<resilience::SharedWindow> window,
                                          resilience::SharedWindow::Ticket ticket,
                                          int64_t actual_tokens) {
  co_await window->Settle(std::move(ticket), actual_tokens);
}
}  // namespace

void Dispatcher::Settle(const AttemptLog& log, int64_t actual_tokens) {
  if (log.limiter) log.limiter->Settle(log.reserved_tokens, actual_tokens);
  if (log.shared_window && log.shared_ticket && log.shared_executor) {
    boost::asio::co_spawn(*log.shared_executor,
                          SettleShared(log.shared_window, *log.shared_ticket, actual_tokens),
                          boost::asio::detached);
  }
}

void Dispatcher::ShareLimits(std::shared_ptr<store::RedisClient> redis) {
  if (!redis) return;
  for (const auto& alias : config_->models) {
    if (limiters_.find(alias.name) == limiters_.end()) continue;
    std::vector<std::shared_ptr<resilience::SharedWindow>> per;
    for (const auto& d : alias.deployments) {
      if (!d.rpm && !d.tpm) {
        per.emplace_back();
        continue;
      }
      resilience::SharedWindowOptions o;
      o.mode = resilience::SharedWindowOptions::Mode::kPaced;
      o.scope = "dep";
      o.id = alias.name + "/" + d.provider + "/" + d.model;
      o.limits.rpm = d.rpm.value_or(0);
      o.limits.tpm = d.tpm.value_or(0);
      o.limits.window = d.rate_window;
      o.limits.max_wait = config_->router.queue_timeout;
      per.push_back(resilience::SharedWindow::Create(redis, std::move(o)));
    }
    shared_.emplace(alias.name, std::move(per));
  }
}

boost::asio::awaitable<std::optional<Error>> Dispatcher::QueueShared(
    std::shared_ptr<resilience::SharedWindow> window, const Target& target, int64_t tokens,
    std::chrono::milliseconds left, std::chrono::milliseconds min_attempt, AttemptLog& log) {
  auto ticket = co_await window->Reserve(tokens);
  if (ticket.admitted && left != std::chrono::milliseconds::max() &&
      ticket.wait + min_attempt > left) {
    co_await window->Release(ticket);  // the queue is longer than the call's deadline
    ticket.admitted = false;
    ticket.retry_after = ticket.wait;
  }
  if (!ticket.admitted) co_return LocallyLimited(target, ticket.retry_after);
  if (ticket.wait.count() > 0) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, ticket.wait);
    auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec) {
      co_await window->Release(ticket);
      co_return Error{ErrorKind::kCancelled, "cancelled while queued"};
    }
    log.queued += ticket.wait;
  }
  log.limiter = nullptr;
  log.reserved_tokens = tokens;
  log.shared_executor = co_await boost::asio::this_coro::executor;
  log.shared_window = std::move(window);
  log.shared_ticket = std::move(ticket);
  co_return std::nullopt;
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

const resilience::RetryBudget* Dispatcher::AliasBudgetFor(std::string_view alias) const {
  for (size_t i = 0; i < config_->models.size(); ++i) {
    if (config_->models[i].name == alias) return alias_budgets_[i].get();
  }
  return nullptr;
}

uint64_t Dispatcher::SharedWindowLocalFallbacks() const {
  uint64_t n = 0;
  for (const auto& [alias, windows] : shared_) {
    for (const auto& w : windows) {
      if (w) n += w->stats().local_fallbacks;
    }
  }
  return n;
}

}  // namespace modelmux::routing
