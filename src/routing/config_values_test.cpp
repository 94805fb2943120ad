#include "routing/config_values.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

namespace modelmux::routing {
namespace {

using namespace std::chrono_literals;
using config_detail::EditDistance;
using config_detail::Interpolate;
using config_detail::SuggestKey;

EnvLookup MapEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ParseDurationTest, AcceptsUnitsAndBareMilliseconds) {
  EXPECT_EQ(ParseDuration("250ms"), 250ms);
  EXPECT_EQ(ParseDuration("5s"), 5000ms);
  EXPECT_EQ(ParseDuration("2m"), 120000ms);
  EXPECT_EQ(ParseDuration("1h"), 3600000ms);
  EXPECT_EQ(ParseDuration("1m30s"), 90000ms);
  EXPECT_EQ(ParseDuration("1500"), 1500ms);
  EXPECT_EQ(ParseDuration("0"), 0ms);
  EXPECT_EQ(ParseDuration(" 7s "), 7000ms);
}

TEST(ParseDurationTest, RefusesMalformedValues) {
  for (const char* bad :
       {"", "s", "5x", "-5s", "1.5s", "5 s", "ms", "5sec", "99999999999999999999h"}) {
    EXPECT_FALSE(ParseDuration(bad).has_value()) << bad;
  }
}

TEST(ParseSizeTest, AcceptsBinaryAndDecimalUnits) {
  EXPECT_EQ(ParseSize("32MiB"), 32u * 1024 * 1024);
  EXPECT_EQ(ParseSize("1MiB"), 1048576u);
  EXPECT_EQ(ParseSize("64KiB"), 65536u);
  EXPECT_EQ(ParseSize("2GiB"), 2147483648u);
  EXPECT_EQ(ParseSize("10KB"), 10000u);
  EXPECT_EQ(ParseSize("512"), 512u);
  EXPECT_EQ(ParseSize("512B"), 512u);
  EXPECT_EQ(ParseSize("200 MiB"), 200u * 1024 * 1024);
}

TEST(ParseSizeTest, RefusesMalformedValues) {
  for (const char* bad : {"", "MiB", "-1MiB", "1.5MiB", "12XB", "99999999999999999TiB"}) {
    EXPECT_FALSE(ParseSize(bad).has_value()) << bad;
  }
}

TEST(InterpolateTest, ExpandsVariablesAndRecordsTheFirstSource) {
  auto env = MapEnv({{"KEY", "sk-123"}, {"HOST", "example.com"}});
  auto v = Interpolate("${KEY}", env);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->value, "sk-123");
  EXPECT_EQ(v->source, "KEY");
  EXPECT_TRUE(v->templated);

  auto url = Interpolate("https://${HOST}:${PORT:-443}/v1", env);
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->value, "https://example.com:443/v1");
  EXPECT_EQ(url->source, "HOST");

  auto literal = Interpolate("plain", env);
  ASSERT_TRUE(literal.ok());
  EXPECT_EQ(literal->value, "plain");
  EXPECT_EQ(literal->source, "config");
  EXPECT_FALSE(literal->templated);

  auto escaped = Interpolate("$${KEY} costs $5", env);
  ASSERT_TRUE(escaped.ok());
  EXPECT_EQ(escaped->value, "${KEY} costs $5");
}

TEST(InterpolateTest, DefaultAppliesWhenUnsetOrEmpty) {
  auto env = MapEnv({{"EMPTY", ""}, {"SET", "x"}});
  EXPECT_EQ(Interpolate("${MISSING:-d1}", env)->value, "d1");
  EXPECT_EQ(Interpolate("${EMPTY:-d2}", env)->value, "d2");
  EXPECT_EQ(Interpolate("${SET:-d3}", env)->value, "x");
  EXPECT_EQ(Interpolate("${MISSING:-}", env)->value, "");
}

TEST(InterpolateTest, MissingVariableIsAnErrorNamingIt) {
  auto v = Interpolate("Bearer ${NOPE_KEY}", MapEnv({}));
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("'NOPE_KEY'"), std::string::npos) << v.error().message;
  EXPECT_FALSE(Interpolate("${unterminated", MapEnv({})).ok());
  EXPECT_FALSE(Interpolate("${1BAD}", MapEnv({})).ok());
}

TEST(InterpolateTest, FileReferenceReadsTheSecretAndStripsTrailingNewlines) {
  auto path = std::filesystem::temp_directory_path() / "modelmux_config_values_test_secret";
  {
    std::ofstream out(path);
    out << "s3cr3t-value\r\n\n";
  }
  auto v = Interpolate("${file:" + path.string() + "}", MapEnv({}));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->value, "s3cr3t-value");
  EXPECT_EQ(v->source, "file:" + path.string());
  std::filesystem::remove(path);

  auto missing = Interpolate("${file:" + path.string() + "}", MapEnv({}));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find(path.string()), std::string::npos);
}

TEST(SuggestKeyTest, SuggestsCloseKeysOnly) {
  EXPECT_EQ(EditDistance("prot", "port"), 2u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(SuggestKey("prot", {"host", "port", "threads"}), "port");
  EXPECT_EQ(SuggestKey("idle_timeot", {"idle_timeout", "header_timeout"}), "idle_timeout");
  EXPECT_EQ(SuggestKey("zzzzzzzz", {"host", "port"}), "");
}

}  // namespace
}  // namespace modelmux::routing
