#include "text/token_estimator.hpp"

#include "text/utf8.hpp"

namespace modelmux::text {
namespace {

// The estimate is accumulated in quarter tokens ("units") so fractional per-character weights
// stay exact integers; the result is rounded up at the end.
constexpr int64_t kUnit = 4;

bool IsAsciiLetter(char32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsAsciiDigit(char32_t c) {
  return c >= '0' && c <= '9';
}

bool IsCjkIdeograph(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x3FFFF);
}
bool IsKana(char32_t c) {
  return (c >= 0x3040 && c <= 0x30FF) || (c >= 0x31F0 && c <= 0x31FF);
}
bool IsHangul(char32_t c) {
  return (c >= 0xAC00 && c <= 0xD7AF) || (c >= 0x1100 && c <= 0x11FF) ||
         (c >= 0x3130 && c <= 0x318F);
}
bool IsCjkPunct(char32_t c) {
  return (c >= 0x3000 && c <= 0x303F) || (c >= 0xFF00 && c <= 0xFFEF);
}
bool IsJoiner(char32_t c) {
  return c == 0x200D || (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0xE0100 && c <= 0xE01EF);
}

// Units for a run of `n` ASCII letters. Common words up to 4 letters are one token; longer
// words split, about one token per 2.5 further letters. `random` marks pieces that look like ids,
// base64 or acronyms (several capitals, or glued to digits), which split into ~2-letter tokens.
int64_t LetterRunUnits(int64_t n, bool random) {
  if (random) return (n + 1) / 2 * kUnit;
  if (n <= 4) return kUnit;
  return kUnit + ((n - 4) * kUnit * 2 + 4) / 5;
}

// Units for a run of `n` digits: tiktoken splits digits into groups of at most three.
int64_t DigitRunUnits(int64_t n) {
  return (n + 2) / 3 * kUnit;
}

// Units for a run of spaces/tabs of length `n` (no newline). A single space merges into the next
// word or punctuation; longer runs, tabs, and a space before digits (digits never absorb a leading
// space in tiktoken's split pattern) are tokens of their own, long runs in chunks of ~16.
int64_t BlankRunUnits(int64_t n, bool single_space, bool before_digit) {
  if (single_space && !before_digit) return 0;
  return (n + 15) / 16 * kUnit;
}

bool IsLower(unsigned char c) {
  return c >= 'a' && c <= 'z';
}
bool IsUpper(unsigned char c) {
  return c >= 'A' && c <= 'Z';
}

// Units for a run of ASCII letters [begin, end): split at lower->upper case changes (camelCase,
// base64 and random ids break there) and estimate each piece. `after_digit`: the run follows a
// digit, as in hex or base64 text.
int64_t LettersUnits(std::string_view s, size_t begin, size_t end, bool after_digit) {
  int64_t units = 0;
  size_t piece = begin;
  int upper = 0;
  auto flush = [&](size_t at) {
    units += LetterRunUnits(static_cast<int64_t>(at - piece), after_digit || upper >= 2);
    piece = at;
    upper = 0;
  };
  for (size_t i = begin; i < end; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (i > begin && IsLower(static_cast<unsigned char>(s[i - 1])) && IsUpper(c)) flush(i);
    upper += IsUpper(c) ? 1 : 0;
  }
  flush(end);
  return units;
}

// Units for one non-ASCII code point.
int64_t CodePointUnits(char32_t c) {
  // cl100k: 1.1-1.6 tokens per ideograph on ordinary text, up to 3 on rare characters.
  if (IsCjkIdeograph(c)) return 10;
  if (IsKana(c)) return 6;
  if (IsHangul(c)) return 7;
  if (IsCjkPunct(c)) return 4;
  if (IsJoiner(c)) return 8;
  if (c == 0xFFFD) return kUnit;  // invalid byte
  if (c < 0x800) return kUnit;    // Latin-1 supplement, Greek, Cyrillic, Hebrew, Arabic
  if (c < 0x10000) return 7;      // Indic and other 3-byte scripts: near byte level in cl100k
  return 13;                      // emoji and other astral code points (4 bytes)
}

}  // namespace

int64_t EstimateTokens(std::string_view s) {
  int64_t units = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    const unsigned char b = static_cast<unsigned char>(s[pos]);
    if (b < 0x80) {
      const char32_t c = b;
      size_t end = pos + 1;
      if (IsAsciiLetter(c)) {
        while (end < s.size() && IsAsciiLetter(static_cast<unsigned char>(s[end]))) ++end;
        const bool after_digit = pos > 0 && IsAsciiDigit(static_cast<unsigned char>(s[pos - 1]));
        units += LettersUnits(s, pos, end, after_digit);
      } else if (IsAsciiDigit(c)) {
        while (end < s.size() && IsAsciiDigit(static_cast<unsigned char>(s[end]))) ++end;
        units += DigitRunUnits(static_cast<int64_t>(end - pos));
      } else if (c == ' ' || c == '\t') {
        while (end < s.size() && (s[end] == ' ' || s[end] == '\t')) ++end;
        const bool single_space = end == pos + 1 && c == ' ';
        const bool before_digit =
            end < s.size() && IsAsciiDigit(static_cast<unsigned char>(s[end]));
        units += BlankRunUnits(static_cast<int64_t>(end - pos), single_space, before_digit);
      } else {
        units += kUnit;  // newline, CR, punctuation, symbols, control characters
      }
      pos = end;
      continue;
    }
    units += CodePointUnits(DecodeCodePoint(s, pos));
  }
  return (units + kUnit - 1) / kUnit;
}

int64_t EstimatePromptTokens(const modelmux::ChatRequest& req) {
  int64_t total = kReplyPrimingTokens;
  for (const auto& m : req.messages) {
    total += kPerMessageTokens;
    if (!m.name.empty()) total += 1 + EstimateTokens(m.name);
    for (const auto& p : m.content) {
      switch (p.type) {
        case PartType::kText:
          total += EstimateTokens(p.text);
          break;
        case PartType::kImage:
          total += p.detail == "low" ? kImageTokensLow : kImageTokensHigh;
          break;
        case PartType::kAudio:
          total += kAudioTokens;
          break;
        case PartType::kVideo:
          total += kVideoTokens;
          break;
      }
    }
    for (const auto& tc : m.tool_calls) {
      total += kPerMessageTokens + EstimateTokens(tc.name) + EstimateTokens(tc.arguments);
    }
    if (!m.tool_call_id.empty()) total += EstimateTokens(m.tool_call_id);
  }
  // Tool definitions and schemas are sent to the model as text too.
  total += EstimateTokens(req.tools) + EstimateTokens(req.response_format);
  return total;
}

}  // namespace modelmux::text
