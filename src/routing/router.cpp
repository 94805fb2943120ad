#include "routing/router.hpp"

#include <cstdlib>
#include "core/sse.hpp"

#include "dialects/dialect.hpp"
#include "routing/pipeline.hpp"
#include "routing/pipeline_run.hpp"
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

Result<std::shared_ptr<const Router>> Router::Create(std::shared_ptr<const Config> config) {
  auto router = std::shared_ptr<Router>(new Router(config));
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
constexpr int64_t kDefaultCompletionReserve = 256;

upstream::UpstreamCall CallFrom(dialects::WireCall wire, const Target& target) {
  upstream::UpstreamCall call;
  call.method = std::move(wire.method);
  call.path = std::move(wire.path);
  call.body = std::move(wire.body);
  for (auto& [k, v] : wire.headers) call.headers.Add(std::move(k), std::move(v));
  AddIdempotencyKey(target, call.headers);
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
  if (target.set == nullptr) return;
  if (auto h = HeadroomFromHeaders(
          headers.Get("x-ratelimit-remaining-requests"), headers.Get("x-ratelimit-limit-requests"),
          headers.Get("x-ratelimit-remaining-tokens"), headers.Get("x-ratelimit-limit-tokens"))) {
    target.set->SetHeadroom(target.index, *h);
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
  if (const Pipeline* pipeline = config_->FindPipeline(request.model)) {
    co_return co_await PipelineChat(*this, *pipeline, std::move(request), std::move(ctx),
                                    std::move(forward), log_out);
  }
  request.stream = false;
  AttemptLog local;
  AttemptLog& log = log_out ? *log_out : local;
  MM_CO_TRY(auto own_policy, TakeImagePolicy(request));
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
  MM_CO_TRY(const ChatRequest* fitted, co_await media.For(target));
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
  MM_CO_TRY(auto resp, co_await provider.Send(std::move(call), ctx));
  NoteHeadroom(target, resp->headers());
  MM_CO_TRY(std::string body, co_await resp->ReadAll());
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

boost::asio::awaitable<Result<bool>> UpstreamStream::Next(std::vector<StreamEvent>& out) {
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
  if (const Pipeline* pipeline = config_->FindPipeline(request.model)) {
    co_return co_await PipelineStream(*this, *pipeline, std::move(request), std::move(ctx),
                                      std::move(forward), log_out);
  }
  request.stream = true;
  AttemptLog local;
  AttemptLog& log = log_out ? *log_out : local;
  MM_CO_TRY(auto own_policy, TakeImagePolicy(request));
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
  MM_CO_TRY(const ChatRequest* fitted, co_await media.For(target));
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
  MM_CO_TRY(auto resp, co_await provider.Send(std::move(call), ctx));
  NoteHeadroom(target, resp->headers());
  MM_CO_TRY(std::string body, co_await resp->ReadAll());
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
                                                                  AttemptLog* log_out) const {
  AttemptLog local;
  AttemptLog& log = log_out ? *log_out : local;
  auto attempt = [&](const Target& t) { return RawOnce(t, build, ctx); };
  co_return co_await dispatcher_->Run<RawAnswer>(std::move(model), ctx, tokens, log, attempt);
}

boost::asio::awaitable<Result<Router::RawAnswer>> Router::RawOnce(const Target& target,
                                                                  const BuildCall& build,
                                                                  const RequestContext& ctx) const {
  const auto& provider = *target.provider;
  MM_CO_TRY(upstream::UpstreamCall call, build(target));
  AddIdempotencyKey(target, call.headers);
  MM_CO_TRY(auto resp, co_await provider.Send(std::move(call), ctx));
  NoteHeadroom(target, resp->headers());
  if (resp->status() != 200) {
    auto body = co_await resp->ReadAll(1 << 20);
    co_return UpstreamError(provider, resp->status(), body.ok() ? *body : std::string_view{},
                            resp->headers());
  }
  co_return RawAnswer{std::shared_ptr<net::ClientResponse>(std::move(resp)), &provider,
                      target.model};
}

}  // namespace modelmux::routing
