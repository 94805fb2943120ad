#pragma once
// Zhipu (open.bigmodel.cn / Z.ai) HS256 JWTs made from an API key `{id}.{secret}`, and a
// thread-safe cache that reuses a token until shortly before it expires. Times are Unix
// milliseconds passed in by the caller (no clock inside).

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace modelmux::auth {

inline constexpr int64_t kZhipuTokenTtlMs = 3 * 60 * 1000;   // the reference SDK's TTL
inline constexpr int64_t kZhipuRefreshMarginMs = 30 * 1000;  // refresh 30 s before exp

// token = b64url({"alg":"HS256","sign_type":"SIGN"}) + "." +
//         b64url({"api_key":id,"exp":now_ms+ttl_ms,"timestamp":now_ms}) + "." +
//         b64url(HMAC-SHA256(secret, first two parts joined by "."))      (no '=' padding)
// Errors: kAuthentication, code "zhipu_api_key_invalid", when the key has no '.', or an empty id
// or secret (the message never contains the key); kInvalidRequest when ttl_ms <= 0.
[[nodiscard]] Result<std::string> MakeZhipuJwt(std::string_view api_key, int64_t now_ms,
                                               int64_t ttl_ms = kZhipuTokenTtlMs);

// Holds one API key and the last token made from it. Get() returns the cached token while
// now_ms < exp - kZhipuRefreshMarginMs, otherwise mints a new one. Thread-safe (one mutex; minting
// is a few microseconds). Not copyable.
class ZhipuTokenCache {
 public:
  // Validates the key. Errors as MakeZhipuJwt.
  [[nodiscard]] static Result<std::unique_ptr<ZhipuTokenCache>> Create(
      std::string api_key, int64_t ttl_ms = kZhipuTokenTtlMs);

  ZhipuTokenCache(const ZhipuTokenCache&) = delete;
  ZhipuTokenCache& operator=(const ZhipuTokenCache&) = delete;

  [[nodiscard]] std::string Get(int64_t now_ms);

 private:
  ZhipuTokenCache(std::string api_key, int64_t ttl_ms)
      : api_key_(std::move(api_key)), ttl_ms_(ttl_ms) {}

  const std::string api_key_;
  const int64_t ttl_ms_;
  std::mutex mu_;
  std::string token_;       // guarded by mu_
  int64_t expires_ms_ = 0;  // guarded by mu_
};

}  // namespace modelmux::auth
