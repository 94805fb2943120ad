#pragma once
// Baidu Qianfan's legacy credentials: an API_KEY + SECRET_KEY pair exchanged for an access token
// (POST {base}/oauth/2.0/token?grant_type=client_credentials&client_id=..&client_secret=..,
// answer {access_token, expires_in}) that every chat call carries as the `access_token` query
// parameter. See /work/shared/providers.md §5.
//
// The signer caches the token until shortly before it expires and exchanges it only once when
// many calls need it together (single-flight across event loops). Invalidate() drops it (the
// provider answered error 110/111), so the next SignAsync exchanges again. Neither the secret
// key nor the exchange URL ever appears in an error or a log.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "auth/signer.hpp"
#include "net/http_client.hpp"

namespace modelmux::auth {

// The signer's notion of now (injected so tests can expire tokens without waiting).
using TokenClock = std::function<std::chrono::steady_clock::time_point()>;

// A token is used until `expires_in - RefreshMargin(expires_in)`: 5 % of its lifetime, at most
// one day (30-day tokens are refreshed a day early; a 60 s token 3 s early).
[[nodiscard]] std::chrono::seconds QianfanRefreshMargin(std::chrono::seconds expires_in);

// `url` with `access_token=TOKEN` set as a query parameter (an existing access_token parameter
// is replaced; other parameters are kept). TOKEN is percent-encoded where needed.
[[nodiscard]] std::string WithAccessToken(std::string_view url, std::string_view token);

// The exchange URL for `token_url_base` (e.g. "https://aip.baidubce.com"): base +
// "/oauth/2.0/token?grant_type=client_credentials&client_id=..&client_secret=..". Holds the
// secret: never log it.
[[nodiscard]] std::string QianfanTokenUrl(std::string_view token_url_base, std::string_view api_key,
                                          std::string_view secret_key);

// The async signer. Sign() (the synchronous path) fails with kInternal: providers call
// SignAsync because is_async() is true. SignAsync runs on the calling coroutine's executor;
// when no valid token is cached it starts (or joins) the one exchange in flight, which runs on
// the executor of the call that started it with a private net::HttpClient (`tls`, proxies from
// the environment; connect 5 s, total 30 s), and resumes every waiter on its own executor.
// Errors of SignAsync: kAuthentication, code "qianfan_token_exchange_failed", provider_code =
// Baidu's `error` (e.g. "invalid_client") when the exchange was refused; kUpstreamError /
// kTimeout (same code) when it could not be made; kAuthentication "qianfan_credentials_missing"
// when the API key or the secret key is empty; kCancelled when the waiting call was cancelled.
// A failed exchange is not cached: the next call tries again. Thread-safe.
[[nodiscard]] std::unique_ptr<Signer> MakeQianfanTokenSigner(
    std::string token_url_base, std::string api_key, std::string secret_key,
    TokenClock clock = std::chrono::steady_clock::now, net::TlsOptions tls = {});

}  // namespace modelmux::auth
