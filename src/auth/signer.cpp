#include "auth/signer.hpp"

namespace modelmux::auth {

boost::asio::awaitable<Status> Signer::SignAsync(net::ClientRequest& request) const {
  co_return Sign(request);
}

namespace {

class BearerSigner final : public Signer {
 public:
  explicit BearerSigner(std::string key) : key_(std::move(key)) {}
  Status Sign(net::ClientRequest& request) const override {
    if (!key_.empty()) request.headers.Set("authorization", "Bearer " + key_);
    return OkStatus();
  }

 private:
  std::string key_;
};

class HeaderKeySigner final : public Signer {
 public:
  HeaderKeySigner(std::string header, std::string key)
      : header_(std::move(header)), key_(std::move(key)) {}
  Status Sign(net::ClientRequest& request) const override {
    if (!key_.empty()) request.headers.Set(header_, key_);
    return OkStatus();
  }

 private:
  std::string header_;
  std::string key_;
};

}  // namespace

std::unique_ptr<Signer> MakeBearerSigner(std::string key) {
  return std::make_unique<BearerSigner>(std::move(key));
}
std::unique_ptr<Signer> MakeHeaderKeySigner(std::string header, std::string key) {
  return std::make_unique<HeaderKeySigner>(std::move(header), std::move(key));
}

}  // namespace modelmux::auth
