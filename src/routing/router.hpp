#pragma once
// The Router owns one configuration snapshot and the providers built from it, and turns a model
// name into a plan (which provider, which upstream model). Immutable once built; a reload builds
// a new Router and swaps the pointer. It also offers the neutral call path used by the SDK and by
// handlers whose caller dialect differs from the upstream's.

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <map>
#include <memory>

#include "core/chat.hpp"
#include "core/embedding.hpp"
#include "core/request_context.hpp"
#include "core/result.hpp"
#include "dialects/dialect.hpp"
#include "net/headers.hpp"
#include "routing/config.hpp"
#include "routing/dispatch.hpp"
#include "routing/media_stage.hpp"
#include "routing/resolver.hpp"
#include "routing/response_cache.hpp"
#include "upstream/provider.hpp"

namespace modelmux::routing {

struct Plan {
  ResolvedModel resolved;
  const upstream::Provider* provider = nullptr;  // owned by the Router
};

// A streamed answer being read, decoded into neutral events batch by batch (pull-based, so the
// reader decides when to write and can await its own I/O in between).
// Receives a stream's events as they are read, to store the answer once it completed
// (routing/response_cache.cpp); Fail when it did not.
class StreamRecorder {
 public:
  virtual ~StreamRecorder() = default;
  virtual void Add(const StreamEvent& event) = 0;
  virtual boost::asio::awaitable<void> Complete() = 0;
  virtual void Fail(const Error& error) = 0;
};

class UpstreamStream {
 public:
  UpstreamStream(std::unique_ptr<net::ClientResponse> response,
                 std::unique_ptr<dialects::StreamDecoder> decoder, std::string provider)
      : response_(std::move(response)),
        decoder_(std::move(decoder)),
        provider_(std::move(provider)) {}
  // A stream whose events are known already (a pipeline's combined answer): Next() delivers
  // them all at once and ends.
  explicit UpstreamStream(std::vector<StreamEvent> events) : primed_events_(std::move(events)) {
    primed_ = true;
    primed_result_ = false;
    done_ = true;
    for (const auto& ev : primed_events_) {
      if (ev.usage) usage_ = ev.usage;
    }
  }

  // Reads the next piece of the body and appends its events to `out` (possibly none). Returns
  // false once the stream has ended properly (a kDone event was delivered). Errors: the stream
  // broke (code stream_cut), the provider sent an error event, or the connection failed.
  boost::asio::awaitable<Result<bool>> Next(std::vector<StreamEvent>& out);
  // Reads the first piece ahead (its events are delivered by the first Next()). An error with
  // no event before it (a rate limit inside an HTTP 200 body, a reset before any byte) is
  // returned here, while the call can still be retried or answered with a status.
  boost::asio::awaitable<Status> Prime();
  // Next without the recorder (Next feeds the recorder from it).
  boost::asio::awaitable<Result<bool>> NextPiece(std::vector<StreamEvent>& out);
  [[nodiscard]] const std::optional<Usage>& usage() const { return usage_; }
  // Usage of earlier calls made for the same answer (a pipeline's vision step): added to every
  // usage this stream reports from now on, events included.
  void AddUsage(const Usage& extra);
  // Ends the upstream call now (the caller went away).
  void Cancel() {
    if (response_) response_->Cancel();
  }
  // Records the events from now on (the first piece, if primed, included).
  void SetRecorder(std::unique_ptr<StreamRecorder> recorder);

 private:
  std::unique_ptr<StreamRecorder> recorder_;
  std::unique_ptr<net::ClientResponse> response_;
  std::unique_ptr<dialects::StreamDecoder> decoder_;
  std::string provider_;
  std::optional<Usage> usage_;
  std::optional<Usage> extra_usage_;
  bool done_ = false;
  bool primed_ = false;
  std::vector<StreamEvent> primed_events_;
  Result<bool> primed_result_ = true;
};

class Router {
 public:
  // Builds providers for every configured provider. Errors: a provider that cannot be used.
  // `cache` (optional) is the process's response cache, shared by every router it builds.
  // `limits_redis` (optional): the Redis client of router.shared_limits
  // (routing/shared_limits.hpp SharedLimitsRedis); without it, the cache's client, if any.
  [[nodiscard]] static Result<std::shared_ptr<const Router>> Create(
      std::shared_ptr<const Config> config, std::shared_ptr<ResponseCache> cache = nullptr,
      std::shared_ptr<store::RedisClient> limits_redis = nullptr);
  [[nodiscard]] const std::shared_ptr<ResponseCache>& cache() const { return cache_; }

  [[nodiscard]] const Config& config() const { return *config_; }
  [[nodiscard]] std::shared_ptr<const Config> config_ptr() const { return config_; }

  // Model name -> plan. Errors: kNotFound (model_not_found).
  [[nodiscard]] Result<Plan> MakePlan(std::string_view model) const;
  [[nodiscard]] const upstream::Provider* FindProvider(std::string_view name) const;

  // Every call below goes through the Dispatcher's attempt loop (routing/dispatch.hpp): the
  // deployment choice, retries, fallbacks and rate limits; `log` (optional) receives what
  // happened. `forward` headers (e.g. x-sim-*) reach providers that accept them.

  // Neutral path: one call, decoded into the neutral response.
  boost::asio::awaitable<Result<ChatResponse>> Chat(ChatRequest request, RequestContext ctx,
                                                    net::Headers forward = {},
                                                    AttemptLog* log = nullptr) const;

  // Streams a call; `on_event` receives each neutral event in order (return an error to stop).
  // Returns the final usage (if the provider reported one).
  using EventSink = std::function<Status(const StreamEvent&)>;
  // Starts a streamed call; returns once the provider answered with a 2xx head and its first
  // piece was read (errors before that, e.g. a 429 or an error inside a 200 body, are retried
  // and then come back here as errors, so a caller can still answer with a status).
  boost::asio::awaitable<Result<std::unique_ptr<UpstreamStream>>> OpenStream(
      ChatRequest request, RequestContext ctx, net::Headers forward = {},
      AttemptLog* log = nullptr) const;
  boost::asio::awaitable<Result<std::optional<Usage>>> ChatStream(ChatRequest request,
                                                                  RequestContext ctx,
                                                                  EventSink on_event,
                                                                  net::Headers forward = {}) const;

  // Embeddings through the provider's dialect (EncodeEmbeddings / DecodeEmbeddings); for
  // OpenAI-dialect providers the path is Provider::OpenAiPath("/embeddings", model), so Azure's
  // deployment form works. Errors: those of the resolution, the dialect's (kInvalidRequest
  // embeddings_not_supported for a provider without an embeddings API), the transport's and the
  // provider's (decoded by its dialect).
  boost::asio::awaitable<Result<EmbeddingResponse>> Embed(EmbeddingRequest request,
                                                          RequestContext ctx,
                                                          net::Headers forward = {},
                                                          AttemptLog* log = nullptr) const;

  // The pass-through fast path: `build` makes the HTTP call for a target (all OpenAI-wire; see
  // Dispatcher::AllOpenAiWire). Each attempt reads the whole body of a non-streamed answer, or
  // the first piece of a stream, before it counts as answered: a body cut or stalled after a 200
  // head, a stream that ends or fails before its first byte, or an error event as its first
  // event, is a failed attempt (retried, fallen back from, counted against the deployment's
  // health) like any other (reliability.md 12, 14).
  struct RawAnswer {
    std::shared_ptr<net::ClientResponse> response;
    const upstream::Provider* provider = nullptr;
    std::string model;  // the upstream model
    std::string body;   // the whole body, or a stream's first piece
  };
  using BuildCall = std::function<Result<upstream::UpstreamCall>(const Target&)>;
  // Called every server.heartbeat_interval while a stream's first piece is awaited (the gateway
  // sends the caller an SSE comment); an error ends the call as cancelled (the caller is gone).
  using Heartbeat = std::function<boost::asio::awaitable<Status>()>;
  boost::asio::awaitable<Result<RawAnswer>> OpenRaw(std::string model, RequestContext ctx,
                                                    int64_t tokens, BuildCall build, bool stream,
                                                    Heartbeat heartbeat = {},
                                                    AttemptLog* log = nullptr) const;

  [[nodiscard]] const Dispatcher& dispatcher() const { return *dispatcher_; }

 private:
  explicit Router(std::shared_ptr<const Config> config) : config_(std::move(config)) {}
  // The call without the response cache: the media stage, then the attempt loop.
  boost::asio::awaitable<Result<ChatResponse>> ChatUncached(
      ChatRequest& request, std::optional<media::ImagePolicy> own_policy, const RequestContext& ctx,
      const net::Headers& forward, AttemptLog& log) const;
  boost::asio::awaitable<Result<std::unique_ptr<UpstreamStream>>> OpenUncached(
      ChatRequest& request, std::optional<media::ImagePolicy> own_policy, const RequestContext& ctx,
      const net::Headers& forward, AttemptLog& log) const;
  // The cached forms (policy decided, not bypassed).
  boost::asio::awaitable<Result<ChatResponse>> CachedChat(
      ChatRequest& request, std::optional<media::ImagePolicy> own_policy, cache::CachePolicy policy,
      const RequestContext& ctx, const net::Headers& forward, AttemptLog& log) const;
  boost::asio::awaitable<Result<std::unique_ptr<UpstreamStream>>> CachedOpen(
      ChatRequest& request, std::optional<media::ImagePolicy> own_policy, cache::CachePolicy policy,
      const RequestContext& ctx, const net::Headers& forward, AttemptLog& log) const;
  // The cache policy of a request, or nullopt when there is no cache or the request bypasses
  // it (then marked in `log`). Errors: malformed cache headers or `cache` member.
  [[nodiscard]] Result<std::optional<cache::CachePolicy>> CachePolicyFor(
      const ChatRequest& request, const RequestContext& ctx, const net::Headers& forward,
      AttemptLog& log) const;
  // Where an answer is stored: the deployment that answered, and its key.
  struct StoreTarget {
    std::string provider, provider_type, model, key;
  };
  [[nodiscard]] StoreTarget StoreTargetFor(
      const Plan& plan, const std::string& key, const AttemptLog& log, const ChatRequest& request,
      const RequestContext& ctx, const cache::CachePolicy& policy,
      const std::optional<media::ImagePolicy>& own_policy) const;
  // A fresh stored answer for `key`, if any (counted as a hit).
  boost::asio::awaitable<std::optional<cache::CachedAnswer>> Lookup(
      std::string key, const cache::CachePolicy& policy) const;
  // The key of `request` answered by provider/model.
  [[nodiscard]] std::string KeyFor(const ChatRequest& request, const RequestContext& ctx,
                                   const cache::CachePolicy& policy, std::string_view provider,
                                   std::string_view model,
                                   const std::optional<media::ImagePolicy>& own_policy) const;
  boost::asio::awaitable<Result<ChatResponse>> ChatOnce(const Target& target,
                                                        const ChatRequest& request,
                                                        const RequestContext& ctx,
                                                        const net::Headers& forward) const;
  boost::asio::awaitable<Result<ChatResponse>> ChatTarget(const Target& target,
                                                          const ChatRequest& request,
                                                          MediaStage& media,
                                                          const RequestContext& ctx,
                                                          const net::Headers& forward) const;
  boost::asio::awaitable<Result<std::unique_ptr<UpstreamStream>>> OpenOnce(
      const Target& target, const ChatRequest& request, const RequestContext& ctx,
      const net::Headers& forward) const;
  boost::asio::awaitable<Result<std::unique_ptr<UpstreamStream>>> OpenTarget(
      const Target& target, const ChatRequest& request, MediaStage& media,
      const RequestContext& ctx, const net::Headers& forward) const;
  boost::asio::awaitable<Result<EmbeddingResponse>> EmbedOnce(const Target& target,
                                                              const EmbeddingRequest& request,
                                                              const RequestContext& ctx,
                                                              const net::Headers& forward) const;
  boost::asio::awaitable<Result<EmbeddingResponse>> EmbedTarget(const Target& target,
                                                                const EmbeddingRequest& request,
                                                                const RequestContext& ctx,
                                                                const net::Headers& forward) const;
  boost::asio::awaitable<Result<RawAnswer>> RawOnce(const Target& target, const BuildCall& build,
                                                    bool stream, const Heartbeat& heartbeat,
                                                    const RequestContext& ctx) const;
  std::shared_ptr<const Config> config_;
  std::shared_ptr<ResponseCache> cache_;
  std::map<std::string, std::unique_ptr<upstream::Provider>, std::less<>> providers_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

// The completion tokens a call that names no max_tokens reserves in a deployment's token window
// until its usage settles it.
inline constexpr int64_t kDefaultCompletionReserve = 256;

// Reports the provider's rate-limit headroom (x-ratelimit-* headers) to the target's alias state.
void NoteHeadroom(const Target& target, const net::Headers& headers);

// Sets the call's idempotency key header for dialects whose providers honour one.
void AddIdempotencyKey(const Target& target, net::Headers& headers);

// The error of an upstream answer with a non-2xx status: decoded by the provider's dialect, with
// the server's retry-after(-ms) and x-should-retry hints read from the headers.
[[nodiscard]] Error UpstreamError(const upstream::Provider& provider, int status,
                                  std::string_view body, const net::Headers& headers);

// Copies the x-sim-* headers of `from` when `provider` accepts simulator controls.
void ForwardSimControls(const net::Headers& from, const upstream::Provider& provider,
                        net::Headers& to);

}  // namespace modelmux::routing
