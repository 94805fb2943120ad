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

}  // namespace
}  // namespace modelmux::telemetry
