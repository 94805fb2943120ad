#include "routing/router.hpp"

#include <cstdlib>
#include <tuple>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/sse.hpp"

#include "cache/answer_codec.hpp"
#include "cache/key.hpp"
#include "cache/memory.hpp"
#include "dialects/dialect.hpp"
#include "dialects/openai/fast_path.hpp"
#include "routing/pipeline.hpp"
#include "routing/pipeline_run.hpp"
#include "routing/text_stage.hpp"
#include "text/token_estimator.hpp"
#include "upstream/retry_stale.hpp"

namespace modelmux::routing {
namespace {

upstream::ProviderSpec SpecFrom(const ProviderConfig& p) {
  upstream::ProviderSpec s;
  s.name = p.name;
  s.type = std::string(ProviderTypeName(p.type));
  s.base_url = p.base_url;
  // Anthropic's base URL is documented without the version (as ANTHROPIC_BASE_URL is for its
  // SDKs); the dialect's paths are relative to /v1.
  if (p.type == ProviderType::kAnthropic && !s.base_url.empty()) {
    while (!s.base_url.empty() && s.base_url.back() == '/') s.base_url.pop_back();
    if (s.base_url.size() < 3 || s.base_url.compare(s.base_url.size() - 3, 3, "/v1") != 0) {
      s.base_url += "/v1";
    }
  }
  s.api_key = p.api_key;
  s.secret_key = p.secret_key;
  s.session_token = p.session_token;
  s.region = p.region;
  s.api_version = p.api_version;
  for (const auto& [k, v] : p.headers) s.headers.Add(k, v);
  s.timeouts.connect_timeout = p.timeouts.connect;
  s.timeouts.first_byte_timeout = p.timeouts.first_byte;
  s.timeouts.idle_timeout = p.timeouts.idle;
  s.timeouts.total_timeout = p.timeouts.total;
  s.tls.verify_peer = p.tls.verify;
  s.tls.ca_file = p.tls.ca_file;
  s.tls.client_cert_file = p.tls.client_cert;
  s.tls.client_key_file = p.tls.client_key;
  return s;
}

}  // namespace

void ForwardSimControls(const net::Headers& from, const upstream::Provider& provider,
                        net::Headers& to) {
  if (!provider.accepts_sim_controls()) return;
  for (const auto& [k, v] : from) {
    if (k.size() > 6 && net::IEquals(std::string_view(k).substr(0, 6), "x-sim-")) to.Add(k, v);
  }
}

Result<std::shared_ptr<const Router>> Router::Create(
    std::shared_ptr<const Config> config, std::shared_ptr<ResponseCache> cache,
    std::shared_ptr<store::RedisClient> limits_redis) {
  auto router = std::shared_ptr<Router>(new Router(config));
  router->cache_ = std::move(cache);
  for (const auto& p : config->providers) {
    auto provider = upstream::Provider::Create(SpecFrom(p));
    // Provider types whose dialect this build does not speak yet stay listed in the config; a
    // plan naming them fails clearly (see MakePlan).
    if (!provider.ok()) continue;
    if (p.base_url.empty()) {
      Error e = InvalidRequest("provider '" + p.name + "' has no base_url", "providers." + p.name);
      e.code = "config_error";
      return e;
    }
    router->providers_.emplace(p.name, std::move(provider).value());
  }
  const Router* self = router.get();
  router->dispatcher_ = std::make_unique<Dispatcher>(
      config, [self](std::string_view name) { return self->FindProvider(name); });
  // router.shared_limits: deployment windows in the Redis of redis.url (the client given, else
  // the cache's).
  if (config->router.shared_limits) {
    if (!limits_redis && router->cache_) limits_redis = router->cache_->redis();
    router->dispatcher_->ShareLimits(std::move(limits_redis));
  }
  return std::shared_ptr<const Router>(std::move(router));
}

const upstream::Provider* Router::FindProvider(std::string_view name) const {
  auto it = providers_.find(name);
  return it == providers_.end() ? nullptr : it->second.get();
}

Result<Plan> Router::MakePlan(std::string_view model) const {
  if (const Pipeline* pipeline = config_->FindPipeline(model)) {
    // A pipeline's plan is its primary model's (the one the log names before the call).
    MM_TRY(Plan plan, MakePlan(PrimaryModel(*pipeline)));
    plan.resolved.alias = std::string(model);
    return plan;
  }
  MM_TRY(ResolvedModel resolved, ResolveModel(*config_, model));
  const auto* provider = FindProvider(resolved.provider);
  if (!provider) {
    Error e;
    e.kind = ErrorKind::kNotFound;
    e.param = "model";
    e.code = "provider_not_supported";
    e.message = "The model '" + std::string(model) + "' resolves to provider '" +
                resolved.provider + "', whose dialect this build cannot call yet";
    return e;
  }
  return Plan{std::move(resolved), provider};
}

namespace {

// Reserved for the answer when the caller sets no max_tokens (rate-limit token windows).

upstream::UpstreamCall CallFrom(dialects::WireCall wire, const Target& target) {
  upstream::UpstreamCall call;
  call.method = std::move(wire.method);
  call.path = std::move(wire.path);
  call.body = std::move(wire.body);
  for (auto& [k, v] : wire.headers) call.headers.Add(std::move(k), std::move(v));
  AddIdempotencyKey(target, call.headers);
  AddTraceparent(target, call.headers);
  return call;
}

Error WithProvider(Error e, const upstream::Provider& provider) {
  e.provider = provider.spec().name;
  return e;
}

}  // namespace

void AddIdempotencyKey(const Target& target, net::Headers& headers) {
  // The dialects whose providers document it (OpenAI and Anthropic SDKs send one per request).
  const auto d = target.provider->dialect();
  if (!target.idempotency_key.empty() &&
      (d == upstream::WireDialect::kOpenAi || d == upstream::WireDialect::kAnthropic)) {
    headers.Set("idempotency-key", target.idempotency_key);
  }
}

void NoteHeadroom(const Target& target, const net::Headers& headers) {
  const auto limits = ProviderLimitsFrom(
      headers.Get("x-ratelimit-remaining-requests"), headers.Get("x-ratelimit-reset-requests"),
      headers.Get("x-ratelimit-remaining-tokens"), headers.Get("x-ratelimit-reset-tokens"));
  if (target.provider_limits != nullptr && limits) *target.provider_limits = *limits;
  if (target.set == nullptr) return;
  if (auto h = HeadroomFromHeaders(
          headers.Get("x-ratelimit-remaining-requests"), headers.Get("x-ratelimit-limit-requests"),
          headers.Get("x-ratelimit-remaining-tokens"), headers.Get("x-ratelimit-limit-tokens"))) {
    // The report holds until the provider's window resets (at most the set's horizon).
    const auto reset = limits ? std::max(limits->reset_requests, limits->reset_tokens)
                              : std::chrono::milliseconds{0};
    target.set->SetHeadroom(
        target.index, *h, reset.count() > 0 ? reset : resilience::DeploymentSet::kHeadroomHorizon);
  }
}

Error UpstreamError(const upstream::Provider& provider, int status, std::string_view body,
                    const net::Headers& headers) {
  Error e = provider.wire().DecodeError(status, body);
  e.provider = provider.spec().name;
  if (e.upstream_status == 0) e.upstream_status = status;
  if (!e.retry_after) {
    e.retry_after =
        resilience::ParseRetryAfter(headers.Get("retry-after-ms"), headers.Get("retry-after"),
                                    std::chrono::system_clock::now());
  }
  e.should_retry = resilience::ParseShouldRetry(headers.Get("x-should-retry"));
  return e;
}

// ---- chat -----------------------------------------------------------------------------------

boost::asio::awaitable<Result<ChatResponse>> Router::Chat(ChatRequest request, RequestContext ctx,
                                                          net::Headers forward,
                                                          AttemptLog* log_out) const {
  AttemptLog local;
  AttemptLog& log = log_out ? *log_out : local;
  MM_CO_RETURN_IF_ERROR(ApplyTextStage(*config_, request, log, KeyContext(ctx)));
  if (const Pipeline* pipeline = config_->FindPipeline(request.model)) {
    co_return co_await PipelineChat(*this, *pipeline, std::move(request), std::move(ctx),
                                    std::move(forward), &log);
  }
  request.stream = false;
  // The policy reads the request's own `cache` member, before the extensions are taken.
  MM_CO_TRY(auto policy, CachePolicyFor(request, ctx, forward, log));
  MM_CO_TRY(auto own_policy, TakeImagePolicy(request));
  if (policy) {
    co_return co_await CachedChat(request, std::move(own_policy), std::move(*policy), ctx, forward,
                                  log);
  }
  co_return co_await ChatUncached(request, std::move(own_policy), ctx, forward, log);
}

boost::asio::awaitable<Result<ChatResponse>> Router::ChatUncached(
    ChatRequest& request, std::optional<media::ImagePolicy> own_policy, const RequestContext& ctx,
    const net::Headers& forward, AttemptLog& log) const {
  MediaStage media(*config_, request, EffectivePolicy(*config_, request.model, own_policy));
  const int64_t tokens =
      text::EstimatePromptTokens(request) + request.max_tokens.value_or(kDefaultCompletionReserve);
  auto attempt = [&](const Target& t) { return ChatTarget(t, request, media, ctx, forward); };
  auto r = co_await dispatcher_->Run<ChatResponse>(request.model, ctx, tokens, log, attempt);
  if (media.report() != nullptr) log.media = *media.report();
  if (r.ok() && r->usage) Dispatcher::Settle(log, r->usage->total());
  co_return r;
}

boost::asio::awaitable<Result<ChatResponse>> Router::ChatTarget(const Target& target,
                                                                const ChatRequest& request,
                                                                MediaStage& media,
                                                                const RequestContext& ctx,
                                                                const net::Headers& forward) const {
  MM_CO_TRY(const ChatRequest* fitted, co_await media.For(target, &ctx));
  // A provider that reports its access token stale (Qianfan 110/111) gets one more try with a
  // freshly exchanged token.
  co_return co_await upstream::RetryOnStaleCredentials<ChatResponse>(
      target.provider->signer(), [&] { return ChatOnce(target, *fitted, ctx, forward); });
}

boost::asio::awaitable<Result<ChatResponse>> Router::ChatOnce(const Target& target,
                                                              const ChatRequest& request,
                                                              const RequestContext& ctx,
                                                              const net::Headers& forward) const {
  const auto& provider = *target.provider;
  MM_CO_TRY(
      dialects::WireCall wire,
      provider.wire().EncodeChat(request, {target.model, false, provider.spec().api_version}));
  upstream::UpstreamCall call = CallFrom(std::move(wire), target);
  ForwardSimControls(forward, provider, call.headers);
  UpstreamTimer waiting(target);
  MM_CO_TRY(auto resp, co_await provider.Send(std::move(call), ctx));
  NoteHeadroom(target, resp->headers());
  MM_CO_TRY(std::string body, co_await resp->ReadAll());
  waiting.Stop();
  if (resp->status() / 100 != 2) {
    co_return UpstreamError(provider, resp->status(), body, resp->headers());
  }
  auto decoded = provider.wire().DecodeChat(body);
  if (!decoded.ok()) co_return WithProvider(std::move(decoded).error(), provider);
  if (decoded->model.empty()) decoded->model = target.model;
  co_return decoded;
}

// ---- streams --------------------------------------------------------------------------------

boost::asio::awaitable<Status> UpstreamStream::Prime() {
  primed_result_ = co_await Next(primed_events_);
  primed_ = true;
  if (!primed_result_.ok() && primed_events_.empty()) co_return primed_result_.error();
  co_return OkStatus();
}

void UpstreamStream::AddUsage(const Usage& extra) {
  if (!extra_usage_) extra_usage_ = Usage{};
  *extra_usage_ += extra;
  if (usage_) *usage_ += extra;
  for (auto& ev : primed_events_) {
    if (ev.usage) *ev.usage += extra;
  }
}

void UpstreamStream::SetRecorder(std::unique_ptr<StreamRecorder> recorder) {
  recorder_ = std::move(recorder);
}

boost::asio::awaitable<Result<bool>> UpstreamStream::Next(std::vector<StreamEvent>& out) {
  if (!recorder_) co_return co_await NextPiece(out);
  const size_t first = out.size();
  Result<bool> r = co_await NextPiece(out);
  for (size_t i = first; i < out.size(); ++i) recorder_->Add(out[i]);
  if (!r.ok()) {
    recorder_->Fail(r.error());
    recorder_.reset();
  } else if (!*r) {
    co_await recorder_->Complete();
    recorder_.reset();
  }
  co_return r;
}

boost::asio::awaitable<Result<bool>> UpstreamStream::NextPiece(std::vector<StreamEvent>& out) {
  if (primed_) {
    primed_ = false;
    for (auto& ev : primed_events_) out.push_back(std::move(ev));
    primed_events_.clear();
    co_return std::move(primed_result_);
  }
  if (done_) co_return false;
  const size_t first = out.size();
  auto note = [&] {
    for (size_t i = first; i < out.size(); ++i) {
      if (out[i].usage && extra_usage_) *out[i].usage += *extra_usage_;
      if (out[i].usage) usage_ = out[i].usage;
      if (out[i].kind == StreamEvent::Kind::kDone) done_ = true;
    }
  };
  auto piece = co_await response_->ReadSome();
  if (!piece.ok()) {
    Error e = std::move(piece).error();
    if (e.kind != ErrorKind::kCancelled) {
      e.code = e.kind == ErrorKind::kTimeout ? "upstream_timeout" : "stream_cut";
      e.message = "the upstream stream ended before it was complete: " + e.message;
    }
    e.provider = provider_;
    co_return e;
  }
  Status st = piece->empty() ? decoder_->Finish(out) : decoder_->Feed(*piece, out);
  note();
  if (!st.ok()) {
    Error e = std::move(st).error();
    e.provider = provider_;
    co_return e;
  }
  if (piece->empty() && !done_) {
    done_ = true;  // a dialect without a terminator (the body's end is the end)
    StreamEvent ev;
    ev.kind = StreamEvent::Kind::kDone;
    out.push_back(std::move(ev));
  }
  if (done_) {
    // Read the rest of the body (the chunked terminator) so the connection can be reused.
    for (int i = 0; i < 4 && !response_->done(); ++i) {
      auto rest = co_await response_->ReadSome();
      if (!rest.ok() || rest->empty()) break;
    }
  }
  co_return !done_;
}

boost::asio::awaitable<Result<std::unique_ptr<UpstreamStream>>> Router::OpenStream(
    ChatRequest request, RequestContext ctx, net::Headers forward, AttemptLog* log_out) const {
  AttemptLog local;
  AttemptLog& log = log_out ? *log_out : local;
  MM_CO_RETURN_IF_ERROR(ApplyTextStage(*config_, request, log, KeyContext(ctx)));
  if (const Pipeline* pipeline = config_->FindPipeline(request.model)) {
    co_return co_await PipelineStream(*this, *pipeline, std::move(request), std::move(ctx),
                                      std::move(forward), &log);
  }
  request.stream = true;
  MM_CO_TRY(auto policy, CachePolicyFor(request, ctx, forward, log));
  MM_CO_TRY(auto own_policy, TakeImagePolicy(request));
  if (policy) {
    co_return co_await CachedOpen(request, std::move(own_policy), std::move(*policy), ctx, forward,
                                  log);
  }
  co_return co_await OpenUncached(request, std::move(own_policy), ctx, forward, log);
}

boost::asio::awaitable<Result<std::unique_ptr<UpstreamStream>>> Router::OpenUncached(
    ChatRequest& request, std::optional<media::ImagePolicy> own_policy, const RequestContext& ctx,
    const net::Headers& forward, AttemptLog& log) const {
  MediaStage media(*config_, request, EffectivePolicy(*config_, request.model, own_policy));
  const int64_t tokens =
      text::EstimatePromptTokens(request) + request.max_tokens.value_or(kDefaultCompletionReserve);
  auto attempt = [&](const Target& t) { return OpenTarget(t, request, media, ctx, forward); };
  auto r = co_await dispatcher_->Run<std::unique_ptr<UpstreamStream>>(request.model, ctx, tokens,
                                                                      log, attempt);
  if (media.report() != nullptr) log.media = *media.report();
  co_return r;
}

boost::asio::awaitable<Result<std::unique_ptr<UpstreamStream>>> Router::OpenTarget(
    const Target& target, const ChatRequest& request, MediaStage& media, const RequestContext& ctx,
    const net::Headers& forward) const {
  MM_CO_TRY(const ChatRequest* fitted, co_await media.For(target, &ctx));
  co_return co_await upstream::RetryOnStaleCredentials<std::unique_ptr<UpstreamStream>>(
      target.provider->signer(), [&] { return OpenOnce(target, *fitted, ctx, forward); });
}

boost::asio::awaitable<Result<std::unique_ptr<UpstreamStream>>> Router::OpenOnce(
    const Target& target, const ChatRequest& request, const RequestContext& ctx,
    const net::Headers& forward) const {
  const auto& provider = *target.provider;
  MM_CO_TRY(dialects::WireCall wire,
            provider.wire().EncodeChat(request, {target.model, true, provider.spec().api_version}));
  upstream::UpstreamCall call = CallFrom(std::move(wire), target);
  ForwardSimControls(forward, provider, call.headers);
  UpstreamTimer waiting(target);  // the head and the first piece (Prime)
  MM_CO_TRY(auto resp, co_await provider.Send(std::move(call), ctx));
  NoteHeadroom(target, resp->headers());
  if (resp->status() / 100 != 2) {
    MM_CO_TRY(std::string body, co_await resp->ReadAll(1 << 20));
    co_return UpstreamError(provider, resp->status(), body, resp->headers());
  }
  auto stream = std::make_unique<UpstreamStream>(
      std::move(resp), provider.wire().NewStreamDecoder(), provider.spec().name);
  // Nothing has reached the caller yet: an error in the first piece can still be retried.
  MM_CO_RETURN_IF_ERROR(co_await stream->Prime());
  co_return stream;
}

boost::asio::awaitable<Result<std::optional<Usage>>> Router::ChatStream(
    ChatRequest request, RequestContext ctx, EventSink on_event, net::Headers forward) const {
  const bool include_usage = request.include_usage;
  MM_CO_TRY(auto stream, co_await OpenStream(std::move(request), ctx, std::move(forward)));
  std::vector<StreamEvent> events;
  while (true) {
    auto more = co_await stream->Next(events);
    for (const auto& ev : events) {
      if (ev.kind == StreamEvent::Kind::kUsage && !include_usage) continue;
      MM_CO_RETURN_IF_ERROR(on_event(ev));
    }
    events.clear();
    if (!more.ok()) co_return std::move(more).error();
    if (!*more) break;
  }
  co_return stream->usage();
}

// ---- embeddings -----------------------------------------------------------------------------

boost::asio::awaitable<Result<EmbeddingResponse>> Router::Embed(EmbeddingRequest request,
                                                                RequestContext ctx,
                                                                net::Headers forward,
                                                                AttemptLog* log_out) const {
  AttemptLog local;
  AttemptLog& log = log_out ? *log_out : local;
  int64_t tokens = 0;
  for (const auto& input : request.inputs) tokens += text::EstimateTokens(input);
  auto attempt = [&](const Target& t) { return EmbedTarget(t, request, ctx, forward); };
  auto r = co_await dispatcher_->Run<EmbeddingResponse>(request.model, ctx, tokens, log, attempt);
  if (r.ok() && r->prompt_tokens > 0) Dispatcher::Settle(log, r->prompt_tokens);
  co_return r;
}

boost::asio::awaitable<Result<EmbeddingResponse>> Router::EmbedTarget(
    const Target& target, const EmbeddingRequest& request, const RequestContext& ctx,
    const net::Headers& forward) const {
  co_return co_await upstream::RetryOnStaleCredentials<EmbeddingResponse>(
      target.provider->signer(), [&] { return EmbedOnce(target, request, ctx, forward); });
}

boost::asio::awaitable<Result<EmbeddingResponse>> Router::EmbedOnce(
    const Target& target, const EmbeddingRequest& request, const RequestContext& ctx,
    const net::Headers& forward) const {
  const auto& provider = *target.provider;
  MM_CO_TRY(dialects::WireCall wire,
            provider.wire().EncodeEmbeddings(request,
                                             {target.model, false, provider.spec().api_version}));
  if (provider.dialect() == upstream::WireDialect::kOpenAi) {
    wire.path = provider.OpenAiPath("/embeddings", target.model);
  }
  upstream::UpstreamCall call = CallFrom(std::move(wire), target);
  ForwardSimControls(forward, provider, call.headers);
  UpstreamTimer waiting(target);
  MM_CO_TRY(auto resp, co_await provider.Send(std::move(call), ctx));
  NoteHeadroom(target, resp->headers());
  MM_CO_TRY(std::string body, co_await resp->ReadAll());
  waiting.Stop();
  if (resp->status() / 100 != 2) {
    co_return UpstreamError(provider, resp->status(), body, resp->headers());
  }
  auto decoded = provider.wire().DecodeEmbeddings(body);
  if (!decoded.ok()) co_return WithProvider(std::move(decoded).error(), provider);
  if (decoded->model.empty()) decoded->model = target.model;
  co_return decoded;
}

// ---- the pass-through fast path -------------------------------------------------------------

boost::asio::awaitable<Result<Router::RawAnswer>> Router::OpenRaw(std::string model,
                                                                  RequestContext ctx,
                                                                  int64_t tokens, BuildCall build,
                                                                  bool stream, Heartbeat heartbeat,
                                                                  AttemptLog* log_out) const {
  AttemptLog local;
  AttemptLog& log = log_out ? *log_out : local;
  auto attempt = [&](const Target& t) { return RawOnce(t, build, stream, heartbeat, ctx); };
  co_return co_await dispatcher_->Run<RawAnswer>(std::move(model), ctx, tokens, log, attempt);
}

namespace {

// What FirstPiece waits on: one channel that both the reader (the piece) and the ticker (a
// heartbeat is due: nullopt) send to, so that nothing that arrives is ever lost. (An `||` of a
// receive and a timer drops a piece that lands just as the timer fires: the wait then hangs.)
struct FirstPieceWait {
  using Channel = boost::asio::experimental::channel<void(boost::system::error_code,
                                                          std::optional<Result<std::string>>)>;
  explicit FirstPieceWait(const boost::asio::any_io_executor& exec)
      : channel(exec, 1), timer(exec) {}
  Channel channel;
  boost::asio::steady_timer timer;  // the ticker's
  bool over = false;
};

constexpr auto kNoThrow = boost::asio::as_tuple(boost::asio::use_awaitable);

boost::asio::awaitable<void> ReadFirstPiece(std::shared_ptr<net::ClientResponse> resp,
                                            std::shared_ptr<FirstPieceWait> wait) {
  auto piece = co_await resp->ReadSome();
  Result<std::string> r = piece.ok() ? Result<std::string>(std::string(*piece))
                                     : Result<std::string>(std::move(piece).error());
  (void)co_await wait->channel.async_send(
      boost::system::error_code{}, std::optional<Result<std::string>>(std::move(r)), kNoThrow);
}

boost::asio::awaitable<void> TickFirstPiece(std::shared_ptr<FirstPieceWait> wait,
                                            std::chrono::milliseconds interval) {
  while (!wait->over) {
    wait->timer.expires_after(interval);
    auto [ec] = co_await wait->timer.async_wait(kNoThrow);
    if (ec || wait->over) co_return;
    auto [sent] =
        co_await wait->channel.async_send(boost::system::error_code{}, std::nullopt, kNoThrow);
    if (sent) co_return;
  }
}

// A stream's first piece; `heartbeat` is called every `interval` while it is awaited. The read
// runs in its own coroutine so that a heartbeat never interrupts it.
boost::asio::awaitable<Result<std::string>> FirstPiece(std::shared_ptr<net::ClientResponse> resp,
                                                       std::chrono::milliseconds interval,
                                                       const Router::Heartbeat& heartbeat) {
  if (!heartbeat || interval.count() <= 0) {
    auto piece = co_await resp->ReadSome();
    if (!piece.ok()) co_return std::move(piece).error();
    co_return std::string(*piece);
  }
  namespace asio = boost::asio;
  auto exec = co_await asio::this_coro::executor;
  auto wait = std::make_shared<FirstPieceWait>(exec);
  asio::co_spawn(exec, ReadFirstPiece(resp, wait), asio::detached);
  asio::co_spawn(exec, TickFirstPiece(wait, interval), asio::detached);
  // Ends the ticker and any send still pending (the reader's, after a Cancel below).
  auto finish = [&wait] {
    wait->over = true;
    wait->timer.cancel();
    wait->channel.close();
  };
  while (true) {
    auto [ec, message] = co_await wait->channel.async_receive(kNoThrow);
    if (ec) {  // this coroutine was cancelled
      finish();
      resp->Cancel();
      co_return Error{ErrorKind::kCancelled, "cancelled"};
    }
    if (message) {
      finish();
      co_return std::move(*message);
    }
    if (Status st = co_await heartbeat(); !st.ok()) {
      finish();
      resp->Cancel();  // the caller is gone: end the upstream call and the reader with it
      co_return Error{ErrorKind::kCancelled, "the caller went away"};
    }
  }
}

// An OpenAI-wire stream whose first event is an error (`data: {"error":...}` after a 200 head):
// the provider's error, with the status its type implies (rate limits are 429, the rest 500).
std::optional<Error> ErrorAsFirstEvent(const upstream::Provider& provider, std::string_view piece,
                                       const net::Headers& headers) {
  SseParser parser;
  std::vector<SseEvent> events;
  if (!parser.Feed(piece, events) || events.empty()) return std::nullopt;
  const std::string_view data = events.front().data;
  if (data.find("\"error\"") == std::string_view::npos || !dialects::openai::IsErrorChunk(data)) {
    return std::nullopt;
  }
  const int status = data.find("rate_limit") != std::string_view::npos ? 429 : 500;
  Error e = UpstreamError(provider, status, data, headers);
  e.upstream_status = 200;
  return e;
}

}  // namespace

boost::asio::awaitable<Result<Router::RawAnswer>> Router::RawOnce(const Target& target,
                                                                  const BuildCall& build,
                                                                  bool stream,
                                                                  const Heartbeat& heartbeat,
                                                                  const RequestContext& ctx) const {
  const auto& provider = *target.provider;
  MM_CO_TRY(upstream::UpstreamCall call, build(target));
  AddIdempotencyKey(target, call.headers);
  AddTraceparent(target, call.headers);
  UpstreamTimer waiting(target);  // the head, and the body or the first piece
  MM_CO_TRY(auto resp, co_await provider.Send(std::move(call), ctx));
  NoteHeadroom(target, resp->headers());
  if (resp->status() != 200) {
    auto body = co_await resp->ReadAll(1 << 20);
    co_return UpstreamError(provider, resp->status(), body.ok() ? *body : std::string_view{},
                            resp->headers());
  }
  RawAnswer answer{std::shared_ptr<net::ClientResponse>(std::move(resp)), &provider, target.model};
  Result<std::string> read = std::string();
  if (!stream) {
    read = co_await answer.response->ReadAll(64 << 20);
  } else {
    read = co_await FirstPiece(answer.response, config_->server.heartbeat_interval, heartbeat);
  }
  if (!read.ok()) {
    Error e = std::move(read).error();
    if (e.kind == ErrorKind::kCancelled) co_return e;
    e.message = (stream ? "the stream failed before its first byte: "
                        : "the answer's body failed after its head: ") +
                e.message;
    co_return WithProvider(std::move(e), provider);
  }
  answer.body = std::move(read).value();
  if (stream && answer.body.empty()) {
    Error e;
    e.kind = ErrorKind::kUpstreamError;
    e.code = "stream_cut";
    e.message = "the upstream stream ended before its first byte";
    co_return WithProvider(std::move(e), provider);
  }
  if (stream) {
    if (auto e = ErrorAsFirstEvent(provider, answer.body, answer.response->headers())) {
      answer.response->Cancel();
      co_return std::move(*e);
    }
  }
  co_return answer;
}

// ---- response cache -------------------------------------------------------------------------

namespace {

// The request's own image policy changes what reaches the model: it is part of the key.
std::string KeyKind(const std::optional<media::ImagePolicy>& p) {
  if (!p) return "chat";
  return "chat;image_policy=" + std::to_string(p->max_side) + "," + std::to_string(p->quality) +
         "," + std::to_string(static_cast<int>(p->format)) + "," + p->detail + "," +
         std::to_string(static_cast<int>(p->lean)) + "," + (p->force ? "1" : "0");
}

// "provider/model" of the deployment that answered.
std::pair<std::string, std::string> SplitLabel(const std::string& label) {
  const auto slash = label.find('/');
  if (slash == std::string::npos) return {label, ""};
  return {label.substr(0, slash), label.substr(slash + 1)};
}

// Stores a stream once it completed, and shares it with the requests that waited for it.
class CacheRecorder final : public StreamRecorder {
 public:
  CacheRecorder(std::shared_ptr<ResponseCache> cache, std::optional<cache::FlightLeader> leader,
                cache::CachePolicy policy, std::string key, std::string provider,
                std::string provider_type, std::string model)
      : cache_(std::move(cache)),
        leader_(std::move(leader)),
        policy_(std::move(policy)),
        key_(std::move(key)),
        provider_(std::move(provider)),
        provider_type_(std::move(provider_type)),
        model_(std::move(model)) {
    answer_.stream = true;
  }
  void Add(const StreamEvent& event) override {
    if (event.kind == StreamEvent::Kind::kError) failed_ = true;
    if (event.usage) usage_ = event.usage;
    answer_.events.push_back(event);
  }
  boost::asio::awaitable<void> Complete() override {
    if (failed_) {
      if (leader_) leader_->Fail(UpstreamErrorFor("the stream ended with an error event"));
      co_return;
    }
    std::string bytes = cache::EncodeAnswer(answer_);
    if (policy_.store) {
      cache::Entry entry{MetaFor(policy_, provider_, provider_type_, model_, usage_, true), bytes};
      auto put = co_await cache_->backend().Put(key_, std::move(entry));
      if (put.ok()) {
        ++cache_->counters().stored;
      } else {
        ++cache_->counters().errors;
      }
    }
    if (leader_) {
      leader_->Publish(std::move(bytes));
      leader_->Finish();
      leader_->Release();
    }
  }
  void Fail(const Error& error) override {
    if (leader_) leader_->Fail(error);
  }

 private:
  static Error UpstreamErrorFor(std::string message) {
    Error e;
    e.kind = ErrorKind::kUpstreamError;
    e.code = "stream_error";
    e.message = std::move(message);
    return e;
  }
  std::shared_ptr<ResponseCache> cache_;
  std::optional<cache::FlightLeader> leader_;  // none when the caller asked for a fresh answer
  cache::CachePolicy policy_;
  std::string key_, provider_, provider_type_, model_;
  cache::CachedAnswer answer_;
  std::optional<Usage> usage_;
  bool failed_ = false;
};

}  // namespace

std::string Router::KeyFor(const ChatRequest& request, const RequestContext& ctx,
                           const cache::CachePolicy& policy, std::string_view provider,
                           std::string_view model,
                           const std::optional<media::ImagePolicy>& own_policy) const {
  const std::string kind = KeyKind(own_policy);
  return cache::CacheKey({ctx.tenant, provider, model, request, kind, policy.ns});
}

boost::asio::awaitable<std::optional<cache::CachedAnswer>> Router::Lookup(
    std::string key, const cache::CachePolicy& policy) const {
  auto got = co_await cache_->backend().Get(std::move(key));
  if (!got.ok()) {
    ++cache_->counters().errors;  // a backend failure is a miss
    co_return std::nullopt;
  }
  if (!*got) co_return std::nullopt;
  const cache::Entry& entry = **got;
  if (policy.max_age) {
    const int64_t age_ms = cache::SystemNowMs() - entry.meta.created_unix_ms;
    if (age_ms > std::chrono::duration_cast<std::chrono::milliseconds>(*policy.max_age).count()) {
      co_return std::nullopt;
    }
  }
  auto answer = cache::DecodeAnswer(entry.value);
  if (!answer.ok()) {
    ++cache_->counters().errors;
    co_return std::nullopt;
  }
  co_return std::move(answer).value();
}

Result<std::optional<cache::CachePolicy>> Router::CachePolicyFor(const ChatRequest& request,
                                                                 const RequestContext& ctx,
                                                                 const net::Headers& forward,
                                                                 AttemptLog& log) const {
  if (!cache_) return std::optional<cache::CachePolicy>();
  MM_TRY(cache::CachePolicy policy,
         cache::DecidePolicy(request, cache_->config(), forward.Get("cache-control"),
                             forward.Get(cache::kTtlHeader), forward.Get(cache::kNamespaceHeader),
                             ctx.tenant));
  if (policy.bypass()) {
    log.cache = "bypass";
    ++cache_->counters().bypass;
    return std::optional<cache::CachePolicy>();
  }
  return std::optional<cache::CachePolicy>(std::move(policy));
}

Router::StoreTarget Router::StoreTargetFor(
    const Plan& plan, const std::string& key, const AttemptLog& log, const ChatRequest& request,
    const RequestContext& ctx, const cache::CachePolicy& policy,
    const std::optional<media::ImagePolicy>& own_policy) const {
  // Stored under the deployment that answered (a fallback's answer under its own model).
  StoreTarget t;
  std::tie(t.provider, t.model) = SplitLabel(log.deployment);
  if (t.provider.empty()) {
    t.provider = plan.provider->spec().name;
    t.model = plan.resolved.model;
  }
  if (const auto* p = FindProvider(t.provider)) t.provider_type = p->spec().type;
  t.key = t.provider == plan.provider->spec().name && t.model == plan.resolved.model
              ? key
              : KeyFor(request, ctx, policy, t.provider, t.model, own_policy);
  return t;
}

boost::asio::awaitable<Result<ChatResponse>> Router::CachedChat(
    ChatRequest& request, std::optional<media::ImagePolicy> own_policy, cache::CachePolicy policy,
    const RequestContext& ctx, const net::Headers& forward, AttemptLog& log) const {
  MM_CO_TRY(Plan plan, MakePlan(request.model));
  const std::string key =
      KeyFor(request, ctx, policy, plan.provider->spec().name, plan.resolved.model, own_policy);
  if (policy.lookup) {
    auto hit = co_await Lookup(key, policy);
    if (hit) {
      log.cache = "hit";
      ChatResponse r = ResponseOf(*hit);
      cache_->NoteHit(request.model, r.usage, plan.provider->spec().type, plan.resolved.model);
      co_return r;
    }
  }
  // A caller that asked for a fresh answer (no-cache) neither joins nor leads a flight.
  std::optional<cache::FlightLeader> leader;
  if (policy.lookup) {
    cache::FlightGroup::Join join = cache_->flights().JoinOrLead(key);
    if (!join.leading()) {
      auto chunk = co_await join.flight->Next(0, ctx.deadline);
      if (chunk.ok() && chunk->has_value()) {
        auto answer = cache::DecodeAnswer(**chunk);
        if (answer.ok()) {
          log.cache = "hit";
          ++cache_->counters().coalesced;
          ChatResponse r = ResponseOf(*answer);
          cache_->NoteHit(request.model, r.usage, plan.provider->spec().type, plan.resolved.model);
          co_return r;
        }
      }
      // The leader failed or went away: a failure is never shared, this request calls itself.
      log.cache = "miss";
      cache_->NoteMiss(request.model);
      co_return co_await ChatUncached(request, std::move(own_policy), ctx, forward, log);
    }
    leader = std::move(join.leader);
  }
  log.cache = "miss";
  cache_->NoteMiss(request.model);
  auto r = co_await ChatUncached(request, own_policy, ctx, forward, log);
  if (!r.ok()) {
    if (leader) leader->Fail(r.error());
    co_return r;
  }
  cache::CachedAnswer answer;
  answer.response = *r;
  std::string bytes = cache::EncodeAnswer(answer);
  if (policy.store) {
    const StoreTarget t = StoreTargetFor(plan, key, log, request, ctx, policy, own_policy);
    cache::Entry entry{MetaFor(policy, t.provider, t.provider_type, t.model, r->usage, false),
                       bytes};
    auto put = co_await cache_->backend().Put(t.key, std::move(entry));
    if (put.ok()) {
      ++cache_->counters().stored;
    } else {
      ++cache_->counters().errors;
    }
  }
  if (leader) {
    leader->Publish(std::move(bytes));
    leader->Finish();
    leader->Release();
  }
  co_return r;
}

boost::asio::awaitable<Result<std::unique_ptr<UpstreamStream>>> Router::CachedOpen(
    ChatRequest& request, std::optional<media::ImagePolicy> own_policy, cache::CachePolicy policy,
    const RequestContext& ctx, const net::Headers& forward, AttemptLog& log) const {
  MM_CO_TRY(Plan plan, MakePlan(request.model));
  const std::string key =
      KeyFor(request, ctx, policy, plan.provider->spec().name, plan.resolved.model, own_policy);
  if (policy.lookup) {
    auto hit = co_await Lookup(key, policy);
    if (hit) {
      log.cache = "hit";
      auto events = EventsOf(*hit);
      auto stream = std::make_unique<UpstreamStream>(std::move(events));
      cache_->NoteHit(request.model, stream->usage(), plan.provider->spec().type,
                      plan.resolved.model);
      co_return stream;
    }
  }
  std::optional<cache::FlightLeader> leader;
  if (policy.lookup) {
    cache::FlightGroup::Join join = cache_->flights().JoinOrLead(key);
    if (!join.leading()) {
      // Followers of a stream wait for the whole answer, then replay it chunk by chunk.
      auto chunk = co_await join.flight->Next(0, ctx.deadline);
      if (chunk.ok() && chunk->has_value()) {
        auto answer = cache::DecodeAnswer(**chunk);
        if (answer.ok()) {
          log.cache = "hit";
          ++cache_->counters().coalesced;
          auto stream = std::make_unique<UpstreamStream>(EventsOf(*answer));
          cache_->NoteHit(request.model, stream->usage(), plan.provider->spec().type,
                          plan.resolved.model);
          co_return stream;
        }
      }
      log.cache = "miss";
      cache_->NoteMiss(request.model);
      co_return co_await OpenUncached(request, std::move(own_policy), ctx, forward, log);
    }
    leader = std::move(join.leader);
  }
  log.cache = "miss";
  cache_->NoteMiss(request.model);
  auto r = co_await OpenUncached(request, own_policy, ctx, forward, log);
  if (!r.ok()) {
    if (leader) leader->Fail(r.error());
    co_return r;
  }
  StoreTarget t = StoreTargetFor(plan, key, log, request, ctx, policy, own_policy);
  (*r)->SetRecorder(std::make_unique<CacheRecorder>(
      cache_, std::move(leader), std::move(policy), std::move(t.key), std::move(t.provider),
      std::move(t.provider_type), std::move(t.model)));
  co_return r;
}

}  // namespace modelmux::routing
