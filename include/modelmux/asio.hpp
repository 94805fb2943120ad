#pragma once
// Boost.Asio forms of Client::chat_async: an asynchronous operation that works with any completion
// token (use_awaitable, use_future, deferred, a plain handler, ...), and the awaitable shorthand.
//
//   boost::asio::awaitable<void> Ask(modelmux::Client& client) {
//     auto reply = co_await modelmux::async_chat(client, {.model = "sim/echo", .messages = {...}});
//     if (reply) std::cout << reply->text << "\n";
//   }
//
// Needs the Boost headers (1.81 or newer; header-only Asio is fine) besides libmodelmux; the SDK's
// own Asio stays inside the library, so any Asio configuration of the program works.
//
// Threading: the call runs on the Client's threads; the completion handler is then posted to the
// handler's associated executor (for use_awaitable: the coroutine's executor), never run on a
// Client thread. That executor is kept busy (outstanding work) until the handler ran.
// Cancellation: per-operation cancellation is not supported (destroying the Client cancels every
// call; ChatOptions::timeout bounds each).
// Errors: as Client::chat(), delivered as the Expected's error.

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <type_traits>
#include <utility>

#include "modelmux/client.hpp"

namespace modelmux::sdk {

// Starts client.chat_async(options) and completes with signature void(Expected<ChatResult>).
// `client` must outlive the operation.
template <class CompletionToken>
auto async_chat(Client& client, ChatOptions options, CompletionToken&& token) {
  return boost::asio::async_initiate<CompletionToken, void(Expected<ChatResult>)>(
      [](auto handler, Client* target, ChatOptions opts) {
        using Handler = std::decay_t<decltype(handler)>;
        auto work = boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                        boost::asio::execution::outstanding_work.tracked);
        // Completion handlers may be move-only; Client callbacks are std::function (copyable).
        auto shared = std::make_shared<Handler>(std::move(handler));
        target->chat_async(std::move(opts), [shared, work](Expected<ChatResult> result) {
          boost::asio::post(work, [shared, r = std::move(result)]() mutable {
            std::move (*shared)(std::move(r));
          });
        });
      },
      token, &client, std::move(options));
}

// The awaitable shorthand: co_await async_chat(client, options).
inline boost::asio::awaitable<Expected<ChatResult>> async_chat(Client& client,
                                                               ChatOptions options) {
  co_return co_await async_chat(client, std::move(options), boost::asio::use_awaitable);
}

}  // namespace modelmux::sdk

#ifndef MODELMUX_BUILDING_SDK
namespace modelmux {
using sdk::async_chat;
}  // namespace modelmux
#endif
