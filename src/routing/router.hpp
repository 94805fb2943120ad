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
#include "core/request_context.hpp"
#include "core/result.hpp"
#include "dialects/dialect.hpp"
#include "net/headers.hpp"
#include "routing/config.hpp"
#include "routing/resolver.hpp"
#include "upstream/provider.hpp"

namespace modelmux::routing {

struct Plan {
  ResolvedModel resolved;
  const upstream::Provider* provider = nullptr;  // owned by the Router
};

// A streamed answer being read, decoded into neutral events batch by batch (pull-based, so the
// reader decides when to write and can await its own I/O in between).
class UpstreamStream {
 public:
  UpstreamStream(std::unique_ptr<net::ClientResponse> response,
                 std::unique_ptr<dialects::StreamDecoder> decoder, std::string provider)
      : response_(std::move(response)),
        decoder_(std::move(decoder)),
        provider_(std::move(provider)) {}

  // Reads the next piece of the body and appends its events to `out` (possibly none). Returns
  // false once the stream has ended properly (a kDone event was delivered). Errors: the stream
  // broke (code stream_cut), the provider sent an error event, or the connection failed.
  boost::asio::awaitable<Result<bool>> Next(std::vector<StreamEvent>& out);
  [[nodiscard]] const std::optional<Usage>& usage() const { return usage_; }
  // Ends the upstream call now (the caller went away).
  void Cancel() { response_->Cancel(); }

 private:
  std::unique_ptr<net::ClientResponse> response_;
  std::unique_ptr<dialects::StreamDecoder> decoder_;
  std::string provider_;
  std::optional<Usage> usage_;
  bool done_ = false;
};

class Router {
 public:
  // Builds providers for every configured provider. Errors: a provider that cannot be used.
  [[nodiscard]] static Result<std::shared_ptr<const Router>> Create(
      std::shared_ptr<const Config> config);

  [[nodiscard]] const Config& config() const { return *config_; }
  [[nodiscard]] std::shared_ptr<const Config> config_ptr() const { return config_; }

  // Model name -> plan. Errors: kNotFound (model_not_found).
  [[nodiscard]] Result<Plan> MakePlan(std::string_view model) const;
  [[nodiscard]] const upstream::Provider* FindProvider(std::string_view name) const;

  // Neutral path: one call, decoded into the neutral response. `forward` headers (e.g. x-sim-*)
  // reach providers that accept them.
  boost::asio::awaitable<Result<ChatResponse>> Chat(ChatRequest request, RequestContext ctx,
                                                    net::Headers forward = {}) const;

  // Streams a call; `on_event` receives each neutral event in order (return an error to stop).
  // Returns the final usage (if the provider reported one).
  using EventSink = std::function<Status(const StreamEvent&)>;
  // Starts a streamed call; returns once the provider answered with a 2xx head (errors before
  // that, e.g. a 429, come back here as errors, so a caller can still answer with a status).
  boost::asio::awaitable<Result<std::unique_ptr<UpstreamStream>>> OpenStream(
      ChatRequest request, RequestContext ctx, net::Headers forward = {}) const;
  boost::asio::awaitable<Result<std::optional<Usage>>> ChatStream(ChatRequest request,
                                                                  RequestContext ctx,
                                                                  EventSink on_event,
                                                                  net::Headers forward = {}) const;

 private:
  explicit Router(std::shared_ptr<const Config> config) : config_(std::move(config)) {}
  boost::asio::awaitable<Result<ChatResponse>> ChatOnce(const Plan& plan,
                                                        const ChatRequest& request,
                                                        const RequestContext& ctx,
                                                        const net::Headers& forward) const;
  std::shared_ptr<const Config> config_;
  std::map<std::string, std::unique_ptr<upstream::Provider>, std::less<>> providers_;
};

// Copies the x-sim-* headers of `from` when `provider` accepts simulator controls.
void ForwardSimControls(const net::Headers& from, const upstream::Provider& provider,
                        net::Headers& to);

}  // namespace modelmux::routing
