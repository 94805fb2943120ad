#include "sim/text_gen.hpp"

#include <algorithm>
#include <array>

namespace modelmux::sim {
namespace {

// Length of the UTF-8 sequence starting at s[i] (1 for invalid bytes), clamped to the text.
size_t SeqLen(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n = 1;
  if (c >= 0xF0 && c < 0xF8) {
    n = 4;
  } else if (c >= 0xE0) {
    n = c < 0xF0 ? 3 : 1;
  } else if (c >= 0xC0) {
    n = 2;
  }
  return i + n <= s.size() ? n : 1;
}

uint32_t Decode(std::string_view s, size_t i, size_t n) {
  auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(s[i + k])); };
  switch (n) {
    case 2:
      return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3:
      return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    case 4:
      return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
    default:
      return b(0);
  }
}

bool IsCjk(uint32_t cp) {
  return (cp >= 0x3000 && cp <= 0x9FFF) || (cp >= 0xAC00 && cp <= 0xD7AF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFF00 && cp <= 0xFFEF) ||
         (cp >= 0x20000 && cp <= 0x2FFFF);
}

bool IsSpace(uint32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r';
}

constexpr std::array<std::string_view, 24> kWords = {
    "the",   "model",  "answers", "with",   "simulated", "tokens", "from",   "a",
    "small", "stream", "of",      "words",  "gateway",   "routes", "every",  "request",
    "cache", "keeps",  "quick",   "signal", "river",     "light",  "system", "result"};
constexpr std::array<std::string_view, 12> kChineseWords = {
    "你好", "模型", "数据", "测试", "回答", "网关", "缓存", "路由", "系统", "结果", "流式", "令牌"};

}  // namespace

uint64_t Fnv1a(std::string_view bytes, uint64_t h) {
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

int64_t CountTokens(std::string_view text) {
  return static_cast<int64_t>((text.size() + 3) / 4);
}

bool ContainsCjk(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    size_t n = SeqLen(text, i);
    if (n > 1 && IsCjk(Decode(text, i, n))) return true;
    i += n;
  }
  return false;
}

std::vector<std::string> SplitPieces(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  bool has_word = false;
  auto flush = [&] {
    out.push_back(std::move(cur));
    cur.clear();
    has_word = false;
  };
  for (size_t i = 0; i < text.size();) {
    size_t n = SeqLen(text, i);
    uint32_t cp = Decode(text, i, n);
    std::string_view bytes = text.substr(i, n);
    i += n;
    if (IsCjk(cp)) {
      if (has_word) flush();
      cur.append(bytes);
      flush();
    } else if (IsSpace(cp)) {
      if (has_word) flush();
      cur.append(bytes);
    } else {
      cur.append(bytes);
      has_word = true;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::vector<std::string> GeneratePieces(uint64_t seed, size_t count, bool cjk, bool final_period) {
  std::vector<std::string> out;
  out.reserve(count);
  uint64_t state = seed;
  bool last_chinese = false;
  for (size_t i = 0; i < count; ++i) {
    uint64_t r = SplitMix64(state);
    last_chinese = cjk && (r & 1) == 0;
    if (last_chinese) {
      out.emplace_back(kChineseWords[(r >> 8) % kChineseWords.size()]);
    } else {
      std::string piece = i == 0 ? "" : " ";
      piece.append(kWords[(r >> 8) % kWords.size()]);
      out.push_back(std::move(piece));
    }
  }
  if (final_period && !out.empty()) out.back().append(last_chinese ? "。" : ".");
  return out;
}

std::vector<std::string> SplitFragments(std::string_view text, size_t parts) {
  std::vector<size_t> starts;  // code point starts
  for (size_t i = 0; i < text.size(); i += SeqLen(text, i)) starts.push_back(i);
  std::vector<std::string> out;
  if (text.empty()) return out;
  size_t n = std::min(std::max<size_t>(parts, 1), starts.size());
  size_t prev = 0;
  for (size_t k = 1; k <= n; ++k) {
    size_t end = k == n ? text.size() : starts[k * starts.size() / n];
    out.emplace_back(text.substr(prev, end - prev));
    prev = end;
  }
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto at = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 0x3F]);
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = at(i) << 16;
    if (rest == 2) v |= at(i + 1) << 8;
    out.push_back(kAlphabet[(v >> 18) & 0x3F]);
    out.push_back(kAlphabet[(v >> 12) & 0x3F]);
    out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 0x3F] : '=');
    out.push_back('=');
  }
  return out;
}

}  // namespace modelmux::sim
