#pragma once
// Signers put a provider's credentials on an outgoing request. Foundation: bearer tokens and
// header keys; the Providers work adds token exchange (Qianfan), JWTs (Zhipu), SigV4 and TC3.
// A signer never logs or returns the secret it holds.

#include <memory>
#include <string>

#include "core/result.hpp"
#include "net/http_client.hpp"

namespace modelmux::auth {

class Signer {
 public:
  virtual ~Signer() = default;
  // Adds credentials to `request` (headers, query or body signature). Thread-safe.
  [[nodiscard]] virtual Status Sign(net::ClientRequest& request) const = 0;
};

// `Authorization: Bearer KEY`; no header at all when the key is empty (local servers).
[[nodiscard]] std::unique_ptr<Signer> MakeBearerSigner(std::string key);
// `HEADER: KEY`, e.g. `api-key` (Azure) or `x-api-key` (Anthropic).
[[nodiscard]] std::unique_ptr<Signer> MakeHeaderKeySigner(std::string header, std::string key);

}  // namespace modelmux::auth
