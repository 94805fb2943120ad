#include "text/sentences.hpp"

#include <algorithm>

#include "text/sentences_chars.hpp"
#include "text/utf8.hpp"

namespace modelmux::text {
namespace {

using detail::IsAsciiLetter;
using detail::IsAsciiLower;
using detail::IsAsciiUpper;
using detail::IsCjkOrQuote;
using detail::IsCloser;
using detail::IsContinuation;
using detail::IsDigit;
using detail::IsLineBreak;
using detail::IsOpener;
using detail::IsSpace;
using detail::IsStrongTerminator;
using detail::IsWeakTerminator;

constexpr size_t kNone = std::string_view::npos;

// A maximal run of terminators and closing quotes/brackets that starts at a terminator.
struct TerminatorRun {
  size_t begin = 0;
  size_t end = 0;
  bool strong = false;           // holds a terminator that ends a sentence wherever it stands
  bool has_closer = false;       // holds a closing quote or bracket
  bool single_dot = false;       // the only terminator is one "." or "．"
  bool only_semicolons = false;  // every terminator is ";"
  bool ellipsis = false;         // only dots and ellipses, and more than one dot or an ellipsis
  int quotes_closed = 0;         // closing quotes that pair with IsQuoteOpen
};

// Ideographs, kana and hangul: IsCjkOrQuote without the punctuation and symbols.
bool IsCjkLetter(char32_t c) {
  const bool punct = (c >= 0x3000 && c <= 0x303F) || (c >= 0xFE30 && c <= 0xFE4F) ||
                     (c >= 0xFF00 && c <= 0xFF65) || c == 0x201C || c == 0x2018;
  return IsCjkOrQuote(c) && !punct;
}

bool IsQuoteOpen(char32_t c) {
  return c == 0x201C || c == 0x300C || c == 0x300E || c == 0xFE41 || c == 0xFE43;  // “「『﹁﹃
}
bool IsQuoteClose(char32_t c) {
  return c == 0x201D || c == 0x300D || c == 0x300F || c == 0xFE42 || c == 0xFE44;  // ”」』﹂﹄
}

class Splitter {
 public:
  Splitter(std::string_view s, const SplitOptions& options) : s_(s), o_(options) {}

  std::vector<std::string_view> Run() {
    size_t pos = 0;
    while (pos < s_.size()) {
      const size_t at = pos;
      const char32_t c = DecodeCodePoint(s_, pos);
      if (IsLineBreak(c)) {
        if (c == '\r' && pos < s_.size() && s_[pos] == '\n') ++pos;
        word_ = kNone;
        prev_cjk_ = prev_cjk_letter_ = false;
        if (o_.newline_is_break || BlankLineFollows(pos)) {
          Emit(pos);
          quote_depth_ = 0;  // an unbalanced quote does not leak into the next line
        }
        continue;
      }
      if (IsSpace(c)) {
        word_ = kNone;
        prev_cjk_ = prev_cjk_letter_ = false;
        continue;
      }
      if (first_ == kNone) first_ = at;
      if (IsStrongTerminator(c, o_.split_on_semicolon) ||
          IsWeakTerminator(c, o_.split_on_semicolon)) {
        const TerminatorRun run = ScanRun(at);
        const bool brk = ShouldBreak(run);
        quote_depth_ = std::max(0, quote_depth_ - run.quotes_closed);
        if (brk) {
          Emit(run.end);
        } else if (run.strong) {
          word_ = kNone;
        } else if (word_ == kNone) {
          word_ = at;
          word_after_letter_ = prev_cjk_letter_;
        }
        prev_cjk_ = run.strong;
        prev_cjk_letter_ = false;
        pos = run.end;
        continue;
      }
      if (IsQuoteOpen(c)) ++quote_depth_;
      if (IsQuoteClose(c)) quote_depth_ = std::max(0, quote_depth_ - 1);
      if (IsCjkOrQuote(c)) {
        word_ = kNone;
      } else if (word_ == kNone) {
        word_ = at;
        word_after_letter_ = prev_cjk_letter_;
      }
      prev_cjk_ = IsCjkOrQuote(c);
      prev_cjk_letter_ = prev_cjk_ && IsCjkLetter(c);
    }
    Emit(s_.size());
    return std::move(out_);
  }

 private:
  char32_t At(size_t pos) const { return DecodeCodePoint(s_, pos); }

  void Emit(size_t end) {
    const std::string_view piece = detail::TrimSpace(s_.substr(start_, end - start_));
    if (!piece.empty()) out_.push_back(piece);
    start_ = end;
    first_ = kNone;
    word_ = kNone;
  }

  // True when only horizontal whitespace separates `pos` from the next line break.
  bool BlankLineFollows(size_t pos) const {
    while (pos < s_.size()) {
      const char32_t c = DecodeCodePoint(s_, pos);
      if (IsLineBreak(c)) return true;
      if (!IsSpace(c)) return false;
    }
    return false;
  }

  TerminatorRun ScanRun(size_t at) const {
    TerminatorRun run;
    run.begin = at;
    int terminators = 0;
    bool dots_only = true;
    bool semicolons_only = true;
    bool has_ellipsis = false;
    bool dots_or_ellipses = true;
    size_t pos = at;
    while (pos < s_.size()) {
      size_t next = pos;
      const char32_t c = DecodeCodePoint(s_, next);
      const bool strong = IsStrongTerminator(c, o_.split_on_semicolon);
      if (strong || IsWeakTerminator(c, o_.split_on_semicolon)) {
        ++terminators;
        run.strong = run.strong || strong;
        dots_only = dots_only && (c == '.' || c == 0xFF0E);
        semicolons_only = semicolons_only && c == ';';
        const bool ellipsis = c == 0x2026 || c == 0x22EF;
        has_ellipsis = has_ellipsis || ellipsis;
        dots_or_ellipses = dots_or_ellipses && (c == '.' || c == 0xFF0E || ellipsis);
      } else if (IsCloser(c)) {
        run.has_closer = true;
        run.quotes_closed += IsQuoteClose(c) ? 1 : 0;
      } else {
        break;
      }
      pos = next;
    }
    run.end = pos;
    run.single_dot = terminators == 1 && dots_only;
    run.only_semicolons = semicolons_only;
    run.ellipsis = dots_or_ellipses && (has_ellipsis || terminators > 1);
    return run;
  }

  bool ShouldBreak(const TerminatorRun& run) const {
    if (run.end >= s_.size()) return true;
    size_t pos = run.end;
    const char32_t next = DecodeCodePoint(s_, pos);
    if (IsContinuation(next)) return false;
    if (run.strong) return !(run.has_closer && JapaneseQuoteParticle(run.end));
    if (IsLineBreak(next) && o_.newline_is_break) return true;
    // "“我……我不知道……”": an ellipsis inside a quotation is a pause, not an end.
    if (run.ellipsis && !run.has_closer && quote_depth_ > 0) return false;
    if (IsCjkOrQuote(next)) return !(run.single_dot && DotIsNotFinal(run.begin, true, false));
    if (prev_cjk_ && IsAsciiUpper(next)) return true;  // "很好用.It works"
    if (!IsSpace(next)) return false;                  // "3.14", "example.com", "wait...what"
    // Whitespace follows: look at the first character after it.
    pos = run.end;
    char32_t after = 0;
    while (pos < s_.size()) {
      after = DecodeCodePoint(s_, pos);
      if (IsLineBreak(after) && o_.newline_is_break) return true;
      if (!IsSpace(after)) break;
    }
    if (IsSpace(after)) return true;  // only whitespace up to the end
    if (!run.only_semicolons && (IsAsciiLower(after) || IsContinuation(after))) return false;
    return !(run.single_dot && DotIsNotFinal(run.begin, false, IsDigit(after)));
  }

  // After a closing quote: と or って continues a Japanese sentence (「はい。」と答えた).
  bool JapaneseQuoteParticle(size_t pos) const {
    const char32_t c = DecodeCodePoint(s_, pos);
    if (c == U'と') return true;
    return c == U'っ' && pos < s_.size() && At(pos) == U'て';
  }

  // Whether the "." at `dot` belongs to the word before it rather than ending the sentence;
  // `before_cjk`: CJK text follows the dot directly; `before_digit`: a digit follows the space.
  bool DotIsNotFinal(size_t dot, bool before_cjk, bool before_digit) const {
    if (word_ == kNone || word_ >= dot) return false;
    std::string_view word = s_.substr(word_, dot - word_);
    while (!word.empty()) {
      size_t pos = 0;
      if (!IsOpener(DecodeCodePoint(word, pos))) break;
      word.remove_prefix(pos);
    }
    if (word.empty()) return false;
    for (const std::string& a : o_.abbreviations) {
      std::string_view abbr = a;
      if (!abbr.empty() && abbr.back() == '.') abbr.remove_suffix(1);
      if (!abbr.empty() && abbr == word) return true;
    }
    if (word.size() == 1 && IsAsciiUpper(static_cast<unsigned char>(word[0]))) return true;
    if (IsDottedInitials(word)) return true;
    if (before_digit && IsShortReference(word)) return true;  // "Vol. 2", "Jan. 3", "p. 5"
    // "1. 下载" at the start of a sentence, "步骤：1.下载" after punctuation (not "答案是42.下").
    return (word_ == first_ || (before_cjk && !word_after_letter_)) && IsListNumber(word);
  }

  // "U.S", "e.g", "a.m", "U.S.A": single ASCII letters joined by dots.
  static bool IsDottedInitials(std::string_view w) {
    if (w.size() < 3 || w.size() % 2 == 0) return false;
    for (size_t i = 0; i < w.size(); ++i) {
      const auto c = static_cast<unsigned char>(w[i]);
      if (i % 2 == 0 ? !IsAsciiLetter(c) : c != '.') return false;
    }
    return true;
  }

  // "Vol", "Jan", "Eq", "Ch", "p", "pp": abbreviations that are usually followed by a number.
  static bool IsShortReference(std::string_view w) {
    if (w == "p" || w == "pp") return true;
    if (w.size() < 2 || w.size() > 3 || !IsAsciiUpper(static_cast<unsigned char>(w[0]))) {
      return false;
    }
    return std::all_of(w.begin() + 1, w.end(),
                       [](char c) { return IsAsciiLower(static_cast<unsigned char>(c)); });
  }

  // "1", "12", "１２" or a single ASCII letter: an item number at the start of a sentence.
  static bool IsListNumber(std::string_view w) {
    if (w.size() == 1 && IsAsciiLetter(static_cast<unsigned char>(w[0]))) return true;
    int digits = 0;
    size_t pos = 0;
    while (pos < w.size()) {
      if (!IsDigit(DecodeCodePoint(w, pos))) return false;
      ++digits;
    }
    return digits >= 1 && digits <= 3;
  }

  std::string_view s_;
  const SplitOptions& o_;
  std::vector<std::string_view> out_;
  size_t start_ = 0;       // start of the current segment (untrimmed)
  size_t first_ = kNone;   // first non-space byte of the current segment
  size_t word_ = kNone;    // start of the current word (a run of non-space, non-CJK characters)
  bool prev_cjk_ = false;  // the code point before the current one is CJK text or punctuation
  bool prev_cjk_letter_ = false;    // ... and it is an ideograph, kana or hangul
  bool word_after_letter_ = false;  // the current word follows an ideograph, kana or hangul
  int quote_depth_ = 0;             // open “ 「 『 quotations in the current line
};

}  // namespace

std::vector<std::string_view> SplitSentences(std::string_view utf8, const SplitOptions& options) {
  return Splitter(utf8, options).Run();
}

}  // namespace modelmux::text
