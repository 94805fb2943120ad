// Checks modelmux's tokenizers against js-tiktoken: reads the file written by compare.mjs
// (strings with js-tiktoken's ids for cl100k_base and o200k_base) and compares counts and ids.
// Prints the first mismatches with the string escaped; exits 1 when any string differs.
//
//   tokenizer_compare CASES_FILE
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "text/tiktoken.hpp"

namespace {

using modelmux::text::Encoding;
using modelmux::text::GetTokenizer;

class Reader {
 public:
  explicit Reader(std::string data) : data_(std::move(data)) {}
  bool ok() const { return ok_; }
  uint32_t U32() {
    if (pos_ + 4 > data_.size()) return Fail();
    const auto* p = reinterpret_cast<const unsigned char*>(data_.data() + pos_);
    pos_ += 4;
    return p[0] | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
  }
  std::string_view Bytes(size_t n) {
    if (pos_ + n > data_.size()) return Fail(), std::string_view();
    std::string_view out(data_.data() + pos_, n);
    pos_ += n;
    return out;
  }

 private:
  uint32_t Fail() {
    ok_ = false;
    pos_ = data_.size();
    return 0;
  }
  std::string data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// The string with control characters, non-ASCII code points and invalid bytes escaped.
std::string Escape(std::string_view s) {
  std::string out;
  char buf[16];
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = s[i];
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (c < 0x80) {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
      ++i;
      continue;
    }
    const int len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    uint32_t cp = len == 4 ? c & 0x07 : len == 3 ? c & 0x0f : c & 0x1f;
    bool valid = len > 1 && i + len <= s.size();
    for (int k = 1; valid && k < len; ++k) {
      const unsigned char b = s[i + k];
      valid = (b & 0xc0) == 0x80;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (!valid) {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      ++i;
    } else {
      std::snprintf(buf, sizeof buf, "\\u{%x}", static_cast<unsigned>(cp));
      i += len;
    }
    out += buf;
  }
  return out;
}

std::string Join(const std::vector<uint32_t>& ids) {
  std::string out;
  for (uint32_t id : ids) {
    if (!out.empty()) out += ',';
    out += std::to_string(id);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: tokenizer_compare CASES_FILE\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  Reader r(std::string(std::istreambuf_iterator<char>(in), {}));
  if (r.Bytes(4) != "TKC1") {
    std::fprintf(stderr, "tokenizer_compare: %s is not a compare.mjs file\n", argv[1]);
    return 2;
  }
  const uint32_t count = r.U32();
  const Encoding encodings[] = {Encoding::kCl100kBase, Encoding::kO200kBase};
  size_t mismatches[2] = {0, 0};
  size_t tokens[2] = {0, 0};
  size_t bytes = 0;
  constexpr size_t kShown = 10;
  for (uint32_t i = 0; i < count && r.ok(); ++i) {
    const std::string_view text = r.Bytes(r.U32());
    bytes += text.size();
    for (int e = 0; e < 2; ++e) {
      std::vector<uint32_t> expected(r.U32());
      for (uint32_t& id : expected) id = r.U32();
      if (!r.ok()) break;
      const auto& tokenizer = GetTokenizer(encodings[e]);
      const size_t got_count = tokenizer.Count(text);
      const std::vector<uint32_t> got = tokenizer.Encode(text);
      tokens[e] += expected.size();
      if (got_count == expected.size() && got == expected) continue;
      if (mismatches[e]++ < kShown) {
        std::printf(
            "MISMATCH %s #%u: count %zu, js-tiktoken %zu\n  text \"%s\"\n  ids  %s\n  js   %s\n",
            std::string(tokenizer.name()).c_str(), i, got_count, expected.size(),
            Escape(text).c_str(), Join(got).c_str(), Join(expected).c_str());
      }
    }
  }
  if (!r.ok()) {
    std::fprintf(stderr, "tokenizer_compare: %s is truncated\n", argv[1]);
    return 2;
  }
  std::printf(
      "compared %u strings (%zu bytes): cl100k_base %zu tokens, %zu mismatches; "
      "o200k_base %zu tokens, %zu mismatches\n",
      count, bytes, tokens[0], mismatches[0], tokens[1], mismatches[1]);
  return mismatches[0] + mismatches[1] == 0 ? 0 : 1;
}
