#include "dialects/hunyuan/errors.hpp"

#include <string>

#include "dialects/hunyuan/wire.hpp"
#include "text/redact.hpp"

namespace modelmux::dialects::hunyuan {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool Contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

Error Make(ErrorKind kind, std::string provider_code, std::string message, int http_status) {
  Error e;
  e.provider = "hunyuan";
  e.kind = kind;
  e.provider_code = std::move(provider_code);
  e.upstream_status = http_status;
  e.message = text::MaskSecrets(message);
  if (e.message.empty()) e.message = "Hunyuan error " + e.provider_code;
  return e;
}

}  // namespace

ErrorKind KindForErrorCode(std::string_view code) {
  if (code == "AuthFailure.UnauthorizedOperation" || StartsWith(code, "UnauthorizedOperation")) {
    return ErrorKind::kPermission;
  }
  if (StartsWith(code, "AuthFailure")) return ErrorKind::kAuthentication;
  if (StartsWith(code, "LimitExceeded") || StartsWith(code, "RequestLimitExceeded") ||
      code == "FailedOperation.EngineServerLimitExceeded") {
    return ErrorKind::kRateLimited;
  }
  if (code == "ResourceInsufficient.ChargeResourceSoldOut" ||
      code == "ResourceUnavailable.InArrears" || code == "ResourceUnavailable.LowBalance" ||
      code == "FailedOperation.ServiceStopArrears" ||
      code == "FailedOperation.FreeResourcePackExhausted" ||
      code == "FailedOperation.ResourcePackExhausted") {
    return ErrorKind::kBilling;
  }
  if (code == "FailedOperation.ServiceNotActivated" || code == "FailedOperation.ServiceStop" ||
      code == "ResourceUnavailable.NotExist" || code == "ResourceUnavailable.StopUsing") {
    return ErrorKind::kPermission;
  }
  if (StartsWith(code, "OperationDenied")) {
    return Contains(code, "Illegal") || Contains(code, "Sensitive") ? ErrorKind::kContentFilter
                                                                    : ErrorKind::kPermission;
  }
  if (StartsWith(code, "InvalidParameter") || StartsWith(code, "MissingParameter") ||
      StartsWith(code, "UnknownParameter") || code == "InvalidAction" || code == "InvalidRequest" ||
      StartsWith(code, "UnsupportedOperation") || code == "UnsupportedProtocol" ||
      code == "UnsupportedRegion") {
    return ErrorKind::kInvalidRequest;
  }
  if (code == "RequestSizeLimitExceeded") return ErrorKind::kPayloadTooLarge;
  if (StartsWith(code, "ResourceNotFound")) return ErrorKind::kNotFound;
  if (code == "FailedOperation.EngineRequestTimeout") return ErrorKind::kTimeout;
  if (code == "ServiceUnavailable" || StartsWith(code, "ResourceUnavailable")) {
    return ErrorKind::kUnavailable;
  }
  return ErrorKind::kUpstreamError;
}

std::optional<Error> ErrorFromBody(std::string_view body, int http_status) {
  auto v = Parse(body);
  if (!v || !v->is_object()) return std::nullopt;
  const json::object* o = &v->get_object();
  if (const json::object* inner = Obj(*o, "Response")) o = inner;
  if (const json::object* err = Obj(*o, "Error")) {
    const std::string code = Str(*err, "Code");
    if (code.empty()) return std::nullopt;
    return Make(KindForErrorCode(code), code, Str(*err, "Message"), http_status);
  }
  if (const json::object* msg = Obj(*o, "ErrorMsg")) {
    const json::value* code_v = msg->if_contains("Code");
    const std::optional<int64_t> code = code_v != nullptr ? AsInt(*code_v) : std::nullopt;
    if (!code || *code == 0) return std::nullopt;
    return Make(*code == 4001 ? ErrorKind::kTimeout : ErrorKind::kUpstreamError,
                std::to_string(*code), Str(*msg, "Msg"), http_status);
  }
  return std::nullopt;
}

Error DecodeError(int http_status, std::string_view body) {
  if (auto e = ErrorFromBody(body, http_status)) return *e;
  Error e;
  e.provider = "hunyuan";
  e.kind = KindForHttpStatus(http_status);
  e.upstream_status = http_status;
  e.message = text::MaskSecrets(text::PrintablePrefix(body));
  if (e.message.empty()) e.message = "Hunyuan answered HTTP " + std::to_string(http_status);
  return e;
}

}  // namespace modelmux::dialects::hunyuan
