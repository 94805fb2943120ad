#pragma once
// One retry after stale credentials: a provider whose token exchange went stale (Qianfan's error
// 110/111, decoded by its dialect as kAuthentication with code "token_expired") gets its signer
// invalidated and the call made once more with a fresh token. Any other outcome is returned as
// it is; a second stale answer is returned too (no loop).

#include <boost/asio/awaitable.hpp>
#include <utility>

#include "auth/signer.hpp"
#include "core/result.hpp"

namespace modelmux::upstream {

// kAuthentication with code "token_expired".
[[nodiscard]] bool IsStaleCredentials(const Error& e);

// Awaits `attempt()` (a callable returning awaitable<Result<T>>, e.g. a lambda that calls a
// coroutine taking its arguments by value); on a stale-credentials error calls
// signer.Invalidate() and awaits `attempt()` once more. `attempt` is kept by value for the
// duration of the call; what it refers to must outlive it.
template <class T, class Attempt>
boost::asio::awaitable<Result<T>> RetryOnStaleCredentials(const auth::Signer& signer,
                                                          Attempt attempt) {
  Result<T> first = co_await attempt();
  if (first.ok() || !IsStaleCredentials(first.error())) co_return first;
  signer.Invalidate();
  co_return co_await attempt();
}

}  // namespace modelmux::upstream
