#pragma once
// Absolute http(s) URLs split into what a client needs to connect and send.

#include <string>
#include <string_view>

#include "core/result.hpp"

namespace modelmux::net {

struct Url {
  std::string scheme;    // "http" or "https", lowercase
  std::string host;      // without brackets for IPv6
  std::string port;      // always set ("80"/"443" by default)
  std::string target;    // path and query, at least "/"
  std::string userinfo;  // "user:pass" (decoded), for proxies
  bool default_port = true;

  // The Host header value: host[:port], with brackets for IPv6.
  [[nodiscard]] std::string HostHeader() const;
};

// Accepts only http and https URLs with a host.
[[nodiscard]] Result<Url> ParseUrl(std::string_view text);

// Joins a base URL ("http://h/v1" or "http://h/v1/") and a path ("/chat/completions").
[[nodiscard]] std::string JoinUrl(std::string_view base, std::string_view path);

}  // namespace modelmux::net
