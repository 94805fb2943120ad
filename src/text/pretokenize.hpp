#pragma once
// Hand-written pre-tokenizers ("split patterns") of OpenAI's cl100k_base and o200k_base
// encodings: they cut text into the pieces that byte-pair encoding then merges, exactly as
// js-tiktoken's regular expressions do under node (same alternation order, greedy quantifiers and
// backtracking), without a regex engine.
//
// Unicode properties (\p{L}, \p{N}, \p{Lu}..., \p{M}, and JavaScript's \s, which includes U+FEFF
// but not U+0085) come from data/tokenizers/unicode_flags.bin, generated from node's ICU by
// scripts/tokenizer-tables.mjs. The contraction suffixes ('s 't 're 've 'm 'll 'd) match ASCII
// letters in any case, as js-tiktoken's patterns spell them out.
//
// Invalid UTF-8: every byte that does not start a well-formed sequence (RFC 3629: no overlongs,
// surrogates or values above U+10FFFF; truncated sequences included) is one code point of its own
// with no property, i.e. it behaves like punctuation ([^\s\p{L}\p{N}]). The pieces still cover
// the input byte for byte, so counting and encoding never fail.
//
// Pure and thread-safe; no allocation.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace modelmux::text {

enum class SplitPattern { kCl100k, kO200k };

// Property bits of a code point, as stored in unicode_flags.bin.
inline constexpr uint8_t kPropLetter = 1;      // \p{L}
inline constexpr uint8_t kPropNumber = 2;      // \p{N}
inline constexpr uint8_t kPropSpace = 4;       // JavaScript's \s
inline constexpr uint8_t kPropUpperish = 8;    // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
inline constexpr uint8_t kPropLowerish = 16;   // [\p{Ll}\p{Lm}\p{Lo}\p{M}]
inline constexpr uint8_t kPropLineBreak = 32;  // \r or \n (not stored: set by the decoder)

// The property bits of code point `cp` (0 for unassigned, surrogates and cp > U+10FFFF).
[[nodiscard]] uint8_t CodePointProps(char32_t cp);

// Iterates over the pieces of `text`: each call to Next() returns the next piece (a non-empty view
// into `text`) or an empty view at the end. The pieces concatenate to `text`.
class PieceSplitter {
 public:
  PieceSplitter(SplitPattern pattern, std::string_view text);

  [[nodiscard]] std::string_view Next();

 private:
  size_t EndCl100k(size_t i) const;
  size_t EndO200k(size_t i) const;

  SplitPattern pattern_;
  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace modelmux::text
