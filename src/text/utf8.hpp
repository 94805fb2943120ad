#pragma once
// Minimal UTF-8 helpers over byte strings. Pure, allocation-free, thread-safe.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace modelmux::text {

// True when `s` is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, max U+10FFFF).
[[nodiscard]] bool ValidUtf8(std::string_view s);

// Number of code points in `s`: counts every byte that is not a continuation byte, so invalid
// input still gives a sensible count (each stray byte counts as one).
[[nodiscard]] size_t CodePointCount(std::string_view s);

// Decodes the code point starting at s[pos]; advances `pos` past it. An invalid or truncated
// sequence yields U+FFFD and advances by one byte. Requires pos < s.size().
[[nodiscard]] char32_t DecodeCodePoint(std::string_view s, size_t& pos);

}  // namespace modelmux::text
