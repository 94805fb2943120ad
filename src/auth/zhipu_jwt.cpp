#include "auth/zhipu_jwt.hpp"

#include <cstdio>

#include "auth/crypto.hpp"
#include "core/json_escape.hpp"

namespace modelmux::auth {
namespace {

Error BadKey(std::string message) {
  Error e;
  e.kind = ErrorKind::kAuthentication;
  e.message = std::move(message);
  e.code = "zhipu_api_key_invalid";
  e.provider = "zhipu";
  return e;
}

// JSON string literal (quotes included) with the escapes RFC 8259 requires.
std::string JsonString(std::string_view s) {
  std::string out = "\"";
  AppendJsonEscaped(out, s);
  out += '"';
  return out;
}

}  // namespace

Result<std::string> MakeZhipuJwt(std::string_view api_key, int64_t now_ms, int64_t ttl_ms) {
  size_t dot = api_key.find('.');
  if (dot == std::string_view::npos) return BadKey("Zhipu API key is not of the form id.secret");
  std::string_view id = api_key.substr(0, dot);
  std::string_view secret = api_key.substr(dot + 1);
  if (id.empty() || secret.empty()) return BadKey("Zhipu API key has an empty id or secret");
  if (ttl_ms <= 0) return InvalidRequest("Zhipu token TTL must be positive");

  static const std::string kHeader = Base64UrlNoPad(R"({"alg":"HS256","sign_type":"SIGN"})");
  std::string payload = "{\"api_key\":" + JsonString(id) +
                        ",\"exp\":" + std::to_string(now_ms + ttl_ms) +
                        ",\"timestamp\":" + std::to_string(now_ms) + "}";
  std::string signing_input = kHeader + "." + Base64UrlNoPad(payload);
  std::string signature = Base64UrlNoPad(HmacSha256(secret, signing_input));
  return signing_input + "." + signature;
}

Result<std::unique_ptr<ZhipuTokenCache>> ZhipuTokenCache::Create(std::string api_key,
                                                                 int64_t ttl_ms) {
  MM_TRY(std::string probe, MakeZhipuJwt(api_key, 0, ttl_ms));
  (void)probe;
  return std::unique_ptr<ZhipuTokenCache>(new ZhipuTokenCache(std::move(api_key), ttl_ms));
}

std::string ZhipuTokenCache::Get(int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!token_.empty() && now_ms < expires_ms_ - kZhipuRefreshMarginMs) return token_;
  Result<std::string> token = MakeZhipuJwt(api_key_, now_ms, ttl_ms_);
  // The key was validated by Create; MakeZhipuJwt cannot fail for it.
  token_ = token.ok() ? std::move(token).value() : std::string();
  expires_ms_ = now_ms + ttl_ms_;
  return token_;
}

}  // namespace modelmux::auth
