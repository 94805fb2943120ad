#pragma once
// Test-only helpers for the Anthropic dialect tests (included by *_test.cpp only): the shared ones
// of dialects/test_util.hpp, bound to this dialect's testdata folder and stream decoder.

#include "dialects/anthropic/stream.hpp"
#include "dialects/test_util.hpp"

namespace modelmux::dialects::anthropic::testing {

using dialects::testing::Accumulate;
using dialects::testing::Decoded;
using dialects::testing::ExpectJsonEq;
using dialects::testing::ParseJson;

inline std::string ReadTestdata(const std::string& name) {
  return dialects::testing::ReadDialectTestdata("anthropic", name);
}

inline Decoded DecodeStream(std::string_view bytes, const std::vector<size_t>& cuts) {
  MessagesStreamDecoder dec;
  return dialects::testing::DecodeStreamWith(dec, bytes, cuts);
}

}  // namespace modelmux::dialects::anthropic::testing
