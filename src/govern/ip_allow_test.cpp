#include "govern/ip_allow.hpp"

#include <gtest/gtest.h>

namespace modelmux::govern {
namespace {

namespace ip = boost::asio::ip;

ip::address A(const char* s) {
  return ip::make_address(s);
}

TEST(IpAllowTest, ParsesV4AndClearsHostBits) {
  auto c = ParseCidr("10.1.2.3/8");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(FormatCidr(*c), "10.0.0.0/8");
  EXPECT_EQ(FormatCidr(*ParseCidr("192.168.1.7")), "192.168.1.7/32");
  EXPECT_EQ(FormatCidr(*ParseCidr("192.168.1.7/23")), "192.168.0.0/23");
}

TEST(IpAllowTest, ParsesV6) {
  EXPECT_EQ(FormatCidr(*ParseCidr("2001:db8:1:2::5/32")), "2001:db8::/32");
  EXPECT_EQ(FormatCidr(*ParseCidr("::1")), "::1/128");
  EXPECT_EQ(FormatCidr(*ParseCidr("fe80::1/10")), "fe80::/10");
}

TEST(IpAllowTest, MappedV6BlockBecomesV4) {
  auto c = ParseCidr("::ffff:10.0.0.0/104");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(FormatCidr(*c), "10.0.0.0/8");
  EXPECT_FALSE(ParseCidr("::ffff:10.0.0.0/64").ok());
}

TEST(IpAllowTest, RejectsGarbage) {
  for (const char* bad : {"", "10.0.0.0/33", "::1/129", "10.0.0/8", "host.example", "1.2.3.4/",
                          "1.2.3.4/x", "1.2.3.4/-1"}) {
    auto c = ParseCidr(bad);
    EXPECT_FALSE(c.ok()) << bad;
    if (!c.ok()) {
      EXPECT_EQ(c.error().code, "invalid_cidr");
    }
  }
}

TEST(IpAllowTest, ContainsV4) {
  const Cidr c = *ParseCidr("192.168.0.0/16");
  EXPECT_TRUE(Contains(c, A("192.168.255.1")));
  EXPECT_FALSE(Contains(c, A("192.169.0.1")));
  EXPECT_FALSE(Contains(c, A("::1")));
  const Cidr odd = *ParseCidr("10.0.0.0/9");  // 10.0.0.0 - 10.127.255.255
  EXPECT_TRUE(Contains(odd, A("10.127.0.1")));
  EXPECT_FALSE(Contains(odd, A("10.128.0.1")));
  EXPECT_TRUE(Contains(*ParseCidr("0.0.0.0/0"), A("8.8.8.8")));
}

TEST(IpAllowTest, ContainsV6) {
  const Cidr c = *ParseCidr("2001:db8::/32");
  EXPECT_TRUE(Contains(c, A("2001:db8:ffff::1")));
  EXPECT_FALSE(Contains(c, A("2001:db9::1")));
  EXPECT_FALSE(Contains(c, A("10.0.0.1")));
  EXPECT_TRUE(Contains(*ParseCidr("::1"), A("::1")));
  EXPECT_FALSE(Contains(*ParseCidr("::1"), A("::2")));
}

TEST(IpAllowTest, MappedPeerMatchesV4Block) {
  // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d.
  const Cidr c = *ParseCidr("127.0.0.0/8");
  EXPECT_TRUE(Contains(c, A("::ffff:127.0.0.1")));
  EXPECT_FALSE(Contains(c, A("::ffff:128.0.0.1")));
  EXPECT_EQ(Unmap(A("::ffff:1.2.3.4")), A("1.2.3.4"));
  EXPECT_EQ(Unmap(A("::1")), A("::1"));
}

TEST(IpAllowTest, EmptyListAllowsEverything) {
  std::vector<Cidr> none;
  EXPECT_TRUE(Allowed(none, A("1.2.3.4")));
  EXPECT_FALSE(AnyContains(none, A("1.2.3.4")));
  std::vector<Cidr> some = {*ParseCidr("10.0.0.0/8")};
  EXPECT_FALSE(Allowed(some, A("1.2.3.4")));
  EXPECT_TRUE(Allowed(some, A("10.2.3.4")));
}

TEST(IpAllowTest, ForwardedForIgnoredFromUntrustedPeer) {
  std::vector<Cidr> trusted = {*ParseCidr("10.0.0.0/8")};
  EXPECT_EQ(ClientAddress(A("203.0.113.9"), "1.1.1.1", trusted), A("203.0.113.9"));
  EXPECT_EQ(ClientAddress(A("10.0.0.1"), "", trusted), A("10.0.0.1"));
}

TEST(IpAllowTest, ForwardedForTakesRightMostUntrusted) {
  std::vector<Cidr> trusted = {*ParseCidr("10.0.0.0/8"), *ParseCidr("::1")};
  // client forged "6.6.6.6"; the real client 198.51.100.7 was appended by proxy 10.0.0.2.
  EXPECT_EQ(ClientAddress(A("10.0.0.1"), "6.6.6.6, 198.51.100.7, 10.0.0.2", trusted),
            A("198.51.100.7"));
  EXPECT_EQ(ClientAddress(A("::1"), "2001:db8::7", trusted), A("2001:db8::7"));
  EXPECT_EQ(ClientAddress(A("::1"), "[2001:db8::8]:443", trusted), A("2001:db8::8"));
  EXPECT_EQ(ClientAddress(A("::1"), "198.51.100.9:5555", trusted), A("198.51.100.9"));
  // Every hop trusted: the left-most.
  EXPECT_EQ(ClientAddress(A("10.0.0.1"), "10.0.0.5,10.0.0.2", trusted), A("10.0.0.5"));
  // Garbage stops the walk at the last address believed.
  EXPECT_EQ(ClientAddress(A("10.0.0.1"), "1.2.3.4, unknown", trusted), A("10.0.0.1"));
  // A mapped proxy address is a trusted v4 proxy.
  EXPECT_EQ(ClientAddress(A("::ffff:10.0.0.1"), "198.51.100.7", trusted), A("198.51.100.7"));
}

}  // namespace
}  // namespace modelmux::govern
