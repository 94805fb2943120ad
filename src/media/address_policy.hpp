#pragma once
// SSRF guard for media URLs (reliability.md items 27-29): pure decisions about which URL hosts and
// resolved addresses the gateway may fetch from. Loopback, private, link-local (including cloud
// metadata 169.254.169.254), CGNAT, unspecified, multicast, broadcast, reserved and documentation
// ranges, IPv6 unique-local and link-local, and IPv6 forms that embed such an IPv4 address
// (IPv4-mapped, IPv4-compatible, NAT64 64:ff9b::/96, 6to4 2002::/16) are refused unless an
// explicit allow-list entry (CIDR or host name) admits them.
//
// The fetcher's duty: CheckUrl before anything; if the host is a literal, connect to exactly
// CheckedUrl::address; otherwise resolve once, CheckAddress every resolved address, connect only
// to a checked one, and CheckUrl again on every redirect target.

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "net/url.hpp"

namespace modelmux::media {

// Parses an IP literal the way inet_aton does (1 to 4 parts, each decimal, 0-prefixed octal or
// 0x-prefixed hex, the last part filling the remaining bytes: "2130706433", "0177.0.0.1",
// "0x7f.1", "127.1"), plus IPv6 with or without brackets. Error (kInvalidRequest, code
// "not_ip_literal") when the text is not such a literal, e.g. a host name.
[[nodiscard]] Result<boost::asio::ip::address> ParseLiteralHost(std::string_view host);

// Why an address must not be fetched ("loopback", "private", "link-local", ...), or nullopt when
// it is a public unicast address.
[[nodiscard]] std::optional<std::string_view> NonPublicReason(const boost::asio::ip::address& a);
[[nodiscard]] bool IsPublicAddress(const boost::asio::ip::address& a);

// An IPv4 or IPv6 network, "10.0.0.0/8", "fd00::/8", or a single address.
struct Cidr {
  boost::asio::ip::address network;
  int prefix = 0;
  [[nodiscard]] bool Contains(const boost::asio::ip::address& a) const;
};
[[nodiscard]] Result<Cidr> ParseCidr(std::string_view text);

// The result of a successful CheckUrl.
struct CheckedUrl {
  net::Url url;
  // Set when the host is an IP literal (in any spelling): connect to this, resolve nothing.
  std::optional<boost::asio::ip::address> address;
  // The host name matched a host allow-list entry: its resolved addresses need no check.
  bool host_allowed = false;
};

class AddressPolicy {
 public:
  // Public addresses only, any port, no allow-list.
  static AddressPolicy Default();
  // Allow-list entries: CIDRs or addresses ("10.1.0.0/16", "fd00::1") and host names
  // ("images.internal"; "*.corp.example" matches any subdomain, not corp.example itself).
  static Result<AddressPolicy> WithAllowList(const std::vector<std::string>& entries);

  // Restricts ports (empty: any port 1-65535).
  void SetAllowedPorts(std::vector<uint16_t> ports) { ports_ = std::move(ports); }

  // Only http/https, no userinfo, a permitted port, and a host that is not a refused literal
  // (nor "localhost", nor a malformed numeric spelling). Errors: kInvalidRequest, code
  // "url_forbidden", the given param, a message with the reason (never the userinfo).
  [[nodiscard]] Result<CheckedUrl> CheckUrl(std::string_view url,
                                            std::string_view param = "url") const;
  // For each address a host name resolved to (or the literal itself).
  [[nodiscard]] Status CheckAddress(const boost::asio::ip::address& address, std::string_view host,
                                    std::string_view param = "url") const;

  [[nodiscard]] bool HostAllowed(std::string_view host) const;

 private:
  std::vector<Cidr> cidrs_;
  std::vector<std::string> hosts_;     // exact names, lowercase, no trailing dot
  std::vector<std::string> suffixes_;  // ".corp.example" for "*.corp.example"
  std::vector<uint16_t> ports_;
};

}  // namespace modelmux::media
