#include "sim/context_window.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace modelmux::sim {
namespace {

TEST(SimContextWindow, ReadsTheWindowFromTheModelName) {
  EXPECT_EQ(SimContextWindow("echo-ctx50"), 50);
  EXPECT_EQ(SimContextWindow("chat-ctx4000-mini"), 4000);
  EXPECT_EQ(SimContextWindow("ctx12"), 12);
  EXPECT_EQ(SimContextWindow("echo"), std::nullopt);
  EXPECT_EQ(SimContextWindow("ctx-big"), std::nullopt);
  EXPECT_EQ(SimContextWindow("echo-ctx0"), std::nullopt);
}

TEST(SimContextWindow, ErrorsUseEachDialectsShape) {
  auto openai = boost::json::parse(ContextLengthErrorJson(false, 120, 50));
  const auto& e = openai.at("error").as_object();
  EXPECT_EQ(e.at("code").as_string(), "context_length_exceeded");
  EXPECT_EQ(e.at("type").as_string(), "invalid_request_error");
  EXPECT_NE(std::string(e.at("message").as_string()).find("50 tokens"), std::string::npos);

  auto anthropic = boost::json::parse(ContextLengthErrorJson(true, 120, 50));
  EXPECT_EQ(anthropic.at("type").as_string(), "error");
  EXPECT_EQ(anthropic.at("error").at("message").as_string(),
            "prompt is too long: 120 tokens > 50 maximum");
}

}  // namespace
}  // namespace modelmux::sim
