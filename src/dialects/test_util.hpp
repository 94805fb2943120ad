#pragma once
// Test-only helpers shared by the dialect tests (included by *_test.cpp only): golden files,
// JSON comparison, and a stream decoder fed in pieces cut at given offsets.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/chat.hpp"
#include "dialects/openai/stream.hpp"

namespace modelmux::dialects::testing {

// src/dialects/<dialect>/testdata/<name>, as bytes.
inline std::string ReadDialectTestdata(std::string_view dialect, const std::string& name) {
  std::ifstream f(
      std::string(MODELMUX_TESTDATA_DIR) + "/" + std::string(dialect) + "/testdata/" + name,
      std::ios::binary);
  EXPECT_TRUE(f.good()) << dialect << "/" << name;
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

// Equal JSON values (object key order does not matter).
inline void ExpectJsonEq(std::string_view actual, std::string_view expected) {
  const boost::json::value a = ParseJson(actual);
  const boost::json::value e = ParseJson(expected);
  EXPECT_EQ(a, e) << "actual:   " << boost::json::serialize(a)
                  << "\nexpected: " << boost::json::serialize(e);
}

struct Decoded {
  std::vector<StreamEvent> events;
  Status feed = OkStatus();
  Status finish = OkStatus();
};

// Decodes `bytes` with `dec`, fed in the pieces that start at each offset of `cuts` (ascending).
template <class Decoder>
Decoded DecodeStreamWith(Decoder& dec, std::string_view bytes, const std::vector<size_t>& cuts) {
  Decoded d;
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
  return d;
}

inline ChatResponse Accumulate(const std::vector<StreamEvent>& events) {
  openai::StreamAccumulator acc;
  for (const auto& ev : events) acc.Add(ev);
  return acc.Response();
}

}  // namespace modelmux::dialects::testing
