#include "dialects/qianfan/errors.hpp"

#include <cstdlib>
#include <string>

#include "dialects/qianfan/wire.hpp"
#include "text/redact.hpp"

namespace modelmux::dialects::qianfan {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

}  // namespace

ErrorKind KindForErrorCode(int64_t code) {
  switch (code) {
    case 4:
    case 18:
    case 336501:
    case 336502:
      return ErrorKind::kRateLimited;
    case 17:
    case 19:
      return ErrorKind::kQuotaExhausted;
    case 13:
    case 14:
    case 110:
    case 111:
      return ErrorKind::kAuthentication;
    case 6:
    case 336004:
      return ErrorKind::kPermission;
    case 15:
    case 336005:
      return ErrorKind::kNotFound;
    case 2:
    case 336000:
      return ErrorKind::kUnavailable;
    case 336100:
      return ErrorKind::kOverloaded;
    case 3:
    case 100:
    case 336001:
    case 336002:
    case 336003:
    case 336101:
    case 336104:
    case 336105:
      return ErrorKind::kInvalidRequest;
    default:
      return ErrorKind::kUpstreamError;
  }
}

std::optional<Error> ErrorFromBody(std::string_view body, int http_status) {
  auto v = Parse(body);
  if (!v || !v->is_object()) return std::nullopt;
  const json::object& o = v->get_object();
  const json::value* code_v = o.if_contains("error_code");
  if (code_v == nullptr) return std::nullopt;
  std::optional<int64_t> code = AsInt(*code_v);
  if (!code && code_v->is_string()) {
    const std::string s(code_v->get_string());
    char* end = nullptr;
    const long long n = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && end != nullptr && *end == '\0') code = n;
  }
  if (!code || *code == 0) return std::nullopt;  // error_code 0 is "no error"
  Error e;
  e.provider = "qianfan";
  e.kind = KindForErrorCode(*code);
  e.provider_code = std::to_string(*code);
  e.upstream_status = http_status;
  e.message = text::MaskSecrets(Str(o, "error_msg"));
  if (e.message.empty()) e.message = "Qianfan error " + e.provider_code;
  if (*code == 110 || *code == 111) {
    e.code = "token_expired";
  } else if (e.kind == ErrorKind::kRateLimited) {
    e.code = "rate_limit_exceeded";
  } else if (e.kind == ErrorKind::kQuotaExhausted) {
    e.code = "insufficient_quota";
  }
  return e;
}

Error DecodeError(int http_status, std::string_view body) {
  if (auto e = ErrorFromBody(body, http_status)) return *e;
  Error e;
  e.provider = "qianfan";
  e.kind = KindForHttpStatus(http_status);
  e.upstream_status = http_status;
  e.message = text::MaskSecrets(text::PrintablePrefix(body));
  if (e.message.empty()) e.message = "Qianfan answered HTTP " + std::to_string(http_status);
  return e;
}

bool IsStaleToken(const Error& e) {
  return e.kind == ErrorKind::kAuthentication && e.code == "token_expired";
}

}  // namespace modelmux::dialects::qianfan
