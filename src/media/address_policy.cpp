#include "media/address_policy.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace modelmux::media {
namespace {

using boost::asio::ip::address;
using boost::asio::ip::address_v4;
using boost::asio::ip::address_v6;

Error Forbidden(std::string message, std::string_view param) {
  return InvalidRequest(std::move(message), std::string(param), "url_forbidden");
}

Error NotLiteral() {
  return InvalidRequest("not an IP literal", "", "not_ip_literal");
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// One inet_aton part: decimal, 0-prefixed octal, 0x-prefixed hex. nullopt if malformed or > max.
std::optional<uint64_t> ParsePart(std::string_view p, uint64_t max) {
  if (p.empty()) return std::nullopt;
  int base = 10;
  if (p.size() >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
    base = 16;
    p.remove_prefix(2);
    if (p.empty()) return uint64_t{0};  // inet_aton reads "0x" as zero
  } else if (p.size() >= 2 && p[0] == '0') {
    base = 8;
    p.remove_prefix(1);
  }
  uint64_t v = 0;
  for (char c : p) {
    int d = -1;
    if (c >= '0' && c <= '9') d = c - '0';
    if (base == 16 && c >= 'a' && c <= 'f') d = c - 'a' + 10;
    if (base == 16 && c >= 'A' && c <= 'F') d = c - 'A' + 10;
    if (d < 0 || d >= base) return std::nullopt;
    v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
    if (v > max) return std::nullopt;
  }
  return v;
}

std::optional<uint32_t> ParseInetAton(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);  // "127.0.0.1." (an FQDN spelling)
  std::array<std::string_view, 4> parts;
  size_t count = 0;
  while (true) {
    const size_t dot = s.find('.');
    if (count == 4) return std::nullopt;
    parts[count++] = s.substr(0, dot);
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  uint32_t value = 0;
  for (size_t i = 0; i + 1 < count; ++i) {
    auto v = ParsePart(parts[i], 0xFF);
    if (!v) return std::nullopt;
    value |= static_cast<uint32_t>(*v) << (24 - 8 * i);
  }
  const uint64_t last_max = 0xFFFFFFFFull >> (8 * (count - 1));
  auto v = ParsePart(parts[count - 1], last_max);
  if (!v) return std::nullopt;
  return value | static_cast<uint32_t>(*v);
}

// Looks like an attempt at a numeric IPv4 host (WHATWG: the last label is numeric); such hosts
// are refused when they do not parse, rather than handed to a resolver that may read them
// differently.
bool LooksNumeric(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  const size_t dot = host.rfind('.');
  const std::string_view last = dot == std::string_view::npos ? host : host.substr(dot + 1);
  if (last.empty()) return false;
  if (last.size() >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X')) return true;
  return std::all_of(last.begin(), last.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool InV4(uint32_t a, uint32_t net, int prefix) {
  const uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  return (a & mask) == (net & mask);
}

constexpr uint32_t V4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

std::optional<std::string_view> V4Reason(uint32_t a) {
  if (a == V4(169, 254, 169, 254)) return "cloud metadata";
  if (a == 0xFFFFFFFFu) return "broadcast";
  struct Range {
    uint32_t net;
    int prefix;
    std::string_view reason;
  };
  static constexpr Range kRanges[] = {
      {V4(0, 0, 0, 0), 8, "unspecified"},        {V4(10, 0, 0, 0), 8, "private"},
      {V4(100, 64, 0, 0), 10, "shared (CGNAT)"}, {V4(127, 0, 0, 0), 8, "loopback"},
      {V4(169, 254, 0, 0), 16, "link-local"},    {V4(172, 16, 0, 0), 12, "private"},
      {V4(192, 0, 0, 0), 24, "reserved"},        {V4(192, 0, 2, 0), 24, "documentation"},
      {V4(192, 88, 99, 0), 24, "reserved"},      {V4(192, 168, 0, 0), 16, "private"},
      {V4(198, 18, 0, 0), 15, "reserved"},       {V4(198, 51, 100, 0), 24, "documentation"},
      {V4(203, 0, 113, 0), 24, "documentation"}, {V4(224, 0, 0, 0), 4, "multicast"},
      {V4(240, 0, 0, 0), 4, "reserved"},
  };
  for (const auto& r : kRanges) {
    if (InV4(a, r.net, r.prefix)) return r.reason;
  }
  return std::nullopt;
}

bool InV6(const address_v6::bytes_type& a, const address_v6::bytes_type& net, int prefix) {
  for (int i = 0; i < 16 && prefix > 0; ++i, prefix -= 8) {
    const uint8_t mask = prefix >= 8 ? 0xFF : static_cast<uint8_t>(0xFF << (8 - prefix));
    if ((a[i] & mask) != (net[i] & mask)) return false;
  }
  return true;
}

address_v6::bytes_type V6(std::string_view text) {
  return boost::asio::ip::make_address_v6(std::string(text)).to_bytes();
}

uint32_t V4At(const address_v6::bytes_type& b, int offset) {
  return (uint32_t{b[offset]} << 24) | (uint32_t{b[offset + 1]} << 16) |
         (uint32_t{b[offset + 2]} << 8) | b[offset + 3];
}

std::optional<std::string_view> V6Reason(const address_v6& a6) {
  const auto b = a6.to_bytes();
  if (a6.is_unspecified()) return "unspecified";
  if (a6.is_loopback()) return "loopback";
  static const auto kMapped = V6("::ffff:0:0");
  static const auto kNat64 = V6("64:ff9b::");
  static const auto kNat64Local = V6("64:ff9b:1::");
  static const auto kSixToFour = V6("2002::");
  static const auto kIetf = V6("2001::");
  static const auto kDoc = V6("2001:db8::");
  static const auto kDiscard = V6("100::");
  static const auto kUla = V6("fc00::");
  static const auto kLinkLocal = V6("fe80::");
  static const auto kSiteLocal = V6("fec0::");
  static const auto kMulticast = V6("ff00::");
  static const auto kGlobal = V6("2000::");
  static const auto kZero = V6("::");
  // Embedded IPv4: judged by the IPv4 address.
  if (InV6(b, kMapped, 96) || InV6(b, kNat64, 96)) {
    if (auto r = V4Reason(V4At(b, 12))) return r;
    return std::nullopt;
  }
  if (InV6(b, kZero, 96)) return "IPv4-compatible (deprecated)";
  if (InV6(b, kSixToFour, 16)) {
    if (auto r = V4Reason(V4At(b, 2))) return r;
    return std::nullopt;
  }
  if (InV6(b, kNat64Local, 48)) return "reserved";
  if (InV6(b, kDoc, 32)) return "documentation";
  if (InV6(b, kIetf, 23)) return "reserved";  // Teredo, ORCHID, benchmarking
  if (InV6(b, kDiscard, 64)) return "reserved";
  if (InV6(b, kUla, 7)) return "unique local";
  if (InV6(b, kLinkLocal, 10)) return "link-local";
  if (InV6(b, kSiteLocal, 10)) return "site-local";
  if (InV6(b, kMulticast, 8)) return "multicast";
  if (!InV6(b, kGlobal, 3)) return "reserved";  // only 2000::/3 is global unicast
  if (a6.scope_id() != 0) return "scoped";
  return std::nullopt;
}

// The host as written in the authority (no userinfo), brackets and port removed, percent-decoded.
std::optional<std::string> RawHost(std::string_view authority) {
  std::string_view h = authority;
  if (!h.empty() && h.front() == '[') {
    const size_t close = h.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    h = h.substr(1, close - 1);
  } else if (const size_t colon = h.rfind(':'); colon != std::string_view::npos) {
    h = h.substr(0, colon);
  }
  std::string out;
  for (size_t i = 0; i < h.size(); ++i) {
    if (h[i] != '%') {
      out.push_back(h[i]);
      continue;
    }
    if (i + 2 >= h.size()) return std::nullopt;
    unsigned v = 0;
    auto [end, err] = std::from_chars(h.data() + i + 1, h.data() + i + 3, v, 16);
    if (err != std::errc() || end != h.data() + i + 3) return std::nullopt;
    out.push_back(static_cast<char>(v));
    i += 2;
  }
  return out;
}

bool ValidHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

}  // namespace

Result<address> ParseLiteralHost(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (host.find(':') == std::string_view::npos) return NotLiteral();
  }
  if (host.find(':') != std::string_view::npos) {
    boost::system::error_code ec;
    auto a = boost::asio::ip::make_address_v6(std::string(host), ec);
    if (ec) return NotLiteral();
    return address(a);
  }
  auto v4 = ParseInetAton(host);
  if (!v4) return NotLiteral();
  return address(address_v4(*v4));
}

std::optional<std::string_view> NonPublicReason(const address& a) {
  if (a.is_v4()) return V4Reason(a.to_v4().to_uint());
  return V6Reason(a.to_v6());
}

bool IsPublicAddress(const address& a) {
  return !NonPublicReason(a).has_value();
}

bool Cidr::Contains(const address& a) const {
  if (network.is_v4() && a.is_v4())
    return InV4(a.to_v4().to_uint(), network.to_v4().to_uint(), prefix);
  if (network.is_v6() && a.is_v6())
    return InV6(a.to_v6().to_bytes(), network.to_v6().to_bytes(), prefix);
  return false;
}

Result<Cidr> ParseCidr(std::string_view text) {
  const size_t slash = text.find('/');
  const std::string addr_text(text.substr(0, slash));
  boost::system::error_code ec;
  auto a = boost::asio::ip::make_address(addr_text, ec);
  if (ec) return InvalidRequest("invalid CIDR '" + std::string(text) + "'", "", "invalid_cidr");
  const int max = a.is_v4() ? 32 : 128;
  int prefix = max;
  if (slash != std::string_view::npos) {
    const auto p = text.substr(slash + 1);
    auto [end, err] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (err != std::errc() || end != p.data() + p.size() || p.empty() || prefix < 0 ||
        prefix > max) {
      return InvalidRequest("invalid CIDR prefix in '" + std::string(text) + "'", "",
                            "invalid_cidr");
    }
  }
  return Cidr{a, prefix};
}

AddressPolicy AddressPolicy::Default() {
  return AddressPolicy();
}

Result<AddressPolicy> AddressPolicy::WithAllowList(const std::vector<std::string>& entries) {
  AddressPolicy p;
  for (const auto& e : entries) {
    if (e.empty()) return InvalidRequest("empty allow-list entry", "", "invalid_allow_list");
    const bool cidr_like =
        e.find('/') != std::string::npos || e.find(':') != std::string::npos ||
        std::all_of(e.begin(), e.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
    if (cidr_like) {
      MM_TRY(Cidr c, ParseCidr(e));
      p.cidrs_.push_back(c);
      continue;
    }
    std::string name = Lower(e);
    if (name.back() == '.') name.pop_back();
    if (name.rfind("*.", 0) == 0) {
      p.suffixes_.push_back(name.substr(1));
      continue;
    }
    if (name.empty() || !std::all_of(name.begin(), name.end(), ValidHostChar)) {
      return InvalidRequest("invalid allow-list host '" + e + "'", "", "invalid_allow_list");
    }
    p.hosts_.push_back(std::move(name));
  }
  return p;
}

bool AddressPolicy::HostAllowed(std::string_view host) const {
  std::string name = Lower(host);
  if (!name.empty() && name.back() == '.') name.pop_back();
  if (std::find(hosts_.begin(), hosts_.end(), name) != hosts_.end()) return true;
  return std::any_of(suffixes_.begin(), suffixes_.end(), [&](const std::string& s) {
    return name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  });
}

Status AddressPolicy::CheckAddress(const address& a, std::string_view host,
                                   std::string_view param) const {
  if (HostAllowed(host)) return OkStatus();
  if (std::any_of(cidrs_.begin(), cidrs_.end(), [&](const Cidr& c) { return c.Contains(a); })) {
    return OkStatus();
  }
  if (auto reason = NonPublicReason(a)) {
    return Forbidden("URL host " + std::string(host) + " is a " + std::string(*reason) +
                         " address (" + a.to_string() +
                         "); media is fetched from public "
                         "addresses only",
                     param);
  }
  return OkStatus();
}

Result<CheckedUrl> AddressPolicy::CheckUrl(std::string_view text, std::string_view param) const {
  auto parsed = net::ParseUrl(text);
  if (!parsed.ok()) return Forbidden(parsed.error().message, param);
  CheckedUrl out{std::move(parsed).value(), std::nullopt, false};
  const net::Url& url = out.url;
  const size_t authority_start = text.find("://") + 3;  // ParseUrl accepted http(s)://
  const std::string_view authority =
      text.substr(authority_start, text.find_first_of("/?#", authority_start) - authority_start);
  if (!url.userinfo.empty() || authority.find('@') != std::string_view::npos) {
    return Forbidden("URL must not contain credentials", param);
  }
  // The parser's host must be exactly the host as written: a parser that reads "1.2.3.4.5" as
  // 1.2.3.4 (or any other differential) would let the check and the connection disagree.
  const auto raw_host = RawHost(authority);
  if (!raw_host || (Lower(*raw_host) != Lower(url.host) &&
                    Lower(*raw_host).substr(0, raw_host->find('%')) != Lower(url.host))) {
    return Forbidden("URL host is malformed", param);
  }
  int port = 0;
  auto [end, err] = std::from_chars(url.port.data(), url.port.data() + url.port.size(), port);
  if (err != std::errc() || end != url.port.data() + url.port.size() || port < 1 || port > 65535) {
    return Forbidden("URL port is not valid", param);
  }
  if (!ports_.empty() && std::find(ports_.begin(), ports_.end(), port) == ports_.end()) {
    return Forbidden("URL port " + url.port + " is not allowed", param);
  }
  const std::string& host = url.host;
  if (auto literal = ParseLiteralHost(host); literal.ok()) {
    MM_RETURN_IF_ERROR(CheckAddress(*literal, host, param));
    out.address = *literal;
    return out;
  }
  if (host.find(':') != std::string::npos ||
      !std::all_of(host.begin(), host.end(), ValidHostChar)) {
    return Forbidden("URL host is malformed", param);
  }
  out.host_allowed = HostAllowed(host);
  if (out.host_allowed) return out;
  if (LooksNumeric(host)) return Forbidden("URL host " + host + " is a malformed address", param);
  std::string name = Lower(host);
  if (!name.empty() && name.back() == '.') name.pop_back();
  if (name == "localhost" || (name.size() > 10 && name.ends_with(".localhost"))) {
    return Forbidden("URL host " + host + " is a loopback name", param);
  }
  return out;
}

}  // namespace modelmux::media
