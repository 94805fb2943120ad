#include "gateway/stats_api.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace modelmux::gateway {
namespace {

net::ServerRequest Req(std::string authorization, std::string peer = "127.0.0.1") {
  net::ServerRequest r;
  r.method = "GET";
  r.target = "/admin/stats";
  if (!authorization.empty()) r.headers.Add("authorization", std::move(authorization));
  r.peer = boost::asio::ip::make_address(peer);
  return r;
}

TEST(StatsApi, MasterKeyIsRequiredWhenConfigured) {
  const std::string key = "mk-dashboard-test";
  EXPECT_FALSE(CheckAdminAccess(Req("Bearer mk-dashboard-test"), key).has_value());
  EXPECT_FALSE(CheckAdminAccess(Req("bearer mk-dashboard-test", "203.0.113.9"), key).has_value());
  for (const char* bad : {"", "Bearer mk-dashboard-tes", "Bearer mk-dashboard-test2", "Bearer ",
                          "mk-dashboard-test", "Basic mk-dashboard-test"}) {
    auto denied = CheckAdminAccess(Req(bad), key);
    ASSERT_TRUE(denied.has_value()) << bad;
    EXPECT_EQ(denied->HttpStatus(), 401) << bad;
    EXPECT_EQ(denied->code, "invalid_master_key");
    EXPECT_EQ(denied->message.find(key), std::string::npos);  // the key is never echoed
  }
}

TEST(StatsApi, WithoutMasterKeyOnlyLoopbackPeers) {
  EXPECT_FALSE(CheckAdminAccess(Req(""), "").has_value());
  EXPECT_FALSE(CheckAdminAccess(Req("", "::1"), "").has_value());
  EXPECT_FALSE(CheckAdminAccess(Req("", "::ffff:127.0.0.1"), "").has_value());
  for (const char* peer : {"192.168.1.7", "10.0.0.1", "::ffff:10.0.0.1", "2001:db8::1"}) {
    auto denied = CheckAdminAccess(Req("Bearer anything", peer), "");
    ASSERT_TRUE(denied.has_value()) << peer;
    EXPECT_EQ(denied->HttpStatus(), 403);
    EXPECT_EQ(denied->code, "admin_loopback_only");
  }
}

TEST(StatsApi, ErrorsLimit) {
  EXPECT_EQ(ErrorsLimitFromQuery("", 100, 100).value(), 100u);
  EXPECT_EQ(ErrorsLimitFromQuery("limit=7", 100, 100).value(), 7u);
  EXPECT_EQ(ErrorsLimitFromQuery("limit=100", 50, 100).value(), 100u);
  for (const char* bad : {"limit=0", "limit=101", "limit=abc", "limit=5x", "limit=", "foo=1"}) {
    auto r = ErrorsLimitFromQuery(bad, 100, 100);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().HttpStatus(), 400);
    EXPECT_EQ(r.error().code, "invalid_value");
  }
}

TEST(StatsApi, StatsJsonCarriesTheMetricsTextVerbatim) {
  StatsSnapshot s;
  s.version = "1.2.3";
  s.uptime_s = 12.5;
  s.now_ms = 1'700'000'000'000;
  s.metrics =
      "# HELP modelmux_requests_total Requests.\n"
      "modelmux_requests_total{model=\"a\\\"b\",status=\"200\"} 3\n";
  FailedRequest e;
  e.request_id = "req-1";
  e.status = 502;
  s.errors = {e};
  s.errors_total = 9;
  const auto v = boost::json::parse(StatsJson(s)).as_object();
  EXPECT_EQ(v.at("version").as_string(), "1.2.3");
  EXPECT_DOUBLE_EQ(v.at("uptime_s").to_number<double>(), 12.5);
  EXPECT_EQ(v.at("now_ms").as_int64(), 1'700'000'000'000);
  EXPECT_EQ(v.at("metrics").as_string(), s.metrics);
  EXPECT_EQ(v.at("errors_total").as_int64(), 9);
  ASSERT_EQ(v.at("errors").as_array().size(), 1u);
  EXPECT_EQ(v.at("errors").as_array()[0].as_object().at("status").as_int64(), 502);
}

TEST(StatsApi, ErrorsJson) {
  FailedRequest e;
  e.request_id = "req-2";
  const auto v = boost::json::parse(ErrorsJson({e}, 41, 100)).as_object();
  EXPECT_EQ(v.at("total").as_int64(), 41);
  EXPECT_EQ(v.at("capacity").as_int64(), 100);
  EXPECT_EQ(v.at("errors").as_array()[0].as_object().at("request_id").as_string(), "req-2");
}

}  // namespace
}  // namespace modelmux::gateway
