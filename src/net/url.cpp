#include "net/url.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace modelmux::net {

std::string Url::HostHeader() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (!default_port) h += ":" + port;
  return h;
}

Result<Url> ParseUrl(std::string_view text) {
  auto r = boost::urls::parse_absolute_uri(text);
  if (!r) return InvalidRequest("malformed URL", "url", "invalid_url");
  const auto& u = *r;
  // Boost.URL 1.81 takes the longest IPv4-looking prefix of the host ("1.2.3.4.5" -> "1.2.3.4")
  // and leaves the rest (".5/") as a path, which after an authority must start with '/'.
  if (u.has_authority() && !u.encoded_path().empty() && u.encoded_path().front() != '/') {
    return InvalidRequest("malformed URL host", "url", "invalid_url");
  }
  Url out;
  out.scheme = std::string(u.scheme());
  for (auto& c : out.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (out.scheme != "http" && out.scheme != "https") {
    return InvalidRequest("only http and https URLs are supported", "url", "invalid_url");
  }
  if (u.host_type() == boost::urls::host_type::ipv6) {
    out.host = std::string(u.host_address());
  } else {
    out.host = std::string(u.host());  // decoded
  }
  if (out.host.empty()) return InvalidRequest("URL has no host", "url", "invalid_url");
  if (u.has_port() && !u.port().empty()) {
    out.port = std::string(u.port());
    out.default_port =
        (out.scheme == "http" && out.port == "80") || (out.scheme == "https" && out.port == "443");
  } else {
    out.port = out.scheme == "https" ? "443" : "80";
  }
  out.target = std::string(u.encoded_path());
  if (out.target.empty()) out.target = "/";
  if (u.has_query()) {
    out.target += "?";
    out.target += std::string(u.encoded_query());
  }
  if (u.has_userinfo()) out.userinfo = std::string(u.userinfo());
  return out;
}

std::string JoinUrl(std::string_view base, std::string_view path) {
  std::string out(base);
  while (!out.empty() && out.back() == '/') out.pop_back();
  if (!path.empty() && path.front() != '/') out.push_back('/');
  out.append(path);
  return out;
}

}  // namespace modelmux::net
