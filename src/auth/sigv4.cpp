#include "auth/sigv4.hpp"

#include <algorithm>
#include <ctime>
#include <fstream>
#include <map>

#include "auth/crypto.hpp"

namespace modelmux::auth {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

Error CredentialsMissing(std::string message) {
  Error e;
  e.kind = ErrorKind::kAuthentication;
  e.message = std::move(message);
  e.code = "aws_credentials_missing";
  return e;
}

Error BadRequest(std::string message) {
  return InvalidRequest(std::move(message), {}, "sigv4_invalid_request");
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes; a '%' not followed by two hex digits is kept literally.
std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]);
      int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// Trims surrounding whitespace and collapses each inner run of spaces/tabs into one space.
std::string TrimAndCollapse(std::string_view v) {
  std::string out;
  bool pending_space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

std::string CanonicalUri(std::string_view path, bool double_encode) {
  if (path.empty()) return "/";
  std::string out;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    std::string_view segment = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    // Double: encode the as-sent segment again. Single (S3): normalize to one encoding.
    out +=
        double_encode ? AwsUriEncode(segment, false) : AwsUriEncode(PercentDecode(segment), false);
    if (slash == std::string_view::npos) break;
    out.push_back('/');
    start = slash + 1;
  }
  return out;
}

std::string CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t start = 0;
  while (start <= query.size()) {
    size_t amp = query.find('&', start);
    std::string_view part =
        query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    if (!part.empty()) {
      size_t eq = part.find('=');
      std::string_view key = part.substr(0, eq);
      std::string_view value = eq == std::string_view::npos ? "" : part.substr(eq + 1);
      params.emplace_back(AwsUriEncode(PercentDecode(key), false),
                          AwsUriEncode(PercentDecode(value), false));
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out.push_back('&');
    out += k;
    out.push_back('=');
    out += v;
  }
  return out;
}

std::string FormatAmzDate(std::chrono::system_clock::time_point now) {
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[17];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

bool IsSignerHeader(const std::string& lower_name) {
  return lower_name == "x-amz-date" || lower_name == "x-amz-content-sha256" ||
         lower_name == "x-amz-security-token" || lower_name == "authorization";
}

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace

std::string AwsUriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0x0f]);
    }
  }
  return out;
}

Result<SigV4Signature> SignV4Detailed(const SigV4Request& request,
                                      const AwsCredentials& credentials, std::string_view region,
                                      std::string_view service,
                                      std::chrono::system_clock::time_point now,
                                      const SigV4Options& options) {
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return CredentialsMissing("AWS access key id or secret access key is empty");
  }
  if (request.method.empty() || request.host.empty() || region.empty() || service.empty()) {
    return BadRequest("SigV4 needs a method, host, region and service");
  }
  if (!request.path.empty() && request.path.front() != '/') {
    return BadRequest("SigV4 request path must start with '/'");
  }

  const std::string amz_date = FormatAmzDate(now);
  const std::string date = amz_date.substr(0, 8);
  const std::string payload_hash = Sha256Hex(request.body);

  // Canonical headers: lowercase names, sorted; repeated names joined with ',' in order.
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers) {
    std::string key = Lower(Trim(name));
    if (key.empty() || IsSignerHeader(key)) continue;
    std::string v = TrimAndCollapse(value);
    auto [it, inserted] = headers.emplace(key, v);
    if (!inserted) it->second += "," + v;
  }
  if (!headers.contains("host")) headers.emplace("host", request.host);
  headers["x-amz-date"] = amz_date;
  if (options.add_content_sha256) headers["x-amz-content-sha256"] = payload_hash;
  if (!credentials.session_token.empty()) {
    headers["x-amz-security-token"] = TrimAndCollapse(credentials.session_token);
  }

  std::string canonical_headers;
  std::string signed_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ":" + value + "\n";
    if (!signed_headers.empty()) signed_headers.push_back(';');
    signed_headers += name;
  }

  SigV4Signature out;
  out.canonical_request = request.method + "\n" +
                          CanonicalUri(request.path, options.double_encode_path) + "\n" +
                          CanonicalQuery(request.query) + "\n" + canonical_headers + "\n" +
                          signed_headers + "\n" + payload_hash;

  const std::string scope =
      date + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
  out.string_to_sign = std::string(kAlgorithm) + "\n" + amz_date + "\n" + scope + "\n" +
                       Sha256Hex(out.canonical_request);

  std::string key = HmacSha256("AWS4" + credentials.secret_access_key, date);
  key = HmacSha256(key, region);
  key = HmacSha256(key, service);
  key = HmacSha256(key, "aws4_request");
  out.signature = Hex(HmacSha256(key, out.string_to_sign));

  out.headers.emplace_back("x-amz-date", amz_date);
  if (options.add_content_sha256) out.headers.emplace_back("x-amz-content-sha256", payload_hash);
  if (!credentials.session_token.empty()) {
    out.headers.emplace_back("x-amz-security-token", credentials.session_token);
  }
  out.headers.emplace_back("authorization", std::string(kAlgorithm) +
                                                " Credential=" + credentials.access_key_id + "/" +
                                                scope + ", SignedHeaders=" + signed_headers +
                                                ", Signature=" + out.signature);
  return out;
}

Result<HeaderPairs> SignV4(const SigV4Request& request, const AwsCredentials& credentials,
                           std::string_view region, std::string_view service,
                           std::chrono::system_clock::time_point now, bool double_encode_path) {
  SigV4Options options;
  options.double_encode_path = double_encode_path;
  MM_TRY(SigV4Signature sig, SignV4Detailed(request, credentials, region, service, now, options));
  return std::move(sig.headers);
}

Result<AwsCredentials> AwsCredentialsFrom(const EnvLookup& env, const std::string& home_dir) {
  auto get = [&](std::string_view name) -> std::string {
    if (!env) return {};
    std::optional<std::string> v = env(name);
    return v ? *v : std::string();
  };
  AwsCredentials creds;
  creds.access_key_id = get("AWS_ACCESS_KEY_ID");
  creds.secret_access_key = get("AWS_SECRET_ACCESS_KEY");
  if (!creds.access_key_id.empty() && !creds.secret_access_key.empty()) {
    creds.session_token = get("AWS_SESSION_TOKEN");
    return creds;
  }

  std::string profile = get("AWS_PROFILE");
  if (profile.empty()) profile = "default";
  std::string path = get("AWS_SHARED_CREDENTIALS_FILE");
  if (path.empty()) {
    if (home_dir.empty()) return CredentialsMissing("no AWS credentials in the environment");
    path = home_dir + "/.aws/credentials";
  }
  std::ifstream in(path);
  if (!in) return CredentialsMissing("no AWS credentials in the environment or credentials file");

  creds = AwsCredentials{};
  bool in_profile = false;
  bool found_profile = false;
  std::string line;
  while (std::getline(in, line)) {
    std::string t = Trim(line);
    if (t.empty() || t.front() == '#' || t.front() == ';') continue;
    if (t.front() == '[') {
      size_t close = t.find(']');
      std::string name =
          Trim(t.substr(1, close == std::string::npos ? std::string::npos : close - 1));
      in_profile = name == profile;
      found_profile = found_profile || in_profile;
      continue;
    }
    if (!in_profile) continue;
    size_t eq = t.find('=');
    if (eq == std::string::npos) continue;
    std::string key = Lower(Trim(t.substr(0, eq)));
    std::string value = Trim(t.substr(eq + 1));
    if (key == "aws_access_key_id") creds.access_key_id = value;
    if (key == "aws_secret_access_key") creds.secret_access_key = value;
    if (key == "aws_session_token") creds.session_token = value;
  }
  if (!found_profile) return CredentialsMissing("AWS profile '" + profile + "' not found");
  if (creds.access_key_id.empty() || creds.secret_access_key.empty()) {
    return CredentialsMissing("AWS profile '" + profile + "' lacks a key id or secret");
  }
  return creds;
}

}  // namespace modelmux::auth
