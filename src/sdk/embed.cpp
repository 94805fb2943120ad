// Client::embed and Client::embed_async: the public options -> a neutral EmbeddingRequest ->
// Router::Embed on a Client loop -> the public result, delivered exactly once.

#include <boost/system/system_error.hpp>
#include <exception>
#include <future>

#include "core/embedding.hpp"
#include "sdk/client_impl.hpp"
#include "sdk/convert.hpp"

namespace modelmux::sdk {
namespace asio = boost::asio;

namespace {

::modelmux::Result<EmbeddingRequest> ToCoreEmbedRequest(const EmbedOptions& options) {
  if (options.model.empty()) {
    return ::modelmux::InvalidRequest("an embeddings call needs a model", "model",
                                      "missing_required_parameter");
  }
  if (options.inputs.empty()) {
    return ::modelmux::InvalidRequest("an embeddings call needs at least one input", "input",
                                      "invalid_value");
  }
  for (const auto& text : options.inputs) {
    if (text.empty()) {
      return ::modelmux::InvalidRequest("embeddings inputs must not be empty", "input",
                                        "invalid_value");
    }
  }
  if (options.dimensions && *options.dimensions < 1) {
    return ::modelmux::InvalidRequest("dimensions must be at least 1", "dimensions",
                                      "integer_below_min_value");
  }
  EmbeddingRequest r;
  r.model = options.model;
  r.inputs = options.inputs;
  r.input_is_string = false;
  r.dimensions = options.dimensions;
  r.task_type = options.task_type;
  r.user = options.user;
  return r;
}

RequestContext EmbedContext(std::string request_id, std::chrono::milliseconds timeout) {
  RequestContext ctx;
  ctx.request_id = std::move(request_id);
  ctx.start = RequestContext::Clock::now();
  constexpr auto kLongest = std::chrono::hours(24 * 365);
  if (timeout.count() > 0 && timeout < kLongest) ctx.deadline = ctx.start + timeout;
  return ctx;
}

void Deliver(const Client::EmbedCallback& done, Expected<EmbedResult> result) {
  try {
    if (done) done(std::move(result));
  } catch (...) {  // NOLINT(bugprone-empty-catch): callbacks must not throw (client.hpp)
  }
}

asio::awaitable<void> EmbedFailTask(Error error, Client::EmbedCallback done) {
  Deliver(done, std::move(error));
  co_return;
}

asio::awaitable<void> EmbedTask(std::shared_ptr<const routing::Router> router,
                                EmbeddingRequest request, RequestContext ctx, net::Headers forward,
                                Client::EmbedCallback done) {
  Expected<EmbedResult> out = Error{};
  try {
    auto r = co_await router->Embed(std::move(request), std::move(ctx), std::move(forward));
    if (r.ok()) {
      EmbedResult result;
      result.model = r->model;
      result.vectors.reserve(r->data.size());
      for (auto& e : r->data) result.vectors.push_back(std::move(e.vector));
      if (r->prompt_tokens > 0) result.prompt_tokens = r->prompt_tokens;
      out = std::move(result);
    } else {
      out = FromCoreError(r.error());
    }
  } catch (const boost::system::system_error& e) {
    out =
        e.code() == asio::error::operation_aborted
            ? CancelledError("the call was cancelled")
            : FromCoreError(::modelmux::Internal(std::string("unexpected exception: ") + e.what()));
  } catch (const std::exception& e) {
    out = FromCoreError(::modelmux::Internal(std::string("unexpected exception: ") + e.what()));
  } catch (...) {
    out = FromCoreError(::modelmux::Internal("unexpected exception"));
  }
  Deliver(done, std::move(out));
}

}  // namespace

void Client::embed_async(EmbedOptions options, EmbedCallback done) {
  EmbedCallback refused = done;  // the task holds `done`; kept for a Client that is closing
  auto request = ToCoreEmbedRequest(options);
  if (!request.ok()) {
    if (!impl_->Launch(EmbedFailTask(FromCoreError(request.error()), std::move(done)))) {
      if (refused) refused(CancelledError("the client is shutting down"));
    }
    return;
  }
  auto ctx = EmbedContext(impl_->NextRequestId(), options.timeout);
  auto forward = ToForwardHeaders(options.headers);
  if (!impl_->Launch(EmbedTask(impl_->router, std::move(request).value(), std::move(ctx),
                               std::move(forward), std::move(done)))) {
    if (refused) refused(CancelledError("the client is shutting down"));
  }
}

Expected<EmbedResult> Client::embed(const EmbedOptions& options) {
  if (impl_->OnLoopThread()) return BlockingInCallbackError();
  auto promise = std::make_shared<std::promise<Expected<EmbedResult>>>();
  auto future = promise->get_future();
  embed_async(options, [promise](Expected<EmbedResult> r) { promise->set_value(std::move(r)); });
  promise.reset();
  try {
    return future.get();
  } catch (const std::future_error&) {
    return CancelledError("the client was destroyed during the call");
  }
}

}  // namespace modelmux::sdk
