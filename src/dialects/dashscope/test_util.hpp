#pragma once
// Test-only helpers for the DashScope dialect tests (included by *_test.cpp only).

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/chat.hpp"
#include "dialects/dashscope/stream.hpp"
#include "dialects/openai/stream.hpp"

namespace modelmux::dialects::dashscope::testing {

inline std::string ReadTestdata(const std::string& name) {
  std::ifstream f(std::string(MODELMUX_TESTDATA_DIR) + "/dashscope/testdata/" + name,
                  std::ios::binary);
  EXPECT_TRUE(f.good()) << name;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline boost::json::value ParseJson(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  EXPECT_FALSE(ec) << text;
  return v;
}

struct Decoded {
  std::vector<StreamEvent> events;
  Status feed = OkStatus();
  Status finish = OkStatus();
  DashScopeStreamDecoder::TextMode mode = DashScopeStreamDecoder::TextMode::kAuto;
};

// Decodes `bytes` fed in the pieces that start at each offset of `cuts` (ascending).
inline Decoded DecodeStream(
    std::string_view bytes, const std::vector<size_t>& cuts,
    DashScopeStreamDecoder::TextMode mode = DashScopeStreamDecoder::TextMode::kAuto) {
  Decoded d;
  DashScopeStreamDecoder dec(mode);
  size_t from = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(bytes.size());
  for (size_t end : ends) {
    if (end < from) continue;
    d.feed = dec.Feed(bytes.substr(from, end - from), d.events);
    from = end;
    if (!d.feed.ok()) return d;
  }
  d.finish = dec.Finish(d.events);
  d.mode = dec.mode();
  return d;
}

inline ChatResponse Accumulate(const std::vector<StreamEvent>& events) {
  openai::StreamAccumulator acc;
  for (const auto& ev : events) acc.Add(ev);
  return acc.Response();
}

}  // namespace modelmux::dialects::dashscope::testing
