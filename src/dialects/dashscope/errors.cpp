#include "dialects/dashscope/errors.hpp"

#include <string>

#include "dialects/dashscope/wire.hpp"
#include "text/redact.hpp"

namespace modelmux::dialects::dashscope {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool Contains(std::string_view s, std::string_view needle) {
  return s.find(needle) != std::string_view::npos;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view CodeFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kRateLimited:
      return "rate_limit_exceeded";
    case ErrorKind::kQuotaExhausted:
      return "insufficient_quota";
    case ErrorKind::kBilling:
      return "billing_required";
    case ErrorKind::kContentFilter:
      return "content_filter";
    case ErrorKind::kNotFound:
      return "model_not_found";
    case ErrorKind::kContextLength:
      return "context_length_exceeded";
    case ErrorKind::kAuthentication:
      return "invalid_api_key";
    default:
      return {};
  }
}

}  // namespace

ErrorKind KindForCode(std::string_view code, int http_status, std::string_view message) {
  const std::string msg = Lower(message);
  if (code == "InvalidApiKey" || StartsWith(code, "NotAuthorized")) {
    return ErrorKind::kAuthentication;
  }
  if (Contains(code, "FreeTierOnly")) return ErrorKind::kQuotaExhausted;
  if (code == "Throttling" || StartsWith(code, "Throttling.")) {
    return http_status == 403 ? ErrorKind::kQuotaExhausted : ErrorKind::kRateLimited;
  }
  if (code == "Arrearage") return ErrorKind::kBilling;
  if (code == "DataInspectionFailed" || code == "data_inspection_failed") {
    return ErrorKind::kContentFilter;
  }
  if (code == "AccessDenied" || StartsWith(code, "AccessDenied.") || code == "Model.AccessDenied" ||
      code == "Workspace.AccessDenied") {
    return ErrorKind::kPermission;
  }
  if (code == "ModelNotFound" || code == "model_not_found" || code == "NotFound") {
    return ErrorKind::kNotFound;
  }
  if (code == "RequestTooLarge" || code == "BadRequest.TooLarge") {
    return ErrorKind::kPayloadTooLarge;
  }
  if (code == "InvalidParameter" || StartsWith(code, "BadRequest") || code == "InvalidURL" ||
      StartsWith(code, "InvalidFile")) {
    if (Contains(msg, "input length") || Contains(msg, "context length") ||
        Contains(msg, "maximum context")) {
      return ErrorKind::kContextLength;
    }
    if (Contains(msg, "model not exist") || Contains(msg, "model not found")) {
      return ErrorKind::kNotFound;
    }
    return ErrorKind::kInvalidRequest;
  }
  if (code == "RequestTimeOut" || code == "InternalError.Timeout") return ErrorKind::kTimeout;
  if (code == "ServiceUnavailable" || code == "ModelUnavailable" || code == "ModelServiceFailed") {
    return ErrorKind::kUnavailable;
  }
  if (code == "InternalError" || StartsWith(code, "InternalError.") || code == "SystemError") {
    return ErrorKind::kUpstreamError;
  }
  return http_status >= 400 ? KindForHttpStatus(http_status) : ErrorKind::kUpstreamError;
}

std::optional<Error> ErrorFromBody(std::string_view body, int http_status) {
  auto v = Parse(body);
  if (!v || !v->is_object()) return std::nullopt;
  const json::object& o = v->get_object();
  const std::string code = Str(o, "code");
  if (code.empty()) return std::nullopt;
  Error e;
  e.provider = "dashscope";
  const std::string raw_message = Str(o, "message");
  e.kind = KindForCode(code, http_status, raw_message);
  e.provider_code = text::MaskSecrets(code);
  e.upstream_status = http_status;
  e.message = text::MaskSecrets(raw_message);
  if (e.message.empty()) e.message = "DashScope error " + e.provider_code;
  e.code = std::string(CodeFor(e.kind));
  return e;
}

Error DecodeError(int http_status, std::string_view body) {
  if (auto e = ErrorFromBody(body, http_status)) return *e;
  Error e;
  e.provider = "dashscope";
  e.kind = KindForHttpStatus(http_status);
  e.upstream_status = http_status;
  e.message = text::MaskSecrets(text::PrintablePrefix(body));
  if (e.message.empty()) e.message = "DashScope answered HTTP " + std::to_string(http_status);
  return e;
}

}  // namespace modelmux::dialects::dashscope
