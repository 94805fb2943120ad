#include "govern/ip_allow.hpp"

#include <algorithm>
#include <charconv>

namespace modelmux::govern {

namespace ip = boost::asio::ip;

namespace {

Error BadCidr(std::string_view text) {
  Error e = InvalidRequest("invalid IP address or CIDR block '" + std::string(text) + "'",
                           "ip_allowlist", "invalid_cidr");
  return e;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// True when the first `prefix` bits of a and b agree.
template <size_t N>
bool SamePrefix(const std::array<unsigned char, N>& a, const std::array<unsigned char, N>& b,
                unsigned prefix) {
  size_t i = 0;
  for (; prefix >= 8; prefix -= 8, ++i) {
    if (a[i] != b[i]) return false;
  }
  if (prefix == 0) return true;
  const auto mask = static_cast<unsigned char>(0xFF << (8 - prefix));
  return (a[i] & mask) == (b[i] & mask);
}

template <size_t N>
void ClearHostBits(std::array<unsigned char, N>& a, unsigned prefix) {
  for (size_t i = 0; i < N; ++i) {
    const unsigned start = static_cast<unsigned>(i) * 8;
    if (start >= prefix) {
      a[i] = 0;
    } else if (prefix - start < 8) {
      a[i] &= static_cast<unsigned char>(0xFF << (8 - (prefix - start)));
    }
  }
}

}  // namespace

ip::address Unmap(const ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  }
  return a;
}

Result<Cidr> ParseCidr(std::string_view text) {
  text = Trim(text);
  const size_t slash = text.find('/');
  const std::string addr_text(text.substr(0, slash));
  boost::system::error_code ec;
  ip::address addr = ip::make_address(addr_text, ec);
  if (ec) return BadCidr(text);
  const bool mapped = addr.is_v6() && addr.to_v6().is_v4_mapped();
  const unsigned max = addr.is_v4() ? 32 : 128;
  unsigned prefix = max;
  if (slash != std::string_view::npos) {
    const std::string_view p = text.substr(slash + 1);
    auto [end, err] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (p.empty() || err != std::errc() || end != p.data() + p.size() || prefix > max) {
      return BadCidr(text);
    }
  }
  if (mapped) {
    if (prefix < 96) return BadCidr(text);  // would span beyond the mapped range
    addr = Unmap(addr);
    prefix -= 96;
  }
  Cidr c;
  c.prefix = static_cast<uint8_t>(prefix);
  if (addr.is_v4()) {
    auto bytes = addr.to_v4().to_bytes();
    ClearHostBits(bytes, prefix);
    c.network = ip::address_v4(bytes);
  } else {
    auto bytes = addr.to_v6().to_bytes();
    ClearHostBits(bytes, prefix);
    c.network = ip::address_v6(bytes);
  }
  return c;
}

Result<std::vector<Cidr>> ParseCidrs(std::span<const std::string> texts) {
  std::vector<Cidr> out;
  out.reserve(texts.size());
  for (const auto& t : texts) {
    MM_TRY(auto c, ParseCidr(t));
    out.push_back(c);
  }
  return out;
}

std::string FormatCidr(const Cidr& c) {
  return c.network.to_string() + "/" + std::to_string(c.prefix);
}

bool Contains(const Cidr& cidr, const ip::address& address) {
  const ip::address a = Unmap(address);
  if (a.is_v4() != cidr.network.is_v4()) return false;
  if (a.is_v4()) {
    return SamePrefix(a.to_v4().to_bytes(), cidr.network.to_v4().to_bytes(), cidr.prefix);
  }
  return SamePrefix(a.to_v6().to_bytes(), cidr.network.to_v6().to_bytes(), cidr.prefix);
}

bool AnyContains(std::span<const Cidr> list, const ip::address& a) {
  for (const auto& c : list) {
    if (Contains(c, a)) return true;
  }
  return false;
}

bool Allowed(std::span<const Cidr> list, const ip::address& a) {
  return list.empty() || AnyContains(list, a);
}

ip::address ClientAddress(const ip::address& peer, std::string_view xff,
                          std::span<const Cidr> trusted_proxies) {
  ip::address current = Unmap(peer);
  if (xff.empty() || !AnyContains(trusted_proxies, current)) return current;
  // Walk the list from the right: each entry was appended by the hop to its right.
  while (!xff.empty()) {
    const size_t comma = xff.rfind(',');
    const std::string_view entry =
        Trim(comma == std::string_view::npos ? xff : xff.substr(comma + 1));
    xff = comma == std::string_view::npos ? std::string_view() : xff.substr(0, comma);
    std::string text(entry);
    // "[2001:db8::1]:443" and "1.2.3.4:80" forms: strip the port.
    if (!text.empty() && text.front() == '[') {
      const size_t close = text.find(']');
      text = close == std::string::npos ? std::string() : text.substr(1, close - 1);
    } else if (std::count(text.begin(), text.end(), ':') == 1) {
      text = text.substr(0, text.find(':'));
    }
    boost::system::error_code ec;
    const ip::address hop = ip::make_address(text, ec);
    if (ec) return current;  // unreadable: trust nothing further left
    current = Unmap(hop);
    if (!AnyContains(trusted_proxies, current)) return current;
  }
  return current;
}

}  // namespace modelmux::govern
