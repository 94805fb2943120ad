#include "core/error.hpp"

namespace modelmux {

int HttpStatusFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidRequest:
      return 400;
    case ErrorKind::kAuthentication:
      return 401;
    case ErrorKind::kBilling:
      return 402;
    case ErrorKind::kPermission:
      return 403;
    case ErrorKind::kNotFound:
      return 404;
    case ErrorKind::kPayloadTooLarge:
      return 413;
    case ErrorKind::kContextLength:
      return 400;
    case ErrorKind::kContentFilter:
      return 400;
    case ErrorKind::kRateLimited:
      return 429;
    case ErrorKind::kQuotaExhausted:
      return 429;
    case ErrorKind::kBudgetExceeded:
      return 403;  // a spent budget is a permission matter: no retry or wait fixes it
    case ErrorKind::kHeadersTooLarge:
      return 431;
    case ErrorKind::kUpstreamError:
      return 502;
    case ErrorKind::kUnavailable:
      return 503;
    case ErrorKind::kOverloaded:
      return 503;
    case ErrorKind::kTimeout:
      return 504;
    case ErrorKind::kCancelled:
      return 499;
    case ErrorKind::kInternal:
      return 500;
  }
  return 500;
}

RetryClass RetryClassFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kRateLimited:
    case ErrorKind::kUpstreamError:
    case ErrorKind::kUnavailable:
    case ErrorKind::kOverloaded:
    case ErrorKind::kTimeout:
      return RetryClass::kRetry;
    default:
      return RetryClass::kNever;
  }
}

std::string_view ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidRequest:
      return "invalid_request";
    case ErrorKind::kAuthentication:
      return "authentication";
    case ErrorKind::kBilling:
      return "billing";
    case ErrorKind::kPermission:
      return "permission";
    case ErrorKind::kNotFound:
      return "not_found";
    case ErrorKind::kPayloadTooLarge:
      return "payload_too_large";
    case ErrorKind::kContextLength:
      return "context_length";
    case ErrorKind::kContentFilter:
      return "content_filter";
    case ErrorKind::kRateLimited:
      return "rate_limited";
    case ErrorKind::kQuotaExhausted:
      return "quota_exhausted";
    case ErrorKind::kBudgetExceeded:
      return "budget_exceeded";
    case ErrorKind::kHeadersTooLarge:
      return "headers_too_large";
    case ErrorKind::kUpstreamError:
      return "upstream_error";
    case ErrorKind::kUnavailable:
      return "unavailable";
    case ErrorKind::kOverloaded:
      return "overloaded";
    case ErrorKind::kTimeout:
      return "timeout";
    case ErrorKind::kCancelled:
      return "cancelled";
    case ErrorKind::kInternal:
      return "internal";
  }
  return "internal";
}

ErrorKind KindForHttpStatus(int status) {
  switch (status) {
    case 400:
      return ErrorKind::kInvalidRequest;
    case 401:
      return ErrorKind::kAuthentication;
    case 402:
      return ErrorKind::kBilling;
    case 403:
      return ErrorKind::kPermission;
    case 404:
      return ErrorKind::kNotFound;
    case 408:
      return ErrorKind::kTimeout;
    case 409:
      return ErrorKind::kUpstreamError;
    case 413:
      return ErrorKind::kPayloadTooLarge;
    case 422:
      return ErrorKind::kInvalidRequest;
    case 429:
      return ErrorKind::kRateLimited;
    case 431:
      return ErrorKind::kHeadersTooLarge;
    case 503:
      return ErrorKind::kUnavailable;
    case 504:
      return ErrorKind::kTimeout;
    case 529:
      return ErrorKind::kOverloaded;
    default:
      break;
  }
  if (status >= 500) return ErrorKind::kUpstreamError;
  if (status >= 400) return ErrorKind::kInvalidRequest;
  return ErrorKind::kUpstreamError;
}

int Error::HttpStatus() const {
  return HttpStatusFor(kind);
}
RetryClass Error::Retry() const {
  return RetryClassFor(kind);
}

std::string_view Error::OpenAiType() const {
  switch (kind) {
    case ErrorKind::kInvalidRequest:
    case ErrorKind::kContextLength:
    case ErrorKind::kContentFilter:
    case ErrorKind::kPayloadTooLarge:
    case ErrorKind::kHeadersTooLarge:
    case ErrorKind::kNotFound:
      return "invalid_request_error";
    case ErrorKind::kAuthentication:
      return "authentication_error";
    case ErrorKind::kPermission:
      return "permission_error";
    case ErrorKind::kBilling:
      return "billing_error";
    case ErrorKind::kRateLimited:
      return "rate_limit_error";
    case ErrorKind::kQuotaExhausted:
      return "insufficient_quota";
    case ErrorKind::kBudgetExceeded:
      return "budget_exceeded";
    case ErrorKind::kTimeout:
      return "timeout_error";
    case ErrorKind::kUnavailable:
    case ErrorKind::kOverloaded:
      return "service_unavailable";
    case ErrorKind::kUpstreamError:
      return "upstream_error";
    case ErrorKind::kCancelled:
      return "cancelled";
    case ErrorKind::kInternal:
      return "server_error";
  }
  return "server_error";
}

Error InvalidRequest(std::string message, std::string param, std::string code) {
  Error e;
  e.kind = ErrorKind::kInvalidRequest;
  e.message = std::move(message);
  e.param = std::move(param);
  e.code = std::move(code);
  return e;
}

Error NotFound(std::string message, std::string code) {
  Error e;
  e.kind = ErrorKind::kNotFound;
  e.message = std::move(message);
  e.code = std::move(code);
  return e;
}

Error Internal(std::string message) {
  Error e;
  e.kind = ErrorKind::kInternal;
  e.message = std::move(message);
  e.code = "internal_error";
  return e;
}

}  // namespace modelmux
