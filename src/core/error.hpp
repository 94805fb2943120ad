#pragma once
// The one error taxonomy of modelmux. Every failure on the request path is an Error value: a kind
// (which decides the HTTP status and whether a retry may help), a message meant for the caller, and
// the provider's own code and status kept aside. Messages never contain secrets.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace modelmux {

enum class ErrorKind {
  kInvalidRequest,   // 400
  kAuthentication,   // 401
  kBilling,          // 402, never retried
  kPermission,       // 403
  kNotFound,         // 404
  kPayloadTooLarge,  // 413
  kContextLength,    // 400
  kContentFilter,    // 400
  kRateLimited,      // 429, retried
  kQuotaExhausted,   // 429, never retried (e.g. insufficient_quota)
  kBudgetExceeded,   // 403, never retried, names the budget and what is left
  kHeadersTooLarge,  // 431
  kUpstreamError,    // 502, retried
  kUnavailable,      // 503, retried
  kOverloaded,       // 503, retried (e.g. Anthropic 529)
  kTimeout,          // 504, retried
  kCancelled,        // the caller went away; never sent to anyone
  kInternal,         // 500, a bug of ours
};

enum class RetryClass {
  kNever,  // the same request cannot succeed
  kRetry,  // another attempt (after backoff) may succeed
};

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string message;        // for the caller; no secrets, no prose instructions
  std::string param;          // the request field at fault, if any
  std::string code;           // stable machine code, e.g. "model_not_found"
  std::string provider;       // provider that produced it, empty if ours
  std::string provider_code;  // the provider's own code or type, kept verbatim (masked)
  int upstream_status = 0;    // the provider's HTTP status, 0 if none
  std::optional<std::chrono::milliseconds> retry_after;  // server hint, if any
  std::optional<bool> should_retry;  // the upstream's x-should-retry verdict, if it gave one

  [[nodiscard]] int HttpStatus() const;
  [[nodiscard]] RetryClass Retry() const;
  // The OpenAI `error.type` string for this kind, e.g. "invalid_request_error".
  [[nodiscard]] std::string_view OpenAiType() const;
};

[[nodiscard]] std::string_view ErrorKindName(ErrorKind kind);
[[nodiscard]] int HttpStatusFor(ErrorKind kind);
[[nodiscard]] RetryClass RetryClassFor(ErrorKind kind);
// Maps an HTTP status from an upstream with no better information to a kind.
[[nodiscard]] ErrorKind KindForHttpStatus(int status);

// Convenience constructors.
[[nodiscard]] Error InvalidRequest(std::string message, std::string param = {},
                                   std::string code = {});
[[nodiscard]] Error NotFound(std::string message, std::string code = {});
[[nodiscard]] Error Internal(std::string message);

}  // namespace modelmux
