#include "dialects/bedrock/errors.hpp"

#include <cctype>

#include "dialects/bedrock/wire.hpp"
#include "text/redact.hpp"

namespace modelmux::dialects::bedrock {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

struct TypeRow {
  std::string_view type;
  ErrorKind kind;
};

constexpr TypeRow kTypes[] = {
    {"ValidationException", ErrorKind::kInvalidRequest},
    {"UnrecognizedClientException", ErrorKind::kAuthentication},
    {"InvalidSignatureException", ErrorKind::kAuthentication},
    {"IncompleteSignatureException", ErrorKind::kAuthentication},
    {"ExpiredTokenException", ErrorKind::kAuthentication},
    {"MissingAuthenticationTokenException", ErrorKind::kAuthentication},
    {"AccessDeniedException", ErrorKind::kPermission},
    {"ResourceNotFoundException", ErrorKind::kNotFound},
    {"ThrottlingException", ErrorKind::kRateLimited},
    {"TooManyRequestsException", ErrorKind::kRateLimited},
    {"ServiceQuotaExceededException", ErrorKind::kQuotaExhausted},
    {"ModelTimeoutException", ErrorKind::kTimeout},
    {"ModelNotReadyException", ErrorKind::kUnavailable},
    {"ServiceUnavailableException", ErrorKind::kUnavailable},
    {"InternalServerException", ErrorKind::kUpstreamError},
    {"ModelErrorException", ErrorKind::kUpstreamError},
    {"ModelStreamErrorException", ErrorKind::kUpstreamError},
};

bool Contains(std::string_view text, std::string_view what) {
  return text.find(what) != std::string_view::npos;
}

// Equal, ignoring the case of the first letter (stream types are lowerCamelCase).
bool SameType(std::string_view a, std::string_view b) {
  if (a.size() != b.size() || a.empty()) return false;
  return std::tolower(static_cast<unsigned char>(a[0])) ==
             std::tolower(static_cast<unsigned char>(b[0])) &&
         a.substr(1) == b.substr(1);
}

// The canonical (UpperCamelCase) name of a known type, else the type as given.
std::string Canonical(std::string_view type) {
  for (const auto& row : kTypes) {
    if (SameType(row.type, type)) return std::string(row.type);
  }
  return std::string(type);
}

// The exception AWS would have named in x-amzn-ErrorType, guessed from status and message.
std::string_view InferType(int status, std::string_view message) {
  switch (status) {
    case 400:
      return "ValidationException";
    case 403:
      if (Contains(message, "signature")) return "InvalidSignatureException";
      if (Contains(message, "security token")) return "UnrecognizedClientException";
      return "AccessDeniedException";
    case 404:
      return "ResourceNotFoundException";
    case 408:
      return "ModelTimeoutException";
    case 424:
      return "ModelErrorException";
    case 429:
      return "ThrottlingException";
    case 500:
      return "InternalServerException";
    case 503:
      return "ServiceUnavailableException";
    default:
      return {};
  }
}

void Refine(Error& e) {
  if (e.kind == ErrorKind::kInvalidRequest &&
      (Contains(e.message, "too long") || Contains(e.message, "context window") ||
       Contains(e.message, "prompt is too long"))) {
    e.kind = ErrorKind::kContextLength;
    e.code = "context_length_exceeded";
  } else if (e.kind == ErrorKind::kAuthentication) {
    e.code = Contains(e.provider_code, "Signature") ? "invalid_signature" : "invalid_api_key";
  }
}

}  // namespace

std::string BareErrorType(std::string_view type) {
  if (const size_t hash = type.rfind('#'); hash != std::string_view::npos) {
    type = type.substr(hash + 1);
  }
  return std::string(type.substr(0, type.find(':')));
}

ErrorKind KindForErrorType(std::string_view type, int http_status) {
  for (const auto& row : kTypes) {
    if (SameType(row.type, type)) return row.kind;
  }
  if (http_status == 0) return ErrorKind::kUpstreamError;
  return KindForHttpStatus(http_status);
}

Error DecodeError(int http_status, std::string_view body) {
  Error e;
  e.provider = "bedrock";
  e.upstream_status = http_status;
  std::string type;
  auto v = Parse(body);
  if (v && v->is_object()) {
    const json::object& o = v->get_object();
    e.message = Str(o, "message");
    if (e.message.empty()) e.message = Str(o, "Message");
    type = BareErrorType(Str(o, "__type"));
    if (type.empty()) type = BareErrorType(Str(o, "code"));
  } else {
    e.message = text::PrintablePrefix(body);
  }
  if (type.empty()) type = std::string(InferType(http_status, e.message));
  e.provider_code = text::MaskSecrets(Canonical(type));
  e.kind = KindForErrorType(type, http_status);
  e.message = text::MaskSecrets(e.message);
  Refine(e);
  return e;
}

Error DecodeStreamException(std::string_view type, std::string_view payload) {
  Error e;
  e.provider = "bedrock";
  const std::string bare = BareErrorType(type);
  if (auto v = Parse(payload); v && v->is_object()) {
    e.message = Str(v->get_object(), "message");
    if (e.message.empty()) e.message = Str(v->get_object(), "Message");
    if (const json::value* status = v->get_object().if_contains("originalStatusCode")) {
      e.upstream_status = static_cast<int>(AsInt(*status).value_or(0));
    }
  } else {
    e.message = text::PrintablePrefix(payload);
  }
  if (e.message.empty()) e.message = "The upstream stream failed (" + bare + ")";
  e.provider_code = text::MaskSecrets(Canonical(bare));
  e.kind = KindForErrorType(bare, e.upstream_status);
  e.message = text::MaskSecrets(e.message);
  Refine(e);
  return e;
}

}  // namespace modelmux::dialects::bedrock
