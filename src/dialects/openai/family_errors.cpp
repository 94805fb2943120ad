#include "dialects/openai/family_errors.hpp"

#include <charconv>
#include <optional>

#include "dialects/openai/errors.hpp"
#include "dialects/openai/json_util.hpp"

namespace modelmux::dialects::openai {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

void Reclassify(Error& e, ErrorKind kind, std::string_view code) {
  e.kind = kind;
  e.code = std::string(code);
}

bool Contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

// The `error.innererror` object of an Azure body, if any.
const json::object* InnerError(const json::value& body) {
  if (!body.is_object()) return nullptr;
  const json::value* err = body.get_object().if_contains("error");
  if (err == nullptr || !err->is_object()) return nullptr;
  const json::value* inner = err->get_object().if_contains("innererror");
  return inner != nullptr && inner->is_object() ? &inner->get_object() : nullptr;
}

std::optional<int> NumericCode(std::string_view code) {
  int n = 0;
  auto [end, ec] = std::from_chars(code.data(), code.data() + code.size(), n);
  if (ec != std::errc() || end != code.data() + code.size()) return std::nullopt;
  return n;
}

}  // namespace

Error DecodeAzureError(int http_status, std::string_view body) {
  Error e = DecodeError(http_status, body, "azure");
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (!ec) {
    if (const json::object* inner = InnerError(v)) {
      const json::value* code = inner->if_contains("code");
      bool policy = code != nullptr && code->is_string() &&
                    code->get_string() == "ResponsibleAIPolicyViolation";
      if (policy || inner->contains("content_filter_result") ||
          inner->contains("content_filter_results")) {
        Reclassify(e, ErrorKind::kContentFilter, "content_filter");
      }
    }
  }
  if (e.provider_code == "DeploymentNotFound") {
    Reclassify(e, ErrorKind::kNotFound, "model_not_found");
  }
  return e;
}

Error DecodeZhipuError(int http_status, std::string_view body) {
  Error e = DecodeError(http_status, body, "zhipu");
  std::optional<int> code = NumericCode(e.provider_code);
  if (!code) return e;
  const int c = *code;
  if (c >= 1000 && c <= 1004) {
    Reclassify(e, ErrorKind::kAuthentication, "invalid_api_key");
  } else if (c == 1113) {
    Reclassify(e, ErrorKind::kBilling, "insufficient_balance");
  } else if (c >= 1110 && c <= 1121) {
    Reclassify(e, ErrorKind::kPermission, "");
  } else if (c == 1211) {
    Reclassify(e, ErrorKind::kNotFound, "model_not_found");
  } else if (c >= 1210 && c <= 1234) {
    Reclassify(e, ErrorKind::kInvalidRequest, "");
  } else if (c == 1301) {
    Reclassify(e, ErrorKind::kContentFilter, "content_filter");
  } else if (c == 1302 || c == 1303 || c == 1305) {
    Reclassify(e, ErrorKind::kRateLimited, "rate_limit_exceeded");
  }
  return e;
}

Error DecodeDeepSeekError(int http_status, std::string_view body) {
  Error e = DecodeError(http_status, body, "deepseek");
  if (http_status == 402) {
    Reclassify(e, ErrorKind::kBilling, "insufficient_balance");
  } else if (http_status == 422) {
    Reclassify(e, ErrorKind::kInvalidRequest, "invalid_parameters");
  } else if (http_status == 503) {
    Reclassify(e, ErrorKind::kOverloaded, "server_overloaded");
  } else if (http_status == 400 && Contains(e.message, "maximum context length")) {
    Reclassify(e, ErrorKind::kContextLength, "context_length_exceeded");
  }
  return e;
}

Error DecodeMoonshotError(int http_status, std::string_view body) {
  Error e = DecodeError(http_status, body, "moonshot");
  const std::string& type = e.provider_code;
  if (type == "exceeded_current_quota_error") {
    Reclassify(e, ErrorKind::kQuotaExhausted, "insufficient_quota");
  } else if (type == "rate_limit_reached_error") {
    Reclassify(e, ErrorKind::kRateLimited, "rate_limit_exceeded");
  } else if (type == "engine_overloaded_error") {
    Reclassify(e, ErrorKind::kOverloaded, "engine_overloaded");
  } else if (type == "invalid_authentication_error") {
    Reclassify(e, ErrorKind::kAuthentication, "invalid_api_key");
  } else if (type == "permission_denied_error") {
    Reclassify(e, ErrorKind::kPermission, "");
  } else if (type == "resource_not_found_error") {
    Reclassify(e, ErrorKind::kNotFound, "model_not_found");
  } else if (type == "invalid_request_error" && Contains(e.message, "token limit")) {
    Reclassify(e, ErrorKind::kContextLength, "context_length_exceeded");
  }
  return e;
}

}  // namespace modelmux::dialects::openai
