#include "media/address_policy.hpp"

#include <gtest/gtest.h>

namespace modelmux::media {
namespace {

using boost::asio::ip::address;
using boost::asio::ip::make_address;

std::string Parsed(std::string_view host) {
  auto r = ParseLiteralHost(host);
  return r.ok() ? r->to_string() : "error";
}

TEST(ParseLiteralHost, InetAtonSpellings) {
  EXPECT_EQ(Parsed("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(Parsed("2130706433"), "127.0.0.1");
  EXPECT_EQ(Parsed("0177.0.0.1"), "127.0.0.1");
  EXPECT_EQ(Parsed("0x7f.1"), "127.0.0.1");
  EXPECT_EQ(Parsed("0x7F000001"), "127.0.0.1");
  EXPECT_EQ(Parsed("127.1"), "127.0.0.1");
  EXPECT_EQ(Parsed("127.0.1"), "127.0.0.1");
  EXPECT_EQ(Parsed("10.0x10.0300"), "10.16.0.192");
  EXPECT_EQ(Parsed("0"), "0.0.0.0");
  EXPECT_EQ(Parsed("0251.0376.0251.0376"), "169.254.169.254");
  EXPECT_EQ(Parsed("0xa9fea9fe"), "169.254.169.254");
  EXPECT_EQ(Parsed("127.0.0.1."), "127.0.0.1");
  EXPECT_EQ(Parsed("8.8.8.8"), "8.8.8.8");
}

TEST(ParseLiteralHost, RejectsNonLiterals) {
  EXPECT_EQ(Parsed("example.com"), "error");
  EXPECT_EQ(Parsed("256.0.0.1"), "error");
  EXPECT_EQ(Parsed("1.2.3.4.5"), "error");
  EXPECT_EQ(Parsed("1..2"), "error");
  EXPECT_EQ(Parsed("08.0.0.1"), "error");  // 8 is not an octal digit
  EXPECT_EQ(Parsed("4294967296"), "error");
  EXPECT_EQ(Parsed("1.16777216"), "error");
  EXPECT_EQ(Parsed("0x7g.1"), "error");
  EXPECT_EQ(Parsed(""), "error");
  EXPECT_EQ(Parsed("[127.0.0.1]"), "error");
  auto r = ParseLiteralHost("example.com");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "not_ip_literal");
}

TEST(ParseLiteralHost, Ipv6) {
  EXPECT_EQ(Parsed("[::1]"), "::1");
  EXPECT_EQ(Parsed("::1"), "::1");
  EXPECT_EQ(Parsed("[::ffff:127.0.0.1]"), "::ffff:127.0.0.1");
  EXPECT_EQ(Parsed("[2001:4860:4860::8888]"), "2001:4860:4860::8888");
  EXPECT_EQ(Parsed("[fe80::1%eth0]").substr(0, 7), "fe80::1");
  EXPECT_EQ(Parsed("[::1"), "error");
  EXPECT_EQ(Parsed("[:::1]"), "error");
}

std::string Reason(std::string_view text) {
  auto r = NonPublicReason(make_address(std::string(text)));
  return r ? std::string(*r) : "public";
}

TEST(NonPublicReason, Ipv4) {
  EXPECT_EQ(Reason("127.0.0.1"), "loopback");
  EXPECT_EQ(Reason("127.255.255.254"), "loopback");
  EXPECT_EQ(Reason("10.1.2.3"), "private");
  EXPECT_EQ(Reason("172.16.0.1"), "private");
  EXPECT_EQ(Reason("172.31.255.255"), "private");
  EXPECT_EQ(Reason("172.32.0.1"), "public");
  EXPECT_EQ(Reason("172.15.255.255"), "public");
  EXPECT_EQ(Reason("192.168.1.1"), "private");
  EXPECT_EQ(Reason("169.254.1.1"), "link-local");
  EXPECT_EQ(Reason("169.254.169.254"), "cloud metadata");
  EXPECT_EQ(Reason("100.64.0.1"), "shared (CGNAT)");
  EXPECT_EQ(Reason("100.127.255.255"), "shared (CGNAT)");
  EXPECT_EQ(Reason("100.128.0.1"), "public");
  EXPECT_EQ(Reason("0.0.0.0"), "unspecified");
  EXPECT_EQ(Reason("0.1.2.3"), "unspecified");
  EXPECT_EQ(Reason("224.0.0.1"), "multicast");
  EXPECT_EQ(Reason("239.255.255.250"), "multicast");
  EXPECT_EQ(Reason("255.255.255.255"), "broadcast");
  EXPECT_EQ(Reason("240.0.0.1"), "reserved");
  EXPECT_EQ(Reason("198.18.0.1"), "reserved");
  EXPECT_EQ(Reason("192.0.2.1"), "documentation");
  EXPECT_EQ(Reason("8.8.8.8"), "public");
  EXPECT_EQ(Reason("1.1.1.1"), "public");
  EXPECT_EQ(Reason("93.184.216.34"), "public");
}

TEST(NonPublicReason, Ipv6) {
  EXPECT_EQ(Reason("::"), "unspecified");
  EXPECT_EQ(Reason("::1"), "loopback");
  EXPECT_EQ(Reason("fe80::1"), "link-local");
  EXPECT_EQ(Reason("febf::1"), "link-local");
  EXPECT_EQ(Reason("fc00::1"), "unique local");
  EXPECT_EQ(Reason("fd12:3456::1"), "unique local");
  EXPECT_EQ(Reason("ff02::1"), "multicast");
  EXPECT_EQ(Reason("fec0::1"), "site-local");
  EXPECT_EQ(Reason("::ffff:127.0.0.1"), "loopback");
  EXPECT_EQ(Reason("::ffff:169.254.169.254"), "cloud metadata");
  EXPECT_EQ(Reason("::ffff:10.0.0.1"), "private");
  EXPECT_EQ(Reason("::ffff:8.8.8.8"), "public");
  EXPECT_EQ(Reason("::127.0.0.1"), "IPv4-compatible (deprecated)");
  EXPECT_EQ(Reason("64:ff9b::127.0.0.1"), "loopback");
  EXPECT_EQ(Reason("64:ff9b::a9fe:a9fe"), "cloud metadata");
  EXPECT_EQ(Reason("64:ff9b::8.8.8.8"), "public");
  EXPECT_EQ(Reason("2002:7f00:1::"), "loopback");
  EXPECT_EQ(Reason("2002:c0a8:101::1"), "private");
  EXPECT_EQ(Reason("2002:808:808::1"), "public");
  EXPECT_EQ(Reason("2001:db8::1"), "documentation");
  EXPECT_EQ(Reason("2001:0:4136:e378::1"), "reserved");  // Teredo
  EXPECT_EQ(Reason("100::1"), "reserved");
  EXPECT_EQ(Reason("4000::1"), "reserved");
  EXPECT_EQ(Reason("2001:4860:4860::8888"), "public");
  EXPECT_EQ(Reason("2a00:1450:4001::1"), "public");
  EXPECT_TRUE(IsPublicAddress(make_address("2606:4700::1111")));
  EXPECT_FALSE(IsPublicAddress(make_address("::1")));
}

// Returns "ok" or the error message; checks the error's shape.
std::string Check(const AddressPolicy& p, std::string_view url) {
  auto r = p.CheckUrl(url, "messages[0].content[1].image_url.url");
  if (r.ok()) return "ok";
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidRequest);
  EXPECT_EQ(r.error().code, "url_forbidden");
  EXPECT_EQ(r.error().param, "messages[0].content[1].image_url.url");
  return r.error().message;
}

bool Refused(const AddressPolicy& p, std::string_view url) {
  return Check(p, url) != "ok";
}

TEST(AddressPolicy, RefusesInternalUrlsInEverySpelling) {
  const auto p = AddressPolicy::Default();
  for (const char* url : {"http://127.0.0.1/a.png",
                          "http://127.1/",
                          "http://2130706433/",
                          "http://0177.0.0.1/",
                          "http://0x7f.1/",
                          "http://0x7f000001/",
                          "http://[::1]/",
                          "http://[::ffff:127.0.0.1]/",
                          "http://[::ffff:7f00:1]/",
                          "http://169.254.169.254/latest/meta-data/",
                          "http://0251.0376.0251.0376/",
                          "http://[fe80::1]/",
                          "http://[fd00::1]/",
                          "http://10.0.0.1/",
                          "http://172.16.5.4/",
                          "http://192.168.0.1:8080/",
                          "http://100.64.1.1/",
                          "http://0.0.0.0/",
                          "http://0/",
                          "http://224.0.0.1/",
                          "http://255.255.255.255/",
                          "http://[64:ff9b::7f00:1]/",
                          "http://[2002:a00:1::]/",
                          "http://localhost/",
                          "http://LOCALHOST./",
                          "http://api.localhost/",
                          "http://127.0.0.1./",
                          "http://%31%32%37.0.0.1/",
                          "http://1.2.3.4.5/",
                          "http://0x7g.1/",
                          "http://256.1/",
                          "https://[::]:443/"}) {
    EXPECT_TRUE(Refused(p, url)) << url;
  }
}

TEST(AddressPolicy, AllowsPublicUrls) {
  const auto p = AddressPolicy::Default();
  EXPECT_EQ(Check(p, "https://example.com/cat.png"), "ok");
  EXPECT_EQ(Check(p, "http://8.8.8.8:8080/x?y=1"), "ok");
  EXPECT_EQ(Check(p, "https://[2001:4860:4860::8888]/x"), "ok");
  EXPECT_EQ(Check(p, "https://cdn.example.com:8443/a@b.png"), "ok");  // '@' in the path
  auto r = p.CheckUrl("https://Images.Example.com/a.png");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->address.has_value());
  EXPECT_EQ(r->url.host, "Images.Example.com");
  auto lit = p.CheckUrl("http://0x08080808/");
  ASSERT_TRUE(lit.ok());
  ASSERT_TRUE(lit->address.has_value());
  EXPECT_EQ(lit->address->to_string(), "8.8.8.8");  // connect here; never resolve the spelling
}

TEST(AddressPolicy, SchemeUserinfoAndPort) {
  auto p = AddressPolicy::Default();
  EXPECT_TRUE(Refused(p, "ftp://example.com/a.png"));
  EXPECT_TRUE(Refused(p, "file:///etc/passwd"));
  EXPECT_TRUE(Refused(p, "gopher://example.com/"));
  EXPECT_TRUE(Refused(p, "data:image/png;base64,AAAA"));
  EXPECT_TRUE(Refused(p, "example.com/a.png"));
  const std::string msg = Check(p, "https://alice:s3cret@example.com/a.png");
  EXPECT_NE(msg, "ok");
  EXPECT_EQ(msg.find("s3cret"), std::string::npos);
  EXPECT_EQ(msg.find("alice"), std::string::npos);
  EXPECT_TRUE(Refused(p, "https://@example.com/"));
  EXPECT_TRUE(Refused(p, "https://example.com@127.0.0.1/"));
  EXPECT_TRUE(Refused(p, "http://example.com:0/"));
  EXPECT_TRUE(Refused(p, "http://example.com:65536/"));
  EXPECT_EQ(Check(p, "http://example.com:8080/"), "ok");
  p.SetAllowedPorts({80, 443});
  EXPECT_EQ(Check(p, "http://example.com/"), "ok");
  EXPECT_EQ(Check(p, "https://example.com:443/"), "ok");
  EXPECT_TRUE(Refused(p, "http://example.com:8080/"));
}

TEST(AddressPolicy, MessageNamesTheReason) {
  const auto p = AddressPolicy::Default();
  EXPECT_NE(Check(p, "http://169.254.169.254/").find("cloud metadata"), std::string::npos);
  EXPECT_NE(Check(p, "http://0x7f.1/").find("loopback"), std::string::npos);
  EXPECT_NE(Check(p, "http://[fd00::1]/").find("unique local"), std::string::npos);
}

TEST(AddressPolicy, CheckAddressAfterResolution) {
  const auto p = AddressPolicy::Default();
  EXPECT_TRUE(p.CheckAddress(make_address("93.184.216.34"), "example.com").ok());
  auto s = p.CheckAddress(make_address("10.0.0.5"), "rebind.example.com", "image");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "url_forbidden");
  EXPECT_EQ(s.error().param, "image");
  EXPECT_NE(s.error().message.find("private"), std::string::npos);
  EXPECT_FALSE(p.CheckAddress(make_address("::ffff:192.168.0.1"), "x.example").ok());
}

TEST(AddressPolicy, AllowListOverrides) {
  auto made = AddressPolicy::WithAllowList(
      {"10.1.0.0/16", "fd00:1::/32", "192.168.7.7", "images.internal", "*.corp.example"});
  ASSERT_TRUE(made.ok()) << made.error().message;
  const auto& p = *made;
  EXPECT_EQ(Check(p, "http://10.1.2.3/"), "ok");
  EXPECT_TRUE(Refused(p, "http://10.2.0.1/"));
  EXPECT_EQ(Check(p, "http://[fd00:1:0:1::5]/"), "ok");
  EXPECT_TRUE(Refused(p, "http://[fd00:2::5]/"));
  EXPECT_EQ(Check(p, "http://192.168.7.7/"), "ok");
  EXPECT_EQ(Check(p, "http://0xc0a80707/"), "ok");  // same address, other spelling
  EXPECT_TRUE(Refused(p, "http://192.168.7.8/"));
  EXPECT_TRUE(Refused(p, "http://127.0.0.1/"));
  auto named = p.CheckUrl("https://IMAGES.internal/a.png");
  ASSERT_TRUE(named.ok());
  EXPECT_TRUE(named->host_allowed);
  EXPECT_TRUE(p.CheckAddress(make_address("10.9.9.9"), "images.internal").ok());
  EXPECT_TRUE(p.CheckAddress(make_address("10.9.9.9"), "a.b.corp.example").ok());
  EXPECT_FALSE(p.CheckAddress(make_address("10.9.9.9"), "corp.example").ok());
  EXPECT_FALSE(p.CheckAddress(make_address("10.9.9.9"), "evilcorp.example").ok());
  EXPECT_FALSE(p.CheckAddress(make_address("10.9.9.9"), "images.internal.evil.com").ok());
  EXPECT_TRUE(p.CheckAddress(make_address("10.1.9.9"), "anything.example").ok());
  // Default policy: the same name is not allowed.
  EXPECT_FALSE(
      AddressPolicy::Default().CheckAddress(make_address("10.9.9.9"), "images.internal").ok());
}

TEST(AddressPolicy, BadAllowListEntries) {
  EXPECT_FALSE(AddressPolicy::WithAllowList({"10.0.0.0/33"}).ok());
  EXPECT_FALSE(AddressPolicy::WithAllowList({"10.0.0/8"}).ok());
  EXPECT_FALSE(AddressPolicy::WithAllowList({"fd00::/129"}).ok());
  EXPECT_FALSE(AddressPolicy::WithAllowList({""}).ok());
  EXPECT_FALSE(AddressPolicy::WithAllowList({"bad host!"}).ok());
  EXPECT_TRUE(AddressPolicy::WithAllowList({"10.0.0.0/8", "::1"}).ok());
}

TEST(Cidr, Contains) {
  auto c = ParseCidr("172.16.0.0/12");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->Contains(make_address("172.31.0.1")));
  EXPECT_FALSE(c->Contains(make_address("172.32.0.1")));
  EXPECT_FALSE(c->Contains(make_address("::ffff:172.16.0.1")));
  auto all = ParseCidr("0.0.0.0/0");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->Contains(make_address("8.8.8.8")));
}

}  // namespace
}  // namespace modelmux::media
