#include "sim/family.hpp"

#include <openssl/crypto.h>

#include <boost/json.hpp>

#include "auth/crypto.hpp"

namespace modelmux::sim {
namespace {

namespace json = boost::json;

constexpr int64_t kMinMillisecondExp = 100'000'000'000;  // below: a seconds timestamp

std::string CodeMessage(std::string_view code, std::string_view message) {
  return json::serialize(
      json::object{{"error", json::object{{"code", code}, {"message", message}}}});
}

std::string TypeMessage(std::string_view type, std::string_view message) {
  return json::serialize(
      json::object{{"error", json::object{{"type", type}, {"message", message}}}});
}

std::string OpenAiShape(std::string_view message, std::string_view type, std::string_view code) {
  return json::serialize(json::object{
      {"error",
       json::object{{"message", message}, {"type", type}, {"param", nullptr}, {"code", code}}}});
}

// The value of query parameter `name` in `target`; nullopt when absent.
std::optional<std::string_view> QueryParam(std::string_view target, std::string_view name) {
  size_t q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::optional<std::string> Base64UrlDecode(std::string_view in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '-') {
      v = 62;
    } else if (c == '_') {
      v = 63;
    } else if (c == '=') {
      break;
    } else {
      return std::nullopt;
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::optional<json::object> JsonPart(std::string_view part) {
  auto bytes = Base64UrlDecode(part);
  if (!bytes) return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(*bytes, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return v.get_object();
}

std::string_view BearerToken(const net::Headers& headers) {
  std::string_view auth = headers.Get("authorization");
  if (auth.size() > 7 && net::IEquals(auth.substr(0, 7), "bearer ")) return auth.substr(7);
  return auth;  // Portkey sends the raw key without the prefix
}

std::optional<FamilyRefusal> CheckAzure(std::string_view target, const net::Headers& headers,
                                        std::string_view require_key) {
  auto version = QueryParam(target, "api-version");
  if (!version || version->empty()) {
    return FamilyRefusal{404, CodeMessage("404", "Resource not found")};
  }
  if (!require_key.empty() && headers.Get("api-key") != require_key) {
    return FamilyRefusal{
        401, CodeMessage("401",
                         "Access denied due to invalid subscription key or wrong API endpoint. "
                         "Make sure to provide a valid key for an active subscription and use a "
                         "correct regional API endpoint for your resource.")};
  }
  return std::nullopt;
}

std::optional<FamilyRefusal> CheckZhipu(const net::Headers& headers, std::string_view require_key,
                                        int64_t now_ms) {
  if (require_key.empty()) return std::nullopt;
  if (!headers.Has("authorization")) {
    return FamilyRefusal{401, CodeMessage("1001", "Authorization header is missing")};
  }
  std::string_view token = BearerToken(headers);
  if (token == require_key) return std::nullopt;  // a plain API key
  std::string why = VerifyZhipuJwt(token, require_key, now_ms);
  if (why.empty()) return std::nullopt;
  return FamilyRefusal{401, CodeMessage("1000", "Authentication failed: " + why)};
}

std::optional<std::string> ZhipuStatus(int status) {
  switch (status) {
    case 400:
      return CodeMessage("1214", "Invalid parameter (simulated)");
    case 401:
      return CodeMessage("1000", "Authentication failed (simulated)");
    case 402:
      return CodeMessage("1113", "Your account is in arrears (simulated)");
    case 404:
      return CodeMessage("1211", "Model does not exist (simulated)");
    case 429:
      return CodeMessage("1302", "Concurrency too high for your account (simulated)");
    case 500:
      return CodeMessage("500", "Internal error (simulated)");
    default:
      return std::nullopt;
  }
}

std::optional<std::string> DeepSeekStatus(int status) {
  switch (status) {
    case 402:
      return OpenAiShape("Insufficient Balance", "unknown_error", "invalid_request_error");
    case 422:
      return OpenAiShape("Invalid parameters (simulated)", "invalid_request_error",
                         "invalid_request_error");
    case 503:
      return OpenAiShape("Server overloaded, please try again later (simulated)", "unknown_error",
                         "server_overloaded");
    default:
      return std::nullopt;
  }
}

std::optional<std::string> MoonshotStatus(int status) {
  switch (status) {
    case 400:
      return TypeMessage("invalid_request_error", "Invalid request (simulated)");
    case 401:
      return TypeMessage("invalid_authentication_error", "Invalid Authentication");
    case 404:
      return TypeMessage("resource_not_found_error", "Not found the model (simulated)");
    case 429:
      return TypeMessage("rate_limit_reached_error",
                         "Your account reached max request rate (simulated), please try again "
                         "after 1 seconds");
    case 500:
      return TypeMessage("server_error", "Internal server error (simulated)");
    default:
      return std::nullopt;
  }
}

}  // namespace

SimFamily FamilyOfPath(std::string_view path) {
  if (path.starts_with("/azure/")) return SimFamily::kAzure;
  if (path.starts_with("/zhipu/")) return SimFamily::kZhipu;
  if (path.starts_with("/deepseek/") || path == "/deepseek") return SimFamily::kDeepSeek;
  if (path.starts_with("/moonshot/")) return SimFamily::kMoonshot;
  return SimFamily::kOther;
}

std::optional<FamilyRefusal> CheckFamilyRequest(SimFamily family, std::string_view target,
                                                const net::Headers& headers,
                                                std::string_view require_key, int64_t now_ms) {
  if (family == SimFamily::kAzure) return CheckAzure(target, headers, require_key);
  if (family == SimFamily::kZhipu) return CheckZhipu(headers, require_key, now_ms);
  return std::nullopt;
}

bool FamilyChecksOwnKey(SimFamily family) {
  return family == SimFamily::kAzure || family == SimFamily::kZhipu;
}

std::optional<std::string> FamilyStatusErrorJson(SimFamily family, int status,
                                                 std::string_view /*model*/) {
  switch (family) {
    case SimFamily::kAzure:
      if (status == 429) {
        return CodeMessage("429",
                           "Requests to the ChatCompletions_Create Operation have exceeded call "
                           "rate limit (simulated). Please retry after 1 second.");
      }
      return std::nullopt;
    case SimFamily::kZhipu:
      return ZhipuStatus(status);
    case SimFamily::kDeepSeek:
      return DeepSeekStatus(status);
    case SimFamily::kMoonshot:
      return MoonshotStatus(status);
    case SimFamily::kOther:
      return std::nullopt;
  }
  return std::nullopt;
}

std::string VerifyZhipuJwt(std::string_view token, std::string_view api_key, int64_t now_ms) {
  size_t key_dot = api_key.find('.');
  if (key_dot == std::string_view::npos) return "the configured key is not of the form id.secret";
  std::string_view id = api_key.substr(0, key_dot);
  std::string_view secret = api_key.substr(key_dot + 1);

  size_t d1 = token.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
    return "the token is not a JWT";
  }
  std::string_view signing_input = token.substr(0, d2);
  std::string_view signature = token.substr(d2 + 1);
  std::string expected = auth::Base64UrlNoPad(auth::HmacSha256(secret, signing_input));
  if (signature.size() != expected.size() ||
      CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0) {
    return "bad token signature";
  }
  auto header = JsonPart(token.substr(0, d1));
  auto payload = JsonPart(token.substr(d1 + 1, d2 - d1 - 1));
  if (!header || !payload) return "the token's parts are not base64url JSON";
  const json::value* alg = header->if_contains("alg");
  if (alg == nullptr || !alg->is_string() || alg->get_string() != "HS256") {
    return "the token's alg is not HS256";
  }
  const json::value* claim = payload->if_contains("api_key");
  if (claim == nullptr || !claim->is_string() || claim->get_string() != id) {
    return "the token's api_key claim does not match";
  }
  const json::value* exp = payload->if_contains("exp");
  if (exp == nullptr || !exp->is_int64()) return "the token has no integer exp";
  if (exp->get_int64() < kMinMillisecondExp) return "the token's exp is not in milliseconds";
  if (exp->get_int64() <= now_ms) return "the token expired";
  return {};
}

}  // namespace modelmux::sim
