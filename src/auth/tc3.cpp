#include "auth/tc3.hpp"

#include <ctime>

#include "auth/crypto.hpp"

namespace modelmux::auth {
namespace {

constexpr std::string_view kAlgorithm = "TC3-HMAC-SHA256";
constexpr std::string_view kSignedHeaders = "content-type;host;x-tc-action";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string UtcDate(int64_t timestamp) {
  std::time_t t = static_cast<std::time_t>(timestamp);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[11];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

}  // namespace

Result<Tc3Signature> SignTc3Detailed(const Tc3Request& request, std::string_view secret_id,
                                     std::string_view secret_key, int64_t timestamp) {
  if (secret_id.empty() || secret_key.empty()) {
    Error e;
    e.kind = ErrorKind::kAuthentication;
    e.message = "Tencent Cloud SecretId or SecretKey is empty";
    e.code = "tc3_credentials_missing";
    return e;
  }
  if (request.host.empty() || request.action.empty() || request.version.empty() ||
      request.service.empty() || timestamp < 0) {
    return InvalidRequest("TC3 needs a host, action, version, service and a timestamp >= 0", {},
                          "tc3_invalid_request");
  }

  const std::string date = UtcDate(timestamp);
  const std::string ts = std::to_string(timestamp);
  Tc3Signature out;
  out.canonical_request = "POST\n/\n\ncontent-type:" + Lower(request.content_type) +
                          "\nhost:" + Lower(request.host) +
                          "\nx-tc-action:" + Lower(request.action) + "\n\n" +
                          std::string(kSignedHeaders) + "\n" + Sha256Hex(request.body);
  const std::string scope = date + "/" + request.service + "/tc3_request";
  out.string_to_sign =
      std::string(kAlgorithm) + "\n" + ts + "\n" + scope + "\n" + Sha256Hex(out.canonical_request);

  std::string key = HmacSha256("TC3" + std::string(secret_key), date);
  key = HmacSha256(key, request.service);
  key = HmacSha256(key, "tc3_request");
  out.signature = Hex(HmacSha256(key, out.string_to_sign));

  out.headers.emplace_back("Authorization",
                           std::string(kAlgorithm) + " Credential=" + std::string(secret_id) + "/" +
                               scope + ", SignedHeaders=" + std::string(kSignedHeaders) +
                               ", Signature=" + out.signature);
  out.headers.emplace_back("Content-Type", request.content_type);
  out.headers.emplace_back("X-TC-Action", request.action);
  out.headers.emplace_back("X-TC-Version", request.version);
  out.headers.emplace_back("X-TC-Timestamp", ts);
  if (!request.region.empty()) out.headers.emplace_back("X-TC-Region", request.region);
  if (!request.token.empty()) out.headers.emplace_back("X-TC-Token", request.token);
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> SignTc3(const Tc3Request& request,
                                                                 std::string_view secret_id,
                                                                 std::string_view secret_key,
                                                                 int64_t timestamp) {
  MM_TRY(Tc3Signature sig, SignTc3Detailed(request, secret_id, secret_key, timestamp));
  return std::move(sig.headers);
}

}  // namespace modelmux::auth
