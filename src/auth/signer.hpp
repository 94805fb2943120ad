#pragma once
// Signers put a provider's credentials on an outgoing request. Foundation: bearer tokens and
// header keys; the Providers work adds token exchange (Qianfan), JWTs (Zhipu), SigV4 and TC3.
// A signer never logs or returns the secret it holds.

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>

#include "core/result.hpp"
#include "net/http_client.hpp"

namespace modelmux::auth {

class Signer {
 public:
  virtual ~Signer() = default;
  // Adds credentials to `request` (headers, query or body signature). Thread-safe. Signers that
  // need I/O (a token exchange) return is_async() and implement SignAsync instead.
  [[nodiscard]] virtual Status Sign(net::ClientRequest& request) const = 0;

  // For signers that fetch credentials over the network (Qianfan's API_KEY + SECRET_KEY
  // exchange): called instead of Sign when is_async(), on the calling event loop.
  [[nodiscard]] virtual bool is_async() const { return false; }
  virtual boost::asio::awaitable<Status> SignAsync(net::ClientRequest& request) const;
  // The provider said the credentials are stale (e.g. Qianfan error 110/111): the next
  // SignAsync fetches new ones. No-op for static keys.
  virtual void Invalidate() const {}
};

// `Authorization: Bearer KEY`; no header at all when the key is empty (local servers).
[[nodiscard]] std::unique_ptr<Signer> MakeBearerSigner(std::string key);
// `HEADER: KEY`, e.g. `api-key` (Azure) or `x-api-key` (Anthropic).
[[nodiscard]] std::unique_ptr<Signer> MakeHeaderKeySigner(std::string header, std::string key);

}  // namespace modelmux::auth
