#pragma once
// The simulator's notion of text and tokens. Pure functions, no clocks or randomness: the same
// input always gives the same pieces, so usage always matches the text.
//
// A "token" for the simulator is one piece: a word with the whitespace before it (" word"), or a
// single CJK character. Splitting a text into pieces is lossless: concatenating the pieces gives
// back the text. Prompt token counts use CountTokens() (ceil(utf8 bytes / 4)).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace modelmux::sim {

inline constexpr uint64_t kFnvOffset = 14695981039346656037ULL;

// 64-bit FNV-1a over bytes, chainable through `h`.
[[nodiscard]] uint64_t Fnv1a(std::string_view bytes, uint64_t h = kFnvOffset);
// SplitMix64 step: advances `state` and returns the next pseudo-random value.
[[nodiscard]] uint64_t SplitMix64(uint64_t& state);

// ceil(utf8 bytes / 4): the simulator's token estimate for prompt text.
[[nodiscard]] int64_t CountTokens(std::string_view text);

// True when the text holds a CJK ideograph, kana, hangul or full-width punctuation.
[[nodiscard]] bool ContainsCjk(std::string_view text);

// Lossless split into pieces (see above).
[[nodiscard]] std::vector<std::string> SplitPieces(std::string_view text);

// `count` pieces of deterministic pseudo-text drawn from a small vocabulary (with Chinese words
// when `cjk`). When `final_period`, the last piece ends a sentence.
[[nodiscard]] std::vector<std::string> GeneratePieces(uint64_t seed, size_t count, bool cjk,
                                                      bool final_period);

// Splits `text` into at least min(parts, number of code points) non-empty fragments at code point
// boundaries, of roughly equal size. Concatenation gives back `text`.
[[nodiscard]] std::vector<std::string> SplitFragments(std::string_view text, size_t parts);

// Standard base64 (with padding).
[[nodiscard]] std::string Base64Encode(std::string_view bytes);

}  // namespace modelmux::sim
