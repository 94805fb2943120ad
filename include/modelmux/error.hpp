#pragma once
// modelmux::Error and modelmux::Expected<T>: how every SDK call reports failure. Errors are values;
// the SDK never throws on the request path.

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace modelmux::sdk {

// One failure. `kind` is a stable name from modelmux's taxonomy (docs/SDK.md lists them):
//   invalid_request 400, authentication 401, billing 402, permission 403, not_found 404,
//   payload_too_large 413, context_length 400, content_filter 400, rate_limited 429,
//   quota_exhausted 429, budget_exceeded 429, headers_too_large 431, upstream_error 502,
//   unavailable 503, overloaded 503, timeout 504, cancelled, internal 500.
// A cheap value: copy it, store it, compare its fields.
struct Error {
  std::string kind = "internal";
  int http_status = 500;      // the status a gateway would answer with for this kind
  std::string message;        // for people; never contains secrets
  std::string code;           // stable machine code, e.g. "model_not_found"; may be empty
  std::string param;          // the request field at fault ("model", "messages[0].role"), if any
  std::string provider;       // the provider that produced the error; empty when modelmux did
  std::string provider_code;  // the provider's own error code or type, verbatim (masked)
  int upstream_status = 0;    // the provider's HTTP status; 0 when no provider answered
  bool retryable = false;     // another attempt (after a pause) may succeed
  std::optional<std::chrono::milliseconds> retry_after;  // the provider's hint, if any

  // "rate_limited (429): message [code]" — for logs and diagnostics.
  [[nodiscard]] std::string ToString() const {
    std::string s = kind + " (" + std::to_string(http_status) + ")";
    if (!message.empty()) s += ": " + message;
    if (!code.empty()) s += " [" + code + "]";
    if (!provider.empty()) s += " provider=" + provider;
    return s;
  }
};

// A T or an Error. Check ok() (or convert to bool) before value(): value() on an error (and error()
// on a value) throws std::bad_variant_access, which is a bug in the calling code.
template <class T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit
  Expected(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  [[nodiscard]] bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace modelmux::sdk

#ifndef MODELMUX_BUILDING_SDK
namespace modelmux {
using sdk::Error;
using sdk::Expected;
}  // namespace modelmux
#endif
