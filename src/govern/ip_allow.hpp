#pragma once
// IP allowlists: IPv4 and IPv6 CIDR blocks, and the client address of a request as seen through
// trusted reverse proxies. Pure functions; thread-safe.
//
// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is compared as the IPv4 address it carries, in
// both directions, so a dual-stack listener and an IPv4 allowlist agree.

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace modelmux::govern {

struct Cidr {
  boost::asio::ip::address network;  // host bits cleared; never an IPv4-mapped v6 address
  uint8_t prefix = 0;                // 0..32 (v4) or 0..128 (v6)
  friend bool operator==(const Cidr&, const Cidr&) = default;
};

// "10.0.0.0/8", "192.168.1.7" (= /32), "2001:db8::/32", "::1" (= /128), "::ffff:10.0.0.0/104"
// (= 10.0.0.0/8). Host bits are cleared. kInvalidRequest (code "invalid_cidr") otherwise.
[[nodiscard]] Result<Cidr> ParseCidr(std::string_view text);
[[nodiscard]] Result<std::vector<Cidr>> ParseCidrs(std::span<const std::string> texts);
// Canonical text: "10.0.0.0/8", "2001:db8::/32".
[[nodiscard]] std::string FormatCidr(const Cidr& cidr);

// ::ffff:a.b.c.d becomes a.b.c.d; other addresses are returned unchanged.
[[nodiscard]] boost::asio::ip::address Unmap(const boost::asio::ip::address& a);

[[nodiscard]] bool Contains(const Cidr& cidr, const boost::asio::ip::address& a);
// True when `list` is empty (no restriction) or some block contains `a`.
[[nodiscard]] bool Allowed(std::span<const Cidr> list, const boost::asio::ip::address& a);
// True when some block contains `a` (an empty list contains nothing).
[[nodiscard]] bool AnyContains(std::span<const Cidr> list, const boost::asio::ip::address& a);

// The address a request comes from. The socket peer, unless the peer is a trusted proxy: then
// X-Forwarded-For is read from the right, skipping trusted proxies, and the first untrusted
// address is the client (a client cannot forge the entries its proxies appended). When every
// hop is trusted the left-most address is taken; an entry that is not an address (garbage or
// "unknown") stops the walk and that hop's sender is returned.
// `xff` is every X-Forwarded-For value joined with ','.
[[nodiscard]] boost::asio::ip::address ClientAddress(const boost::asio::ip::address& peer,
                                                     std::string_view xff,
                                                     std::span<const Cidr> trusted_proxies);

}  // namespace modelmux::govern
