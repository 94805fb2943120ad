// The coroutines behind Client::chat_async and Client::stream_async. Each converts the router's
// neutral answer to the public types and hands it to the caller's callback, exactly once.

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>
#include <exception>

#include "sdk/client_impl.hpp"
#include "sdk/convert.hpp"

namespace modelmux::sdk {
namespace asio = boost::asio;

Error CancelledError(std::string message) {
  ::modelmux::Error e;
  e.kind = ErrorKind::kCancelled;
  e.code = "cancelled";
  e.message = std::move(message);
  return FromCoreError(e);
}

Error BlockingInCallbackError() {
  Error e = FromCoreError(::modelmux::InvalidRequest(
      "a blocking call was made from a callback running on the client's own thread",
      /*param=*/"", "blocking_in_callback"));
  return e;
}

namespace {

Error FromException(const std::exception& e) {
  if (const auto* se = dynamic_cast<const boost::system::system_error*>(&e)) {
    if (se->code() == asio::error::operation_aborted)
      return CancelledError("the call was cancelled");
  }
  return FromCoreError(::modelmux::Internal(std::string("unexpected exception: ") + e.what()));
}

// Callbacks must not throw; one that does cannot be reported to anyone, so the exception ends here.
void Deliver(const Client::ChatCallback& done, Expected<ChatResult> result) {
  try {
    if (done) done(std::move(result));
  } catch (...) {  // NOLINT(bugprone-empty-catch): documented contract
  }
}

}  // namespace

asio::awaitable<void> FailTask(Error error, Client::ChatCallback done) {
  Deliver(done, std::move(error));
  co_return;
}

asio::awaitable<void> ChatTask(std::shared_ptr<const routing::Router> router, ChatRequest request,
                               RequestContext ctx, net::Headers forward,
                               Client::ChatCallback done) {
  Expected<ChatResult> out = Error{};
  try {
    auto r = co_await router->Chat(std::move(request), std::move(ctx), std::move(forward));
    if (r.ok()) {
      out = FromCoreResponse(r.value());
    } else {
      out = FromCoreError(r.error());
    }
  } catch (const std::exception& e) {
    out = FromException(e);
  } catch (...) {
    out = FromCoreError(::modelmux::Internal("unexpected exception"));
  }
  Deliver(done, std::move(out));
}

asio::awaitable<void> StreamTask(std::shared_ptr<const routing::Router> router, ChatRequest request,
                                 RequestContext ctx, net::Headers forward,
                                 Client::ChunkCallback on_chunk, Client::ChatCallback done) {
  StreamAssembler assembler;
  bool stopped = false;  // on_chunk returned false (or threw)
  // Runs on this loop thread, between two reads of the upstream stream.
  routing::Router::EventSink sink = [&assembler, &stopped,
                                     &on_chunk](const StreamEvent& event) -> Status {
    auto chunk = assembler.OnEvent(event);
    if (!chunk) return OkStatus();
    bool go = false;
    try {
      go = !on_chunk || on_chunk(*chunk);
    } catch (...) {
      go = false;
    }
    if (go) return OkStatus();
    stopped = true;
    ::modelmux::Error e;
    e.kind = ErrorKind::kCancelled;
    e.code = "stopped_by_caller";
    e.message = "the stream was stopped by the caller";
    return e;
  };

  Expected<ChatResult> out = Error{};
  try {
    auto r = co_await router->ChatStream(std::move(request), std::move(ctx), std::move(sink),
                                         std::move(forward));
    if (r.ok()) {
      out = assembler.Result(r.value());
    } else if (stopped) {
      ChatResult partial = assembler.Result(std::nullopt);
      partial.finish_reason.clear();
      out = std::move(partial);
    } else {
      out = FromCoreError(r.error());
    }
  } catch (const std::exception& e) {
    out = FromException(e);
  } catch (...) {
    out = FromCoreError(::modelmux::Internal("unexpected exception"));
  }
  Deliver(done, std::move(out));
}

}  // namespace modelmux::sdk
