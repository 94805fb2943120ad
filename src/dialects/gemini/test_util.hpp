#pragma once
// Test-only helpers for the Gemini dialect tests (included by *_test.cpp only): the shared ones of
// dialects/test_util.hpp, bound to this dialect's testdata folder and stream decoder.

#include "dialects/gemini/stream.hpp"
#include "dialects/test_util.hpp"

namespace modelmux::dialects::gemini::testing {

using dialects::testing::Accumulate;
using dialects::testing::Decoded;
using dialects::testing::ExpectJsonEq;
using dialects::testing::ParseJson;

inline std::string ReadTestdata(const std::string& name) {
  return dialects::testing::ReadDialectTestdata("gemini", name);
}

inline Decoded DecodeStream(std::string_view bytes, const std::vector<size_t>& cuts) {
  GenerateContentStreamDecoder dec;
  return dialects::testing::DecodeStreamWith(dec, bytes, cuts);
}

}  // namespace modelmux::dialects::gemini::testing
