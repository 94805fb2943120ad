#pragma once
// Sentence splitting for Chinese, Japanese, English and mixed text. Pure and thread-safe; the
// result holds views into the caller's buffer (keep it alive while the views are used).
//
// Output contract: the pieces are non-empty, in input order, do not overlap, and are trimmed
// (no leading or trailing whitespace, Unicode White_Space or U+FEFF). Everything of the input
// that lies outside the pieces is whitespace, so nothing but whitespace is lost; the gap before a
// piece is recovered as input.substr(prev_end, piece.data() - input.data() - prev_end).
//
// Rules, in short (docs/TEXT.md has the long form):
//   - 。！？｡‼⁇⁈⁉ (and ； when split_on_semicolon) end a sentence, unless the next character is a
//     comma-like mark (，、,：:) that shows the sentence goes on.
//   - . ! ? ; ． … ⋯ end a sentence only when followed by the end, a line break, CJK text or an
//     opening “ ‘, or by whitespace and then something that is not a lower-case ASCII letter
//     (";" also before a lower-case letter). So "3.14", "v1.2.3", "example.com", "a@b.cn",
//     ".NET", "wait...what" and "thinking... maybe" do not split; "很好用.It works" does.
//   - A single "." does not split after an abbreviation from the list, a single capital letter
//     ("J. Smith"), dotted initials ("U.S.A.", "a.m."), "Vol"/"Jan"/"Eq"/"p"-like words before a
//     number ("Vol. 2"), or an item number ("1. ", "２．", "步骤：1.下载").
//   - An ellipsis (…, ⋯, "..") inside an open “ 「 『 quotation is a pause, not an end.
//   - A run of terminators stays together ("？！", "!!!", "……", "..."), and so do the closing
//     quotes and brackets right after it (」』”’）)】》"' ...): "他说：“好。”" is one piece.
//     After a closing quote, と or って (Japanese quotation) continues the sentence.
//   - Line breaks: see SplitOptions::newline_is_break. A blank line always ends a sentence.
//   - Invalid UTF-8 bytes are ordinary characters; the input is never rejected.

#include <string>
#include <string_view>
#include <vector>

namespace modelmux::text {

struct SplitOptions {
  // true: every line break (\n, \r\n, \r, \v, \f, U+0085, U+2028, U+2029) ends a sentence.
  // false: a single line break is whitespace inside a sentence (hard-wrapped text); a blank line
  // (a line break, optional whitespace, another line break) still ends one.
  bool newline_is_break = true;
  // Whether ； and ; end a sentence.
  bool split_on_semicolon = true;
  // Words after which a single "." does not end a sentence, compared case-sensitively, written
  // with or without the final dot ("Dr" or "Dr.").
  std::vector<std::string> abbreviations = {"Mr", "Mrs", "Ms",  "Dr",  "Prof", "Sr", "Jr", "St",
                                            "vs", "etc", "e.g", "i.e", "U.S",  "No", "Fig"};
};

// Splits UTF-8 text into sentences (views into `utf8`, see the contract above). Empty or
// whitespace-only input gives an empty vector. Linear in the input size.
[[nodiscard]] std::vector<std::string_view> SplitSentences(std::string_view utf8,
                                                           const SplitOptions& options = {});

}  // namespace modelmux::text
