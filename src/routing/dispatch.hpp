#pragma once
// The attempt loop every upstream call goes through: which deployment to try, whether and when to
// try again, and where to fall back. One straight line per call:
//
//   stage = the caller's model (an alias with its deployments, or one provider/model)
//   attempt: pick a deployment (strategy, skipping ejected and already-tried ones) -> call it
//   success -> done; a non-retryable error -> returned as it is (except the two special fallbacks)
//   a retryable error -> the next untried deployment at once, else wait (the server's hint, or
//     full-jitter backoff) and pick again, while retries are left, the retry budgets allow and
//     the deadline leaves at least min_attempt
//   a stage exhausted -> the alias's `fallbacks` in order; a context-length error -> its
//     context_window_fallback; a content-filter refusal -> its content_policy_fallback
//
// Every attempt after an upstream failure is a retry and needs the retry budgets: the same
// deployment after a wait, another deployment of the alias, and the first attempt of a fallback
// entered because of a retryable failure (context-length and content-policy fallbacks are not
// failures and are not gated). A retry needs both the stage's alias budget (one per alias, the
// "channel" of gRPC retry throttling: bounds a total outage of an alias whatever the number of
// providers behind it) and the budget of the provider it goes to (drained by that provider's
// failures from every alias, refilled by its successes). Every attempt's outcome feeds both.
//
// Health (outlier ejection, outstanding counts, latency EWMA) and retry budgets live here, shared
// by all event loops; a config reload builds a new Dispatcher. Attempts carry one idempotency key.

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "core/request_context.hpp"
#include "core/result.hpp"
#include "media/prepare.hpp"
#include "resilience/deployment_set.hpp"
#include "resilience/rate_limiter.hpp"
#include "resilience/retry_budget.hpp"
#include "resilience/retry_policy.hpp"
#include "resilience/shared_window.hpp"
#include "routing/config.hpp"
#include "routing/resolver.hpp"
#include "telemetry/trace.hpp"
#include "upstream/provider.hpp"

namespace modelmux::routing {

// The upstream's x-should-retry verdict carried by an error.
[[nodiscard]] inline std::optional<bool> ShouldRetryHint(const Error& e) {
  return e.should_retry;
}

// One deployment, as an attempt sees it.
// What a provider said of its rate limits in an answer (OpenAI-style x-ratelimit-* headers): the
// calls and tokens left in its current window and when each window resets.
struct ProviderLimits {
  std::optional<int64_t> remaining_requests, remaining_tokens;
  std::chrono::milliseconds reset_requests{0}, reset_tokens{0};
};

struct Target {
  const upstream::Provider* provider = nullptr;
  std::string model;            // the upstream model name
  std::string label;            // "provider/model", for x-modelmux-deployment and logs
  std::string idempotency_key;  // the same for every attempt of one call
  // The alias's live state and this deployment's index in it (null for a single target): the
  // attempt reports the provider's rate-limit headroom there (strategy `usage`).
  resilience::DeploymentSet* set = nullptr;
  size_t index = 0;
  // The retry budget of the target's provider (owned by the Dispatcher).
  resilience::RetryBudget* budget = nullptr;
  // Set by the attempt loop for each attempt: where the attempt adds the time it waits for the
  // upstream (UpstreamTimer; AttemptLog::upstream), and the W3C traceparent to send ("": none).
  std::chrono::nanoseconds* upstream_wait = nullptr;
  // Where the attempt writes what the provider said of its rate limits (AttemptLog).
  std::optional<ProviderLimits>* provider_limits = nullptr;
  std::string traceparent;
};

// Adds the time from its construction to Stop() (or its destruction) to the target's
// upstream_wait: wraps the part of an attempt that waits for the provider (send -> head, body).
class UpstreamTimer {
 public:
  explicit UpstreamTimer(const Target& target)
      : out_(target.upstream_wait), start_(std::chrono::steady_clock::now()) {}
  ~UpstreamTimer() { Stop(); }
  UpstreamTimer(const UpstreamTimer&) = delete;
  UpstreamTimer& operator=(const UpstreamTimer&) = delete;
  void Stop() {
    if (out_ != nullptr) *out_ += std::chrono::steady_clock::now() - start_;
    out_ = nullptr;
  }

 private:
  std::chrono::nanoseconds* out_;
  std::chrono::steady_clock::time_point start_;
};

// Adds the target's traceparent (if any) to an upstream call's headers.
void AddTraceparent(const Target& target, net::Headers& headers);

// The headroom (0..1) a provider reports in its OpenAI-style rate-limit headers: the smaller of
// x-ratelimit-remaining-requests / x-ratelimit-limit-requests and the same for tokens; nullopt
// when it reports neither.
// x-ratelimit-remaining-{requests,tokens} and x-ratelimit-reset-{requests,tokens} ("6m0s",
// "1.5s", "20ms", or plain seconds); nullopt when neither remaining count is there.
[[nodiscard]] std::optional<ProviderLimits> ProviderLimitsFrom(std::string_view remaining_requests,
                                                               std::string_view reset_requests,
                                                               std::string_view remaining_tokens,
                                                               std::string_view reset_tokens);
// A Go duration as OpenAI sends it ("6m0s", "1.5s", "20ms", "1h2m") or plain seconds ("2") ->
// milliseconds; nullopt when malformed.
[[nodiscard]] std::optional<std::chrono::milliseconds> ParseResetDuration(std::string_view text);

[[nodiscard]] std::optional<double> HeadroomFromHeaders(std::string_view remaining_requests,
                                                        std::string_view limit_requests,
                                                        std::string_view remaining_tokens,
                                                        std::string_view limit_tokens);

// The answering deployment of an alias held as outstanding while its body or stream flows
// (least_outstanding and latency count it). Released, it ends the attempt's load and records
// the answer's outcome for outlier ejection: a success (with the latency to the answer's head)
// unless Fail() was called. It keeps the alias's DeploymentSet alive, so it may outlive the
// Router (a config reload mid-stream).
class OutstandingHold {
 public:
  OutstandingHold(std::shared_ptr<resilience::DeploymentSet> set, size_t index,
                  std::chrono::milliseconds latency);
  ~OutstandingHold();
  OutstandingHold(const OutstandingHold&) = delete;
  OutstandingHold& operator=(const OutstandingHold&) = delete;
  // The answer failed after the attempt loop returned it (a stream cut or an in-band error
  // mid-way, a body that stopped): a failure toward the deployment's ejection, not a success.
  void Fail();

 private:
  std::shared_ptr<resilience::DeploymentSet> set_;
  size_t index_;
  std::chrono::milliseconds latency_;
  std::atomic<bool> failed_{false};
};

// What happened on the way, for response headers, logs and metrics.
struct AttemptLog {
  int attempts = 0;
  std::string deployment;               // the label of the last attempt
  std::vector<std::string> fallbacks;   // fallback models used, in order
  std::chrono::milliseconds waited{0};  // total backoff
  std::chrono::milliseconds queued{0};  // total wait in client-side rate-limit queues
  // What a pipeline (routing/pipeline_run.hpp) did that the caller may want to know, e.g.
  // "judge_verdict_unusable" when a fan-out judge's reply named no candidate.
  std::vector<std::string> notes;
  // The rate limiter that admitted the last attempt and the tokens it reserved (for Settle).
  resilience::RateLimiter* limiter = nullptr;
  int64_t reserved_tokens = 0;
  // Or, with router.shared_limits, the shared window and its ticket (settled on `executor`).
  std::shared_ptr<resilience::SharedWindow> shared_window;
  std::optional<resilience::SharedWindow::Ticket> shared_ticket;
  std::optional<boost::asio::any_io_executor> shared_executor;
  // What the media stage did to the request for the provider that answered (or last tried).
  std::optional<media::MediaReport> media;
  // The response cache's verdict for this request: "hit", "miss", "bypass", or "" when the
  // process has no cache (x-modelmux-cache).
  std::string cache;
  // The text stage (routing/text_stage.hpp): "8000->4096" when max_tokens was clamped, the
  // tokens of the domain context added, and the sentences split_sentences produced.
  std::string max_tokens_clamp;
  int64_t context_tokens = 0;
  int sentences = 0;
  // Time spent waiting for upstreams over every attempt: from sending the call to its answer
  // (non-streamed) or its first piece (streamed). The gateway's overhead metric excludes it.
  std::chrono::nanoseconds upstream{0};
  // What the provider of the last answer said of its rate limits (the batch runner paces by it).
  std::optional<ProviderLimits> provider_limits;
  // The answering deployment's outstanding count, held while its body or stream flows: released
  // (reset, or the log destroyed) when the caller is done with the answer. Null unless the
  // answer came from an alias with two or more deployments.
  std::shared_ptr<OutstandingHold> outstanding;
  // A failure of the answer after it was returned (see OutstandingHold::Fail).
  void FailedAfterAnswer() const {
    if (outstanding) outstanding->Fail();
  }
  // Tracing, set by the caller: the trace to continue (invalid: none) and whether to record
  // attempt spans (false: the caller's traceparent is forwarded as it is).
  telemetry::TraceContext trace;
  bool record_spans = false;
  std::vector<telemetry::Span> spans;  // one CLIENT span per attempt, when record_spans
};

class Dispatcher {
 public:
  using ProviderLookup = std::function<const upstream::Provider*(std::string_view)>;
  using Clock = resilience::DeploymentSet::Clock;

  Dispatcher(std::shared_ptr<const Config> config, ProviderLookup lookup,
             Clock clock = std::chrono::steady_clock::now, uint64_t seed = std::random_device{}());
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // The deployments a model resolves to, and whether every one of them (and of its fallbacks)
  // speaks the OpenAI wire (the gateway's pass-through fast path needs that). Errors as
  // ResolveModel's, or provider_not_supported.
  [[nodiscard]] Result<std::vector<Target>> Targets(std::string_view model) const;
  [[nodiscard]] bool AllOpenAiWire(std::string_view model) const;

  // Runs `attempt` (callable: const Target& -> awaitable<Result<T>>) under the loop above.
  // `attempt` must return errors with upstream_status and retry_after filled when it has them.
  // `tokens`: the request's estimated cost (prompt estimate + max_tokens), reserved in the
  // deployment's token window when it has one.
  template <class T, class Attempt>
  boost::asio::awaitable<Result<T>> Run(std::string model, RequestContext ctx, int64_t tokens,
                                        AttemptLog& log, Attempt attempt) const;
  // Settles the reservation of the call `log` describes to the tokens actually used.
  static void Settle(const AttemptLog& log, int64_t actual_tokens);
  // router.shared_limits: deployments' rpm/tpm windows in `redis` (resilience/shared_window.hpp)
  // instead of this process's; called once, before the first Run. Null redis: nothing changes.
  void ShareLimits(std::shared_ptr<store::RedisClient> redis);

  [[nodiscard]] const resilience::DeploymentSet* SetFor(std::string_view alias) const;
  // The retry budget of a provider, and of a model alias (null when there is none).
  [[nodiscard]] const resilience::RetryBudget* BudgetFor(std::string_view provider) const;
  [[nodiscard]] const resilience::RetryBudget* AliasBudgetFor(std::string_view alias) const;
  // Decisions the shared rate windows (router.shared_limits) took locally because Redis failed.
  [[nodiscard]] uint64_t SharedWindowLocalFallbacks() const;

 private:
  struct Stage {
    std::vector<Target> targets;
    resilience::DeploymentSet* set = nullptr;  // null for a single provider/model
    const std::shared_ptr<resilience::DeploymentSet>* set_owner = nullptr;  // sets_'s, for tokens
    resilience::RetryBudget* budget = nullptr;       // the alias's; null unless an alias
    std::vector<resilience::RateLimiter*> limiters;  // per target; empty when none is limited
    std::vector<std::shared_ptr<resilience::SharedWindow>> shared;  // instead of limiters
    resilience::Strategy strategy = resilience::Strategy::kWeightedRandom;
    const ModelAlias* alias = nullptr;  // null unless the model is an alias
  };
  [[nodiscard]] Result<Stage> StageFor(std::string_view model, const std::string& key) const;
  [[nodiscard]] std::optional<size_t> Pick(const Stage& stage,
                                           const std::vector<size_t>& tried) const;
  // Whether a retry on stage.targets[index] may start: both the alias's and the provider's
  // budget allow it (a refusal is counted in the budget that refused).
  [[nodiscard]] static bool AllowRetry(const Stage& stage, size_t index);
  // Outcome bookkeeping for one attempt.
  void Record(const Stage& stage, size_t index, const Target& target, const Error* error) const;
  // The model to fall back to after `error` ended `stage`, or "" (and `next_fallback` advanced).
  [[nodiscard]] static std::string FallbackAfter(const ModelAlias* chain, const Error& error,
                                                 size_t& next_fallback);
  [[nodiscard]] double Draw() const;
  // The attempt's span (when log.record_spans) and the traceparent it sends.
  static void BeginAttemptSpan(AttemptLog& log, Target& target, int retry, int stage_no);
  static void EndAttemptSpan(AttemptLog& log, const Error* error);
  // Reserves in a shared window and waits out its queue: nullopt when admitted, else the error
  // (LocallyLimited, or kCancelled while queued).
  static boost::asio::awaitable<std::optional<Error>> QueueShared(
      std::shared_ptr<resilience::SharedWindow> window, const Target& target, int64_t tokens,
      std::chrono::milliseconds left, std::chrono::milliseconds min_attempt, AttemptLog& log);

  std::shared_ptr<const Config> config_;
  ProviderLookup lookup_;
  Clock clock_;
  std::map<std::string, std::shared_ptr<resilience::DeploymentSet>, std::less<>> sets_;
  std::map<std::string, std::unique_ptr<resilience::RetryBudget>, std::less<>> budgets_;
  std::vector<std::unique_ptr<resilience::RetryBudget>> alias_budgets_;  // per config_->models
  std::map<std::string, std::vector<std::unique_ptr<resilience::RateLimiter>>, std::less<>>
      limiters_;  // per alias, per deployment (null when that deployment has no limits)
  std::map<std::string, std::vector<std::shared_ptr<resilience::SharedWindow>>, std::less<>>
      shared_;  // as limiters_, when the windows are shared (ShareLimits)
  mutable std::mutex rng_mu_;
  mutable std::mt19937_64 rng_;  // guarded by rng_mu_
};

// ---- template implementation -------------------------------------------------------------------

// The error of a deployment whose own client-side limits refuse the call.
[[nodiscard]] Error LocallyLimited(const Target& target, std::chrono::milliseconds retry_after);

template <class T, class Attempt>
boost::asio::awaitable<Result<T>> Dispatcher::Run(std::string model, RequestContext ctx,
                                                  int64_t tokens, AttemptLog& log,
                                                  Attempt attempt) const {
  const resilience::RetryPolicy& policy = config_->router.retry;
  const std::string key = "mm-" + ctx.request_id;
  std::optional<Error> last;
  bool last_from_upstream = false;  // `last` is an upstream attempt's error, not a local refusal
  size_t next_fallback = 0;
  const ModelAlias* first_alias = nullptr;
  for (int stage_no = 0; stage_no < 8; ++stage_no) {
    auto stage_r = StageFor(model, key);
    if (!stage_r.ok()) {
      if (!last) co_return std::move(stage_r).error();
      break;  // a fallback that cannot be resolved now: report the error that led to it
    }
    Stage stage = std::move(stage_r).value();
    for (auto& t : stage.targets) {
      t.upstream_wait = &log.upstream;
      t.provider_limits = &log.provider_limits;
    }
    if (stage_no == 0) first_alias = stage.alias;  // the fallback chain is the first alias's
    // A fallback entered because an upstream attempt failed is a retry: it needs the budgets.
    bool gate_first = last && last_from_upstream && last->kind != ErrorKind::kContextLength &&
                      last->kind != ErrorKind::kContentFilter;
    std::vector<size_t> tried;
    std::optional<size_t> chosen;  // the retry's deployment, picked (and gated) after a failure
    int retries = 0;
    for (;;) {
      const auto now = std::chrono::steady_clock::now();
      if (log.attempts > 0 && last && ctx.Remaining(now) < policy.min_attempt) {
        co_return std::move(*last);
      }
      std::optional<size_t> index = chosen;
      chosen.reset();
      if (!index) index = Pick(stage, tried);
      if (!index) {
        tried.clear();  // every deployment tried once (local refusals): start over
        index = Pick(stage, tried);
      }
      if (gate_first) {
        gate_first = false;
        if (!AllowRetry(stage, *index)) {
          if (!log.fallbacks.empty()) log.fallbacks.pop_back();  // skipped, not used
          break;
        }
      }
      const Target& target = stage.targets[*index];
      if (!stage.shared.empty() && stage.shared[*index]) {
        std::optional<Error> refused = co_await QueueShared(
            stage.shared[*index], target, tokens, ctx.Remaining(std::chrono::steady_clock::now()),
            policy.min_attempt, log);
        if (refused) {
          if (refused->kind == ErrorKind::kCancelled) co_return std::move(*refused);
          last = std::move(*refused);
          last_from_upstream = false;
          tried.push_back(*index);
          if (Pick(stage, tried)) continue;
          break;
        }
      }
      if (resilience::RateLimiter* limiter =
              stage.limiters.empty() ? nullptr : stage.limiters[*index]) {
        auto ticket = limiter->Reserve(tokens, std::chrono::steady_clock::now());
        const auto left = ctx.Remaining(std::chrono::steady_clock::now());
        if (ticket.admitted && left != std::chrono::milliseconds::max() &&
            ticket.wait + policy.min_attempt > left) {
          limiter->Release(tokens);  // the queue is longer than the call's deadline
          ticket.admitted = false;
          ticket.retry_after = ticket.wait;
        }
        if (!ticket.admitted) {
          // Load shedding: another deployment if one is free, else a fast 429 (or fallback).
          last = LocallyLimited(target, ticket.retry_after);
          last_from_upstream = false;
          tried.push_back(*index);
          if (Pick(stage, tried)) continue;
          break;
        }
        if (ticket.wait.count() > 0) {
          boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, ticket.wait);
          auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
          if (ec) {
            limiter->Release(tokens);
            co_return Error{ErrorKind::kCancelled, "cancelled while queued"};
          }
          log.queued += ticket.wait;
        }
        log.limiter = limiter;
        log.reserved_tokens = tokens;
      }
      log.attempts++;
      log.deployment = target.label;
      if (log.trace.valid()) BeginAttemptSpan(log, stage.targets[*index], retries, stage_no);
      if (stage.set) stage.set->Begin(*index);
      const auto started = std::chrono::steady_clock::now();
      Result<T> r = co_await attempt(target);
      const auto latency = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - started);
      if (r.ok()) {
        // The answer's body or stream may still flow: the deployment stays outstanding until
        // the caller releases log.outstanding.
        if (stage.set_owner) {
          log.outstanding = std::make_shared<OutstandingHold>(*stage.set_owner, *index, latency);
        }
        if (log.record_spans) EndAttemptSpan(log, nullptr);
        Record(stage, *index, target, nullptr);
        co_return r;
      }
      if (stage.set) stage.set->End(*index);
      Error e = std::move(r).error();
      if (log.record_spans) EndAttemptSpan(log, &e);
      Record(stage, *index, target, &e);
      if (e.kind == ErrorKind::kCancelled) co_return e;
      tried.push_back(*index);
      const bool retryable = resilience::Retryable(e, ShouldRetryHint(e));
      last = std::move(e);
      last_from_upstream = true;
      if (!retryable || retries >= policy.max_retries) break;
      // Another deployment at once, or (every one tried) the same ones again after a wait;
      // either way only while the budgets allow.
      std::optional<size_t> next = Pick(stage, tried);
      const bool again = !next;
      if (again) {
        tried.clear();
        next = Pick(stage, tried);
      }
      if (!next || !AllowRetry(stage, *next)) break;
      ++retries;
      if (again) {
        auto wait = resilience::BackoffDelay(policy, retries, Draw(), last->retry_after);
        const auto left = ctx.Remaining(std::chrono::steady_clock::now());
        if (left != std::chrono::milliseconds::max() && wait + policy.min_attempt > left) {
          co_return std::move(*last);  // no time for another attempt after the wait
        }
        if (wait.count() > 0) {
          boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, wait);
          auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
          if (ec) co_return std::move(*last);
          log.waited += wait;
        }
      }
      chosen = next;
    }
    if (!last) break;
    std::string next = FallbackAfter(first_alias, *last, next_fallback);
    if (next.empty()) break;
    log.fallbacks.push_back(next);
    model = std::move(next);
  }
  if (last) co_return std::move(*last);
  co_return Internal("dispatch ended without an attempt");
}

}  // namespace modelmux::routing
