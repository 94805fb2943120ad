#pragma once
// Character classes shared by the sentence splitter and the chunker. Internal to src/text (not
// part of the public API). All functions are pure.

#include <string_view>

namespace modelmux::text::detail {

// Unicode White_Space, plus U+FEFF (byte order mark / zero width no-break space).
[[nodiscard]] bool IsSpace(char32_t c);
// \n \v \f \r U+0085 U+2028 U+2029.
[[nodiscard]] bool IsLineBreak(char32_t c);
// Closing quotes and brackets that stay with the sentence they follow.
[[nodiscard]] bool IsCloser(char32_t c);
// Opening quotes and brackets (stripped before an abbreviation is looked up).
[[nodiscard]] bool IsOpener(char32_t c);
// Ends a sentence wherever it stands: 。！？｡‼⁇⁈⁉︒ (and ； when `semicolon`).
[[nodiscard]] bool IsStrongTerminator(char32_t c, bool semicolon);
// Ends a sentence only in context: . ! ? ． … ⋯ (and ; when `semicolon`).
[[nodiscard]] bool IsWeakTerminator(char32_t c, bool semicolon);
// A comma-like mark after which the sentence goes on: ，、､,：:；;
[[nodiscard]] bool IsContinuation(char32_t c);
// A full-width clause mark where a too-long sentence may be cut: ，、､；：
[[nodiscard]] bool IsWideClauseMark(char32_t c);
// CJK ideographs, kana, hangul, bopomofo, CJK and full-width punctuation (not full-width letters
// or digits), and the opening quotes “ ‘: text that may start a new sentence right after a
// half-width terminator without a space between.
[[nodiscard]] bool IsCjkOrQuote(char32_t c);
// ASCII or full-width decimal digit.
[[nodiscard]] bool IsDigit(char32_t c);
[[nodiscard]] inline bool IsAsciiLower(char32_t c) {
  return c >= 'a' && c <= 'z';
}
[[nodiscard]] inline bool IsAsciiUpper(char32_t c) {
  return c >= 'A' && c <= 'Z';
}
[[nodiscard]] inline bool IsAsciiLetter(char32_t c) {
  return IsAsciiLower(c) || IsAsciiUpper(c);
}

// `s` without leading and trailing whitespace (IsSpace), code-point aware; a view into `s`.
[[nodiscard]] std::string_view TrimSpace(std::string_view s);

}  // namespace modelmux::text::detail
