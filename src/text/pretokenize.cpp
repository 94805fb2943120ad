#include "text/pretokenize.hpp"

#include <cstring>

// unicode_flags.bin, linked in by cmake/EmbedBinary.cmake: "TKU1", u32 block count,
// u16 stage1[0x1100], u8 stage2[blocks][256] (see scripts/tokenizer-tables.mjs).
extern "C" const unsigned char mm_tokenizer_unicode_flags[];

namespace modelmux::text {
namespace {

constexpr size_t kStage1Offset = 8;
constexpr size_t kStage2Offset = kStage1Offset + (0x110000 >> 8) * 2;

struct Cp {
  uint8_t props;
  uint8_t len;
};

inline uint8_t Props(char32_t cp) {
  if (cp >= 0x110000) return 0;
  const unsigned char* stage1 = mm_tokenizer_unicode_flags + kStage1Offset + (cp >> 8) * 2;
  const size_t block = stage1[0] | (size_t{stage1[1]} << 8);
  return mm_tokenizer_unicode_flags[kStage2Offset + block * 256 + (cp & 0xff)];
}

inline bool Cont(unsigned char b) {
  return (b & 0xc0) == 0x80;
}

// Decodes the code point at s[i] (i < n). An invalid or truncated sequence is one byte with no
// properties.
inline Cp DecodeAt(const unsigned char* s, size_t n, size_t i) {
  const unsigned c = s[i];
  if (c < 0x80) {
    // Block 0 of stage 2 holds U+0000..U+00FF (it is the first block the generator emits).
    uint8_t p = mm_tokenizer_unicode_flags[kStage2Offset + c];
    if (c == '\n' || c == '\r') p |= kPropLineBreak;
    return {p, 1};
  }
  const size_t left = n - i;
  if (c >= 0xc2 && c <= 0xdf) {
    if (left >= 2 && Cont(s[i + 1])) return {Props(((c & 0x1f) << 6) | (s[i + 1] & 0x3f)), 2};
    return {0, 1};
  }
  if (c >= 0xe0 && c <= 0xef) {
    if (left < 3) return {0, 1};
    const unsigned b1 = s[i + 1];
    const unsigned lo = c == 0xe0 ? 0xa0 : 0x80;
    const unsigned hi = c == 0xed ? 0x9f : 0xbf;
    if (b1 < lo || b1 > hi || !Cont(s[i + 2])) return {0, 1};
    return {Props(((c & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (s[i + 2] & 0x3f)), 3};
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (left < 4) return {0, 1};
    const unsigned b1 = s[i + 1];
    const unsigned lo = c == 0xf0 ? 0x90 : 0x80;
    const unsigned hi = c == 0xf4 ? 0x8f : 0xbf;
    if (b1 < lo || b1 > hi || !Cont(s[i + 2]) || !Cont(s[i + 3])) return {0, 1};
    return {Props(((c & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((s[i + 2] & 0x3f) << 6) |
                  (s[i + 3] & 0x3f)),
            4};
  }
  return {0, 1};
}

constexpr uint8_t kLetterOrNumber = kPropLetter | kPropNumber;
// [^\s\p{L}\p{N}]
inline bool IsPunct(Cp c) {
  return (c.props & (kPropLetter | kPropNumber | kPropSpace)) == 0;
}
// [^\r\n\p{L}\p{N}]
inline bool IsPrefix(Cp c) {
  return (c.props & (kLetterOrNumber | kPropLineBreak)) == 0;
}

class Text {
 public:
  explicit Text(std::string_view s)
      : s_(reinterpret_cast<const unsigned char*>(s.data())), n_(s.size()) {}

  size_t size() const { return n_; }
  Cp At(size_t i) const { return DecodeAt(s_, n_, i); }
  unsigned char Byte(size_t i) const { return s_[i]; }

  // End of the run of code points from i that have any bit of `mask`.
  size_t SkipWhile(size_t i, uint8_t mask) const {
    while (i < n_) {
      const Cp c = At(i);
      if ((c.props & mask) == 0) break;
      i += c.len;
    }
    return i;
  }

  // Length of a contraction ('s 't 're 've 'm 'll 'd, ASCII letters in any case) at i, or 0.
  size_t Contraction(size_t i) const {
    if (i + 1 >= n_ || s_[i] != '\'') return 0;
    const unsigned a = s_[i + 1] | 0x20;
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if (i + 2 >= n_) return 0;
    const unsigned b = s_[i + 2] | 0x20;
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    return 0;
  }

  // The whitespace alternatives shared by both patterns, at a code point with kPropSpace:
  // \s*[\r\n]+ | \s+(?!\S) | \s+
  size_t WhitespaceEnd(size_t i) const {
    size_t last_break_end = 0;
    size_t last_start = i;
    size_t j = i;
    while (j < n_) {
      const Cp c = At(j);
      if ((c.props & kPropSpace) == 0) break;
      last_start = j;
      j += c.len;
      if (c.props & kPropLineBreak) last_break_end = j;
    }
    if (last_break_end != 0) return last_break_end;  // \s*[\r\n]+
    if (j == n_) return j;                           // \s+(?!\S) at the end of the text
    if (last_start > i) return last_start;           // \s+(?!\S): leave one for the next word
    return j;                                        // \s+
  }

  // ` ?[^\s\p{L}\p{N}]+` followed by a run of `tail` bytes (\r \n, and / for o200k); 0 if no
  // match at i.
  size_t PunctEnd(size_t i, bool slash_tail) const {
    size_t j = i;
    if (s_[j] == ' ') ++j;
    if (j >= n_ || !IsPunct(At(j))) return 0;
    j = SkipPunct(j);
    while (j < n_ && (s_[j] == '\r' || s_[j] == '\n' || (slash_tail && s_[j] == '/'))) ++j;
    return j;
  }

 private:
  size_t SkipPunct(size_t j) const {
    while (j < n_) {
      const Cp c = At(j);
      if (!IsPunct(c)) break;
      j += c.len;
    }
    return j;
  }

  const unsigned char* s_;
  size_t n_;
};

size_t NumberEnd(const Text& t, size_t i) {
  for (int k = 0; k < 3 && i < t.size(); ++k) {
    const Cp c = t.At(i);
    if ((c.props & kPropNumber) == 0) break;
    i += c.len;
  }
  return i;
}

// [^\r\n\p{L}\p{N}]?[Upperish]*[Lowerish]+ starting after the optional prefix at `pos`; 0 if no
// match. Backtracking of [Upperish]* gives the last Lowerish code point of the Upperish run when
// the run is not followed by a Lowerish one.
size_t UpperThenLowerEnd(const Text& t, size_t pos) {
  size_t last_lower_end = 0;
  size_t j = pos;
  while (j < t.size()) {
    const Cp c = t.At(j);
    if ((c.props & kPropUpperish) == 0) {
      if (c.props & kPropLowerish) return t.SkipWhile(j, kPropLowerish);
      break;
    }
    j += c.len;
    if (c.props & kPropLowerish) last_lower_end = j;
  }
  return last_lower_end;
}

}  // namespace

uint8_t CodePointProps(char32_t cp) {
  return Props(cp);
}

PieceSplitter::PieceSplitter(SplitPattern pattern, std::string_view text)
    : pattern_(pattern), text_(text) {}

std::string_view PieceSplitter::Next() {
  if (pos_ >= text_.size()) return {};
  const size_t end = pattern_ == SplitPattern::kCl100k ? EndCl100k(pos_) : EndO200k(pos_);
  const std::string_view piece = text_.substr(pos_, end - pos_);
  pos_ = end;
  return piece;
}

// '(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
// \s*[\r\n]+|\s+(?!\S)|\s+
size_t PieceSplitter::EndCl100k(size_t i) const {
  const Text t(text_);
  if (const size_t k = t.Contraction(i)) return i + k;
  const Cp c = t.At(i);
  if (c.props & kPropLetter) return t.SkipWhile(i + c.len, kPropLetter);
  if (IsPrefix(c)) {
    const size_t j = i + c.len;
    if (j < t.size() && (t.At(j).props & kPropLetter)) return t.SkipWhile(j, kPropLetter);
  }
  if (c.props & kPropNumber) return NumberEnd(t, i);
  if (const size_t e = t.PunctEnd(i, false)) return e;
  if (c.props & kPropSpace) return t.WhitespaceEnd(i);
  return i + c.len;  // unreachable: every code point matches one alternative
}

// [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|...)?|
// [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|...)?|
// \p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
size_t PieceSplitter::EndO200k(size_t i) const {
  const Text t(text_);
  const Cp c = t.At(i);
  const bool prefix = IsPrefix(c);
  const size_t after_prefix = i + c.len;
  // First alternative: with the optional prefix taken, then without it.
  if (prefix && after_prefix < t.size()) {
    if (const size_t e = UpperThenLowerEnd(t, after_prefix)) return e + t.Contraction(e);
  }
  if (const size_t e = UpperThenLowerEnd(t, i)) return e + t.Contraction(e);
  // Second alternative.
  if (prefix && after_prefix < t.size() && (t.At(after_prefix).props & kPropUpperish)) {
    const size_t e = t.SkipWhile(t.SkipWhile(after_prefix, kPropUpperish), kPropLowerish);
    return e + t.Contraction(e);
  }
  if (c.props & kPropUpperish) {
    const size_t e = t.SkipWhile(t.SkipWhile(i, kPropUpperish), kPropLowerish);
    return e + t.Contraction(e);
  }
  if (c.props & kPropNumber) return NumberEnd(t, i);
  if (const size_t e = t.PunctEnd(i, true)) return e;
  if (c.props & kPropSpace) return t.WhitespaceEnd(i);
  return i + c.len;  // unreachable: every code point matches one alternative
}

}  // namespace modelmux::text
