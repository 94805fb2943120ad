#include "auth/sigv4_signer.hpp"

#include <cstdlib>

#include "net/url.hpp"

namespace modelmux::auth {
namespace {

class SigV4Signer final : public Signer {
 public:
  SigV4Signer(Result<AwsCredentials> credentials, std::string region, std::string service,
              SystemClock clock)
      : credentials_(std::move(credentials)),
        region_(std::move(region)),
        service_(std::move(service)),
        clock_(std::move(clock)) {}

  Status Sign(net::ClientRequest& request) const override {
    if (!credentials_.ok()) return credentials_.error();
    MM_TRY(net::Url url, net::ParseUrl(request.url));
    SigV4Request r;
    r.method = request.method;
    r.host = url.HostHeader();
    const size_t q = url.target.find('?');
    r.path = url.target.substr(0, q);
    if (q != std::string::npos) r.query = url.target.substr(q + 1);
    if (std::string_view type = request.headers.Get("content-type"); !type.empty()) {
      r.headers.emplace_back("content-type", std::string(type));
    }
    r.body = request.body;
    MM_TRY(HeaderPairs headers, SignV4(r, *credentials_, region_, service_, clock_()));
    for (auto& [name, value] : headers) request.headers.Set(name, std::move(value));
    return OkStatus();
  }

 private:
  Result<AwsCredentials> credentials_;
  std::string region_;
  std::string service_;
  SystemClock clock_;
};

}  // namespace

Result<AwsCredentials> ResolveAwsCredentials(const AwsCredentials& given, const EnvLookup& env) {
  if (!given.access_key_id.empty() && !given.secret_access_key.empty()) return given;
  std::string home;
  if (env) home = env("HOME").value_or("");
  return AwsCredentialsFrom(env, home);
}

EnvLookup ProcessEnvLookup() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());  // NOLINT: read-only use
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::unique_ptr<Signer> MakeSigV4Signer(AwsCredentials given, std::string region,
                                        std::string service, SystemClock clock, EnvLookup env) {
  if (region.empty()) region = "us-east-1";
  return std::make_unique<SigV4Signer>(ResolveAwsCredentials(given, env), std::move(region),
                                       std::move(service), std::move(clock));
}

}  // namespace modelmux::auth
