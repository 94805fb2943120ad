#include "dialects/ollama/errors.hpp"

#include <string>

#include "dialects/ollama/wire.hpp"
#include "text/redact.hpp"

namespace modelmux::dialects::ollama {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

Error Make(int http_status, std::string message) {
  Error e;
  e.provider = "ollama";
  e.kind = http_status / 100 == 2 ? ErrorKind::kUpstreamError : KindForHttpStatus(http_status);
  e.upstream_status = http_status;
  e.message = text::MaskSecrets(message);
  if (e.message.empty()) e.message = "Ollama answered HTTP " + std::to_string(http_status);
  if (http_status == 404) e.code = "model_not_found";
  return e;
}

}  // namespace

std::optional<Error> ErrorFromBody(std::string_view body, int http_status) {
  auto v = Parse(body);
  if (!v || !v->is_object()) return std::nullopt;
  const json::value* err = v->get_object().if_contains("error");
  if (err == nullptr || !err->is_string()) return std::nullopt;
  return Make(http_status, std::string(err->get_string()));
}

Error DecodeError(int http_status, std::string_view body) {
  if (auto e = ErrorFromBody(body, http_status)) return *e;
  return Make(http_status, text::PrintablePrefix(body));
}

}  // namespace modelmux::dialects::ollama
