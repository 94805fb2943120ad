#include "dialects/openai/errors.hpp"

#include "dialects/openai/json_util.hpp"
#include "text/redact.hpp"

namespace modelmux::dialects::openai {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

std::string ScalarText(const json::value* v) {
  if (v == nullptr || v->is_null()) return {};
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_int64() || v->is_uint64() || v->is_double()) return json::serialize(*v);
  return {};
}

bool Contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

}  // namespace

Error DecodeError(int http_status, std::string_view body, std::string_view provider) {
  Error e;
  e.provider = std::string(provider);
  e.upstream_status = http_status;
  std::string type, code;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  const json::object* err = nullptr;
  if (!ec && v.is_object()) {
    const json::value* inner = v.get_object().if_contains("error");
    if (inner != nullptr && inner->is_object())
      err = &inner->get_object();
    else if (inner != nullptr && inner->is_string())
      e.message = std::string(inner->get_string());
  }
  if (err != nullptr) {
    e.message = ScalarText(err->if_contains("message"));
    type = ScalarText(err->if_contains("type"));
    code = ScalarText(err->if_contains("code"));
    e.param = ScalarText(err->if_contains("param"));
  } else if (e.message.empty()) {
    e.message = text::PrintablePrefix(body);
  }
  e.message = text::MaskSecrets(e.message);
  e.provider_code = text::MaskSecrets(code.empty() ? type : code);

  if (http_status == 429) {
    e.kind = (code == "insufficient_quota" || type == "insufficient_quota")
                 ? ErrorKind::kQuotaExhausted
                 : ErrorKind::kRateLimited;
  } else if (code == "context_length_exceeded" || type == "context_length_exceeded") {
    e.kind = ErrorKind::kContextLength;
  } else if (code == "content_filter" || type == "content_filter" ||
             Contains(code, "content_policy")) {
    e.kind = ErrorKind::kContentFilter;
  } else {
    e.kind = KindForHttpStatus(http_status);
  }
  if (e.kind == ErrorKind::kQuotaExhausted) e.code = "insufficient_quota";
  if (e.kind == ErrorKind::kContextLength) e.code = "context_length_exceeded";
  if (e.kind == ErrorKind::kContentFilter) e.code = "content_filter";
  return e;
}

std::string EncodeError(const Error& e) {
  json::object err;
  err["message"] = text::MaskSecrets(e.message);
  err["type"] = e.OpenAiType();
  err["param"] = e.param.empty() ? json::value(nullptr) : json::value(e.param);
  const std::string& code = !e.code.empty() ? e.code : e.provider_code;
  err["code"] = code.empty() ? json::value(nullptr) : json::value(text::MaskSecrets(code));
  return json::serialize(json::object{{"error", std::move(err)}});
}

}  // namespace modelmux::dialects::openai
