#include "auth/tc3_signer.hpp"

#include "auth/tc3.hpp"
#include "net/url.hpp"

namespace modelmux::auth {
namespace {

Error Refused(std::string message) {
  return InvalidRequest(std::move(message), {}, "tc3_invalid_request");
}

class Tc3Signer final : public Signer {
 public:
  explicit Tc3Signer(Tc3SignerOptions options) : o_(std::move(options)) {}

  Status Sign(net::ClientRequest& request) const override {
    auto url = net::ParseUrl(request.url);
    if (!url.ok()) return Refused("TC3 cannot sign a request to an invalid URL");
    if (request.method != "POST") return Refused("TC3 signs POST requests only");
    if (url->target != "/") return Refused("TC3 signs requests to the path / only");
    Tc3Request r;
    r.host = url->HostHeader();
    r.action = std::string(request.headers.Get("X-TC-Action"));
    r.version = std::string(request.headers.Get("X-TC-Version"));
    if (r.action.empty() || r.version.empty()) {
      return Refused("TC3 needs the X-TC-Action and X-TC-Version headers");
    }
    r.region = o_.region;
    r.service = o_.service;
    r.body = request.body;
    if (auto ct = request.headers.Get("Content-Type"); !ct.empty()) r.content_type = ct;
    r.token = o_.token;
    const int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(o_.clock().time_since_epoch()).count();
    MM_TRY(auto headers, SignTc3(r, o_.secret_id, o_.secret_key, now));
    for (auto& [name, value] : headers) request.headers.Set(name, std::move(value));
    return OkStatus();
  }

 private:
  const Tc3SignerOptions o_;
};

}  // namespace

std::unique_ptr<Signer> MakeTc3Signer(Tc3SignerOptions options) {
  return std::make_unique<Tc3Signer>(std::move(options));
}

}  // namespace modelmux::auth
