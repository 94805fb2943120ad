#include "auth/zhipu_signer.hpp"

#include <chrono>

#include "auth/zhipu_jwt.hpp"

namespace modelmux::auth {
namespace {

class ZhipuJwtSigner final : public Signer {
 public:
  ZhipuJwtSigner(std::unique_ptr<ZhipuTokenCache> cache, UnixMsClock now_ms)
      : cache_(std::move(cache)), now_ms_(std::move(now_ms)) {}
  Status Sign(net::ClientRequest& request) const override {
    request.headers.Set("authorization", "Bearer " + cache_->Get(now_ms_()));
    return OkStatus();
  }

 private:
  std::unique_ptr<ZhipuTokenCache> cache_;  // thread-safe itself
  UnixMsClock now_ms_;
};

}  // namespace

int64_t SystemUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool IsZhipuIdSecretKey(std::string_view key) {
  size_t dot = key.find('.');
  return dot != std::string_view::npos && dot > 0 && dot + 1 < key.size();
}

std::unique_ptr<Signer> MakeZhipuSigner(std::string key, UnixMsClock now_ms) {
  if (IsZhipuIdSecretKey(key)) {
    auto cache = ZhipuTokenCache::Create(key);
    if (cache.ok())
      return std::make_unique<ZhipuJwtSigner>(std::move(cache).value(), std::move(now_ms));
  }
  return MakeBearerSigner(std::move(key));
}

}  // namespace modelmux::auth
