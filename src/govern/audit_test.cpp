#include "govern/audit.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace modelmux::govern {
namespace {

TEST(AuditTest, LineIsOneJsonObject) {
  AuditEntry e;
  e.time = std::chrono::system_clock::time_point(std::chrono::seconds(1'764'403'200));
  e.who = "master";
  e.action = "key.create";
  e.target = "key_01";
  e.request_id = "req-1";
  e.peer = "127.0.0.1";
  e.detail_json = R"({"fields":["name"]})";
  const std::string line = FormatAuditLine(e);
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  auto v = boost::json::parse(line);
  EXPECT_EQ(v.at("ts").as_string(), "2025-11-29T08:00:00Z");
  EXPECT_EQ(v.at("who").as_string(), "master");
  EXPECT_EQ(v.at("action").as_string(), "key.create");
  EXPECT_EQ(v.at("target").as_string(), "key_01");
  EXPECT_EQ(v.at("detail").at("fields").as_array().size(), 1u);
}

TEST(AuditTest, AppendsLines) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("modelmux_audit_test_" + std::to_string(::getpid()) + ".log");
  std::filesystem::remove(path);
  {
    AuditLog log(path.string());
    AuditEntry e;
    e.who = "master";
    e.action = "key.create";
    ASSERT_TRUE(log.Append(e).ok());
    e.action = "key.revoke";
    ASSERT_TRUE(log.Append(e).ok());
  }
  std::ifstream in(path);
  std::string a, b, c;
  std::getline(in, a);
  std::getline(in, b);
  EXPECT_FALSE(std::getline(in, c));
  EXPECT_NE(a.find("key.create"), std::string::npos);
  EXPECT_NE(b.find("key.revoke"), std::string::npos);
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::others_read,
            std::filesystem::perms::none);
  std::filesystem::remove(path);
}

TEST(AuditTest, UnwritablePathIsAnError) {
  AuditLog log("/nonexistent-dir/for/sure/audit.log");
  auto st = log.Append(AuditEntry{});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "audit_log_unavailable");
}

}  // namespace
}  // namespace modelmux::govern
