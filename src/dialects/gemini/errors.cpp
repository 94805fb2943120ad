#include "dialects/gemini/errors.hpp"

#include <cmath>

#include "dialects/gemini/wire.hpp"
#include "text/redact.hpp"

namespace modelmux::dialects::gemini {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

struct StatusRow {
  std::string_view status;
  ErrorKind kind;
};

constexpr StatusRow kStatuses[] = {
    {"INVALID_ARGUMENT", ErrorKind::kInvalidRequest},
    {"FAILED_PRECONDITION", ErrorKind::kInvalidRequest},
    {"OUT_OF_RANGE", ErrorKind::kInvalidRequest},
    {"UNAUTHENTICATED", ErrorKind::kAuthentication},
    {"PERMISSION_DENIED", ErrorKind::kPermission},
    {"NOT_FOUND", ErrorKind::kNotFound},
    {"RESOURCE_EXHAUSTED", ErrorKind::kRateLimited},
    {"INTERNAL", ErrorKind::kUpstreamError},
    {"UNKNOWN", ErrorKind::kUpstreamError},
    {"CANCELLED", ErrorKind::kUpstreamError},
    {"UNAVAILABLE", ErrorKind::kUnavailable},
    {"DEADLINE_EXCEEDED", ErrorKind::kTimeout},
};

bool Contains(std::string_view text, std::string_view what) {
  return text.find(what) != std::string_view::npos;
}

bool TypeIs(const json::object& detail, std::string_view name) {
  const std::string type = Str(detail, "@type");
  return type.size() >= name.size() &&
         type.compare(type.size() - name.size(), name.size(), name) == 0;
}

// The error object of a body: {"error":{...}} or [{"error":{...}}].
const json::object* ErrorObject(const json::value& v) {
  const json::value* root = &v;
  if (root->is_array() && !root->get_array().empty()) root = &root->get_array()[0];
  if (!root->is_object()) return nullptr;
  return ObjectOf(root->get_object(), "error");
}

}  // namespace

ErrorKind KindForStatus(std::string_view status, int http_status) {
  for (const auto& row : kStatuses) {
    if (row.status == status) return row.kind;
  }
  return KindForHttpStatus(http_status);
}

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  if (text.size() < 2 || text.back() != 's') return std::nullopt;
  text.remove_suffix(1);
  double seconds = 0;
  double scale = 0;  // 0 before the decimal point, then 0.1, 0.01, ...
  for (char c : text) {
    if (c == '.' && scale == 0) {
      scale = 0.1;
    } else if (c >= '0' && c <= '9') {
      if (scale == 0) {
        seconds = seconds * 10 + (c - '0');
      } else {
        seconds += (c - '0') * scale;
        scale /= 10;
      }
    } else {
      return std::nullopt;
    }
  }
  // Round up (a hint of 0.0001s still means "wait a little"), guarding float noise.
  const double ms = std::ceil(seconds * 1000.0 - 1e-6);
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

Error DecodeError(int http_status, std::string_view body) {
  Error e;
  e.provider = "gemini";
  e.upstream_status = http_status;
  std::string status, reason;
  bool quota_failure = false;
  auto v = Parse(body);
  const json::object* err = v ? ErrorObject(*v) : nullptr;
  if (err != nullptr) {
    e.message = Str(*err, "message");
    status = Str(*err, "status");
    if (http_status / 100 == 2) {
      if (const json::value* code = err->if_contains("code")) {
        e.upstream_status = static_cast<int>(AsInt(*code).value_or(500));
      }
    }
    if (const json::array* details = ArrayOf(*err, "details")) {
      for (const auto& d : *details) {
        if (!d.is_object()) continue;
        const json::object& detail = d.get_object();
        if (TypeIs(detail, "google.rpc.RetryInfo")) {
          e.retry_after = ParseDuration(Str(detail, "retryDelay"));
        } else if (TypeIs(detail, "google.rpc.ErrorInfo")) {
          reason = Str(detail, "reason");
        } else if (TypeIs(detail, "google.rpc.QuotaFailure")) {
          quota_failure = true;
        }
      }
    }
  } else {
    e.message = text::PrintablePrefix(body);
  }
  e.kind = KindForStatus(status, e.upstream_status);
  if (reason == "API_KEY_INVALID" || Contains(e.message, "API key not valid")) {
    e.kind = ErrorKind::kAuthentication;
    e.code = "invalid_api_key";
  } else if (e.kind == ErrorKind::kRateLimited && quota_failure && !e.retry_after) {
    e.kind = ErrorKind::kQuotaExhausted;
    e.code = "insufficient_quota";
  } else if (e.kind == ErrorKind::kInvalidRequest &&
             Contains(e.message, "exceeds the maximum number of tokens")) {
    e.kind = ErrorKind::kContextLength;
    e.code = "context_length_exceeded";
  } else if (e.kind == ErrorKind::kInvalidRequest && Contains(e.message, "payload size exceeds")) {
    e.kind = ErrorKind::kPayloadTooLarge;
  }
  e.message = text::MaskSecrets(e.message);
  e.provider_code = text::MaskSecrets(reason.empty() ? status : reason);
  return e;
}

}  // namespace modelmux::dialects::gemini
