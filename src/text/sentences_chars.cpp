#include "text/sentences_chars.hpp"

#include "text/utf8.hpp"

namespace modelmux::text::detail {

bool IsSpace(char32_t c) {
  if (c <= 0x20) return c == ' ' || (c >= '\t' && c <= '\r');
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

bool IsLineBreak(char32_t c) {
  return c == '\n' || c == '\v' || c == '\f' || c == '\r' || c == 0x85 || c == 0x2028 ||
         c == 0x2029;
}

bool IsCloser(char32_t c) {
  switch (c) {
    case ')':
    case ']':
    case '}':
    case '"':
    case '\'':
    case 0x00BB:  // »
    case 0x2019:  // ’
    case 0x201D:  // ”
    case 0x203A:  // ›
    case 0x3009:  // 〉
    case 0x300B:  // 》
    case 0x300D:  // 」
    case 0x300F:  // 』
    case 0x3011:  // 】
    case 0x3015:  // 〕
    case 0x3017:  // 〗
    case 0x3019:  // 〙
    case 0x301B:  // 〛
    case 0x301E:  // 〞
    case 0x301F:  // 〟
    case 0xFE42:  // ﹂ (vertical 」)
    case 0xFE44:  // ﹄ (vertical 』)
    case 0xFF02:  // ＂
    case 0xFF07:  // ＇
    case 0xFF09:  // ）
    case 0xFF3D:  // ］
    case 0xFF5D:  // ｝
    case 0xFF63:  // ｣
      return true;
    default:
      return false;
  }
}

bool IsOpener(char32_t c) {
  return c == '(' || c == '[' || c == '{' || c == '"' || c == '\'' || c == 0x00AB || c == 0x2018 ||
         c == 0x201C || c == 0x2039;
}

bool IsStrongTerminator(char32_t c, bool semicolon) {
  switch (c) {
    case 0x3002:  // 。
    case 0xFF01:  // ！
    case 0xFF1F:  // ？
    case 0xFF61:  // ｡
    case 0x203C:  // ‼
    case 0x2047:  // ⁇
    case 0x2048:  // ⁈
    case 0x2049:  // ⁉
    case 0xFE12:  // ︒ (vertical 。)
      return true;
    case 0xFF1B:  // ；
      return semicolon;
    default:
      return false;
  }
}

bool IsWeakTerminator(char32_t c, bool semicolon) {
  switch (c) {
    case '.':
    case '!':
    case '?':
    case 0xFF0E:  // ．
    case 0x2026:  // …
    case 0x22EF:  // ⋯
      return true;
    case ';':
      return semicolon;
    default:
      return false;
  }
}

bool IsContinuation(char32_t c) {
  return c == ',' || c == ':' || c == ';' || IsWideClauseMark(c);
}

bool IsWideClauseMark(char32_t c) {
  return c == 0xFF0C || c == 0x3001 || c == 0xFF64 || c == 0xFF1B || c == 0xFF1A;
}

bool IsCjkOrQuote(char32_t c) {
  if (c == 0x201C || c == 0x2018) return true;    // “ ‘
  if (c >= 0x4E00 && c <= 0x9FFF) return true;    // unified ideographs
  if (c >= 0x3400 && c <= 0x4DBF) return true;    // extension A
  if (c >= 0x20000 && c <= 0x3FFFF) return true;  // extensions B and later
  if (c >= 0xF900 && c <= 0xFAFF) return true;    // compatibility ideographs
  if (c >= 0x3001 && c <= 0x303F) return true;    // CJK symbols, punctuation
  if (c >= 0x3040 && c <= 0x312F) return true;    // kana, bopomofo
  if (c >= 0x3130 && c <= 0x318F) return true;    // hangul compatibility jamo
  if (c >= 0x31A0 && c <= 0x31FF) return true;    // bopomofo ext, kana ext
  if (c >= 0xAC00 && c <= 0xD7AF) return true;    // hangul syllables
  if (c >= 0x1100 && c <= 0x11FF) return true;    // hangul jamo
  if (c >= 0xFE30 && c <= 0xFE4F) return true;    // CJK compatibility forms
  if (c >= 0xFF01 && c <= 0xFFEF)
    return !IsDigit(c) &&                    // full-width and
           !(c >= 0xFF21 && c <= 0xFF3A) &&  // half-width forms,
           !(c >= 0xFF41 && c <= 0xFF5A);    // not letters/digits
  return false;
}

bool IsDigit(char32_t c) {
  return (c >= '0' && c <= '9') || (c >= 0xFF10 && c <= 0xFF19);
}

std::string_view TrimSpace(std::string_view s) {
  size_t begin = 0;
  while (begin < s.size()) {
    size_t next = begin;
    if (!IsSpace(DecodeCodePoint(s, next))) break;
    begin = next;
  }
  // Walk forward remembering where the last non-space code point ends: decoding backwards is
  // ambiguous on invalid input.
  size_t end = begin;
  size_t pos = begin;
  while (pos < s.size()) {
    const char32_t c = DecodeCodePoint(s, pos);
    if (!IsSpace(c)) end = pos;
  }
  return s.substr(begin, end - begin);
}

}  // namespace modelmux::text::detail
