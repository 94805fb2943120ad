#include "dialects/anthropic/errors.hpp"

#include "dialects/anthropic/wire.hpp"
#include "text/redact.hpp"

namespace modelmux::dialects::anthropic {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

struct TypeRow {
  std::string_view type;
  ErrorKind kind;
  int status;
};

constexpr TypeRow kTypes[] = {
    {"invalid_request_error", ErrorKind::kInvalidRequest, 400},
    {"authentication_error", ErrorKind::kAuthentication, 401},
    {"billing_error", ErrorKind::kBilling, 402},
    {"permission_error", ErrorKind::kPermission, 403},
    {"not_found_error", ErrorKind::kNotFound, 404},
    {"request_too_large", ErrorKind::kPayloadTooLarge, 413},
    {"rate_limit_error", ErrorKind::kRateLimited, 429},
    {"api_error", ErrorKind::kUpstreamError, 500},
    {"timeout_error", ErrorKind::kTimeout, 504},
    {"overloaded_error", ErrorKind::kOverloaded, 529},
};

const TypeRow* FindType(std::string_view type) {
  for (const auto& row : kTypes) {
    if (row.type == type) return &row;
  }
  return nullptr;
}

bool SaysPromptTooLong(std::string_view message) {
  return message.find("prompt is too long") != std::string_view::npos ||
         message.find("exceed context limit") != std::string_view::npos;
}

// Fills kind, message and provider_code from a body; `status` 0 means "use the type's status".
Error FromBody(int status, std::string_view body) {
  Error e;
  e.provider = "anthropic";
  std::string type;
  auto v = Parse(body);
  const json::object* err = nullptr;
  if (v && v->is_object()) {
    const json::value* inner = v->get_object().if_contains("error");
    if (inner != nullptr && inner->is_object()) err = &inner->get_object();
  }
  if (err != nullptr) {
    type = Str(*err, "type");
    e.message = Str(*err, "message");
  } else {
    e.message = text::PrintablePrefix(body);
  }
  if (status == 0) {
    const TypeRow* row = FindType(type);
    status = row != nullptr ? row->status : 500;
  }
  e.upstream_status = status;
  e.kind = KindForErrorType(type, status);
  if (e.kind == ErrorKind::kInvalidRequest && SaysPromptTooLong(e.message)) {
    e.kind = ErrorKind::kContextLength;
    e.code = "context_length_exceeded";
  }
  e.message = text::MaskSecrets(e.message);
  e.provider_code = text::MaskSecrets(type);
  return e;
}

}  // namespace

ErrorKind KindForErrorType(std::string_view type, int http_status) {
  if (const TypeRow* row = FindType(type)) return row->kind;
  if (http_status == 529) return ErrorKind::kOverloaded;
  return KindForHttpStatus(http_status);
}

std::string_view ErrorTypeFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidRequest:
    case ErrorKind::kContextLength:
    case ErrorKind::kContentFilter:
    case ErrorKind::kHeadersTooLarge:
      return "invalid_request_error";
    case ErrorKind::kAuthentication:
      return "authentication_error";
    case ErrorKind::kBilling:
      return "billing_error";
    case ErrorKind::kPermission:
      return "permission_error";
    case ErrorKind::kNotFound:
      return "not_found_error";
    case ErrorKind::kPayloadTooLarge:
      return "request_too_large";
    case ErrorKind::kRateLimited:
    case ErrorKind::kQuotaExhausted:
      return "rate_limit_error";
    case ErrorKind::kBudgetExceeded:
      return "permission_error";
    case ErrorKind::kOverloaded:
      return "overloaded_error";
    case ErrorKind::kTimeout:
      return "timeout_error";
    case ErrorKind::kUpstreamError:
    case ErrorKind::kUnavailable:
    case ErrorKind::kCancelled:
    case ErrorKind::kInternal:
      break;
  }
  return "api_error";
}

Error DecodeError(int http_status, std::string_view body) {
  return FromBody(http_status, body);
}

Error DecodeStreamError(std::string_view data) {
  return FromBody(0, data);
}

std::string EncodeError(const Error& e) {
  json::object err{{"type", ErrorTypeFor(e.kind)}, {"message", text::MaskSecrets(e.message)}};
  return json::serialize(json::object{{"type", "error"}, {"error", std::move(err)}});
}

}  // namespace modelmux::dialects::anthropic
