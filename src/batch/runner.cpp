#include "batch/runner.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>

#include "routing/dispatch.hpp"
#include "telemetry/price_table.hpp"

namespace modelmux::batch {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

const telemetry::ModelPrice* PriceForDeployment(const routing::Router& router,
                                                const telemetry::PriceTable& table,
                                                const std::string& deployment) {
  const auto slash = deployment.find('/');
  if (slash == std::string::npos) return nullptr;
  const auto* provider = router.FindProvider(std::string_view(deployment).substr(0, slash));
  if (provider == nullptr) return nullptr;
  return table.Find(provider->spec().name, provider->spec().type,
                    std::string_view(deployment).substr(slash + 1));
}

namespace {

// Rounds a line waits for its key's rate window (LineGate) before it fails as rate limited.
constexpr int kGateWaits = 100'000;
// Added to a provider's announced reset before new calls go out (FollowProviderLimits).
constexpr milliseconds kResetMargin{50};

resilience::RateLimits LimitsOf(const RunOptions& o) {
  resilience::RateLimits l;
  l.rpm = o.rpm;
  l.tpm = o.tpm;
  l.window = o.window;
  l.max_wait = std::chrono::hours(24 * 365);  // a batch waits its turn, it is never shed
  return l;
}

std::string Hex24(std::mt19937_64& random) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(24, '0');
  uint64_t a = random(), b = random();
  for (size_t i = 0; i < 24; ++i) {
    uint64_t& w = i < 12 ? a : b;
    s[i] = kDigits[w & 15];
    w >>= 4;
  }
  return s;
}

}  // namespace

Runner::Runner(std::shared_ptr<const routing::Router> router, RunOptions options,
               ItemSource& source, ResultSink& sink, Progress initial, ProgressFn on_progress)
    : router_(std::move(router)),
      options_(std::move(options)),
      source_(source),
      sink_(sink),
      on_progress_(std::move(on_progress)),
      // The price table active when the run starts, kept for the whole run (a reload installs a
      // new one; the entries found here must outlive the run).
      builder_([r = router_, t = telemetry::PriceTable::Active()](const std::string& d) {
        return PriceForDeployment(*r, *t, d);
      }),
      limiter_(LimitsOf(options_)) {
  builder_.progress() = initial;
  if (options_.concurrency == 0) options_.concurrency = 1;
  if (options_.flush_every == 0) options_.flush_every = 1;
}

asio::awaitable<Result<Report>> Runner::Run() {
  auto ex = co_await asio::this_coro::executor;
  start_ = last_flush_ = Clock::now();
  done_timer_ = std::make_unique<asio::steady_timer>(ex, Clock::time_point::max());
  const uint64_t to_run = builder_.progress().to_run();
  const size_t workers =
      static_cast<size_t>(std::min<uint64_t>(options_.concurrency, std::max<uint64_t>(to_run, 1)));
  ticker_timer_ = std::make_unique<asio::steady_timer>(ex);
  active_workers_ = workers + 1;  // the workers and the ticker
  for (size_t i = 0; i < workers; ++i) {
    asio::co_spawn(ex, Worker(), [this](const std::exception_ptr&) { TaskDone(); });
  }
  asio::co_spawn(ex, Ticker(), [this](const std::exception_ptr&) { TaskDone(); });
  // The workers use this frame's members: wait for every one of them, even when this coroutine
  // is cancelled (that cancels the batch instead).
  co_await asio::this_coro::throw_if_cancelled(false);
  while (active_workers_ > 0) {
    co_await done_timer_->async_wait(asio::as_tuple(asio::use_awaitable));
    if (active_workers_ > 0) {
      cancelled_ = true;
      co_await asio::this_coro::reset_cancellation_state();
    }
  }
  finished_ = true;
  FlushNow();
  Tick(true);
  if (sink_error_) co_return *sink_error_;
  Report report = builder_.Finish();
  report.cancelled = cancelled_.load();
  co_return report;
}

void Runner::TaskDone() {
  --active_workers_;
  if (active_workers_ == 1) ticker_timer_->cancel();  // only the ticker is left: wake it
  if (active_workers_ == 0) done_timer_->cancel();
}

void Runner::FlushNow() {
  last_flush_ = Clock::now();
  if (sink_.Pending() == 0 || sink_error_) return;
  if (auto st = sink_.Flush(); !st.ok()) {
    sink_error_ = st.error();
    cancelled_ = true;
  }
}

void Runner::Tick(bool final) {
  auto& p = builder_.progress();
  p.elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start_);
  (void) final;
  if (on_progress_) on_progress_(p);
}

asio::awaitable<void> Runner::Ticker() {
  asio::steady_timer& timer = *ticker_timer_;
  const milliseconds step = std::min(options_.flush_interval, options_.progress_interval);
  auto next_progress = Clock::now() + options_.progress_interval;
  // Runs until the workers are done (they wake it then), so that Run() outlives it.
  while (active_workers_ > 1) {
    timer.expires_after(std::max(step, milliseconds(10)));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (active_workers_ <= 1) break;
    const auto now = Clock::now();
    if (now - last_flush_ >= options_.flush_interval) FlushNow();
    if (now >= next_progress) {
      next_progress = now + options_.progress_interval;
      Tick(false);
    }
  }
}

void Runner::Record(const Outcome& outcome) {
  builder_.Add(outcome);
  sink_.Put(outcome);
  if (sink_.Pending() >= options_.flush_every) FlushNow();
}

asio::awaitable<void> Runner::Worker() {
  while (!cancelled_) {
    auto next = source_.Next();
    if (!next) break;
    if (!next->ok()) {
      Outcome o;
      o.error = next->error();
      Record(o);
      continue;
    }
    ++builder_.progress().in_flight;
    Outcome o = co_await Execute(std::move(*next).value());
    --builder_.progress().in_flight;
    Record(o);
  }
}

void Runner::FollowProviderLimits(const routing::ProviderLimits& limits, int64_t reserve,
                                  Clock::time_point now) {
  // The calls still out (this one is done) will use what the provider has left.
  const auto others = static_cast<int64_t>(builder_.progress().in_flight) - 1;
  auto pause = [&](milliseconds reset) {
    if (reset.count() <= 0) reset = options_.default_pause;
    // Providers round their reset times ("1s"): a little more, so the new window has begun.
    const auto until = now + reset + kResetMargin;
    if (until > pause_until_) {
      pause_until_ = until;
      ++builder_.progress().provider_pauses;
    }
  };
  if (limits.remaining_requests && *limits.remaining_requests <= others) {
    pause(limits.reset_requests);
  }
  if (limits.remaining_tokens && *limits.remaining_tokens < reserve * (others + 1)) {
    pause(limits.reset_tokens);
  }
}

asio::awaitable<void> Runner::WaitUntil(Clock::time_point t) {
  if (t <= Clock::now()) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor, t);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<Outcome> Runner::Execute(WorkItem item) {
  Outcome o;
  o.line = item.line;
  o.key = item.key;
  o.id_json = item.id_json;
  o.format = item.format;
  o.endpoint = item.endpoint;
  o.model = item.model();
  o.request_id = "batch-" + std::to_string(++sequence_);
  if (auto st = AttachImages(item); !st.ok()) {
    o.error = st.error();
    co_return o;
  }
  int64_t reserve = EstimatePromptTokens(item);
  if (item.endpoint == Endpoint::kChat) {
    reserve += item.chat.max_tokens.value_or(options_.default_output_tokens);
  }
  const milliseconds timeout = options_.request_timeout.count() > 0
                                   ? options_.request_timeout
                                   : router_->config().router.timeout;
  int gate_waits = 0;
  for (int round = 0;;) {
    co_await WaitUntil(pause_until_);
    LineAdmission admission;
    if (options_.gate) {
      auto admitted = co_await options_.gate->Admit(item);
      if (!admitted.ok()) {
        Error refusal = std::move(admitted).error();
        if (refusal.kind == ErrorKind::kRateLimited && gate_waits++ < kGateWaits && !cancelled_) {
          ++builder_.progress().rate_limited;
          co_await WaitUntil(Clock::now() + refusal.retry_after.value_or(options_.default_pause));
          continue;
        }
        o.error = std::move(refusal);
        co_await options_.gate->Finish(std::nullopt, o);  // recorded as a refused call
        co_return o;
      }
      admission = std::move(admitted).value();
    }
    if (limiter_.limited()) {
      const auto ticket = limiter_.Reserve(reserve, Clock::now());
      milliseconds wait = ticket.wait;
      if (!ticket.admitted) wait = ticket.retry_after;
      co_await WaitUntil(Clock::now() + wait);
      // A 429 that arrived while we waited pauses this call too.
      co_await WaitUntil(pause_until_);
    }
    RequestContext ctx;
    ctx.request_id = o.request_id;
    ctx.start = Clock::now();
    ctx.deadline = ctx.start + timeout;
    ctx.key_context = admission.context;
    ctx.key_tags = admission.key_tags;
    routing::AttemptLog log;
    std::optional<Error> error;
    try {
      if (item.endpoint == Endpoint::kChat) {
        auto r = co_await router_->Chat(item.chat, ctx, options_.forward, &log);
        if (r.ok()) {
          o.chat = std::move(r).value();
          o.usage = o.chat.usage;
        } else {
          error = r.error();
        }
      } else {
        auto r = co_await router_->Embed(item.embed, ctx, options_.forward, &log);
        if (r.ok()) {
          o.embedding = std::move(r).value();
          Usage u;
          u.prompt_tokens = o.embedding.prompt_tokens;
          o.usage = u;
        } else {
          error = r.error();
        }
      }
    } catch (const std::exception& e) {
      error = Internal(std::string("unexpected exception: ") + e.what());
    }
    const auto now = Clock::now();
    o.latency = std::chrono::duration_cast<milliseconds>(now - ctx.start);
    o.deployment = log.deployment;
    o.cache_hit = log.cache == "hit";
    o.attempts += log.attempts;
    if (limiter_.limited()) limiter_.Settle(reserve, o.usage ? o.usage->total() : 0);
    if (options_.follow_provider_limits && log.provider_limits) {
      FollowProviderLimits(*log.provider_limits, reserve, now);
    }
    if (options_.gate) {
      o.error = error;  // what Finish records
      co_await options_.gate->Finish(std::move(admission.admission), o);
      o.error.reset();
    }
    if (error && error->kind == ErrorKind::kRateLimited && round < options_.rate_limit_retries &&
        !cancelled_) {
      ++builder_.progress().rate_limited;
      pause_until_ =
          std::max(pause_until_, now + error->retry_after.value_or(options_.default_pause));
      ++round;
      continue;
    }
    o.error = std::move(error);
    co_return o;
  }
}

}  // namespace modelmux::batch
