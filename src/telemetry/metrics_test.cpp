#include "telemetry/metrics.hpp"

#include <gtest/gtest.h>

namespace modelmux::telemetry {
namespace {

TEST(MetricsTest, RendersCountersAndCumulativeHistogramBuckets) {
  Registry r;
  auto& req = r.AddCounter("modelmux_requests_total", "Requests.", {"model", "status"});
  req.With({"sim/echo", "200"}).Inc();
  req.With({"sim/echo", "200"}).Inc();
  req.With({"a\"b", "500"}).Inc();
  auto& lat = r.AddHistogram("modelmux_latency_seconds", "Latency.", {"model"}, {0.1, 1});
  lat.With({"m"}).Observe(0.05);
  lat.With({"m"}).Observe(0.5);
  lat.With({"m"}).Observe(5);
  std::string text = r.Render();
  EXPECT_NE(text.find("modelmux_requests_total{model=\"sim/echo\",status=\"200\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("model=\"a\\\"b\""), std::string::npos);
  EXPECT_NE(text.find("modelmux_latency_seconds_bucket{model=\"m\",le=\"0.1\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("modelmux_latency_seconds_bucket{model=\"m\",le=\"1\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("modelmux_latency_seconds_bucket{model=\"m\",le=\"+Inf\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("modelmux_latency_seconds_count{model=\"m\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE modelmux_latency_seconds histogram"), std::string::npos);
}

TEST(MetricsTest, MirroredCountersAreSetNotAdded) {
  Registry r;
  auto& ej = r.AddCounter("modelmux_deployment_ejections_total", "Ejections.", {"deployment"});
  ej.With({"a/b"}).SetTotal(3);
  ej.With({"a/b"}).SetTotal(4);
  EXPECT_EQ(ej.With({"a/b"}).Value(), 4);
  EXPECT_NE(r.Render().find("modelmux_deployment_ejections_total{deployment=\"a/b\"} 4\n"),
            std::string::npos);
}

TEST(MetricsTest, ListsEveryFamilyWithItsTypeAndLabels) {
  Registry r;
  r.AddCounter("c_total", "C.", {"a"});
  r.AddGauge("g", "G.", {});
  r.AddHistogram("h_seconds", "H.", {"x", "y"}, {1});
  auto f = r.Families();
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].name, "c_total");
  EXPECT_EQ(f[0].type, "counter");
  EXPECT_EQ(f[1].type, "gauge");
  EXPECT_EQ(f[2].type, "histogram");
  EXPECT_EQ(f[2].labels, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(f[2].help, "H.");
}

TEST(MetricsTest, OverheadBucketsResolveMicroseconds) {
  Registry r;
  auto& h = r.AddHistogram("o_seconds", "O.", {}, OverheadBuckets()).With({});
  h.Observe(0.00003);  // 30 us: above 25 us, within 50 us
  std::string text = r.Render();
  EXPECT_NE(text.find("o_seconds_bucket{le=\"2.5e-05\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("o_seconds_bucket{le=\"5e-05\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("o_seconds_sum 3e-05\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace modelmux::telemetry
