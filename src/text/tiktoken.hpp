#pragma once
// Exact tokenizers for OpenAI's cl100k_base and o200k_base encodings, compiled into the binary
// (tables under data/tokenizers/, generated from npm js-tiktoken by `make tokenizer-tables`).
// Results equal js-tiktoken's `encode(text, [], [])`: special tokens such as <|endoftext|> are
// ordinary text here (counted, never refused).
//
// Text is UTF-8; invalid bytes never fail: each one is pre-tokenized like a punctuation mark
// (see pretokenize.hpp) and then encoded as bytes, as tiktoken does after its regex.
// Tokenizers are immutable, built once on first use of GetTokenizer (thread-safe) and shared.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "text/bpe.hpp"
#include "text/pretokenize.hpp"

namespace modelmux::text {

enum class Encoding { kCl100kBase, kO200kBase };

// "cl100k_base" or "o200k_base".
[[nodiscard]] std::string_view EncodingName(Encoding encoding);
[[nodiscard]] std::optional<Encoding> EncodingFromName(std::string_view name);

// The encoding of an OpenAI model name (an optional "openai/" or "azure/" prefix is ignored):
// gpt-4o*, gpt-4.1*, gpt-4.5*, o1*, o3*, o4*, gpt-5*, chatgpt-4o* -> o200k_base; other gpt-4*,
// gpt-3.5*, gpt-35*, text-embedding-3*, text-embedding-ada-002 -> cl100k_base; else nullopt.
[[nodiscard]] std::optional<Encoding> EncodingForModel(std::string_view model);

class Tokenizer {
 public:
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Number of tokens of `utf8`; the same as Encode(utf8).size() but without building the list.
  [[nodiscard]] size_t Count(std::string_view utf8) const;
  // The token ids of `utf8`.
  [[nodiscard]] std::vector<uint32_t> Encode(std::string_view utf8) const;
  // The bytes of the tokens, concatenated (special-token ids give their text, unknown ids
  // nothing). The result is not valid UTF-8 when the ids cut a character.
  [[nodiscard]] std::string Decode(std::span<const uint32_t> tokens) const;

  [[nodiscard]] Encoding encoding() const { return encoding_; }
  [[nodiscard]] std::string_view name() const { return EncodingName(encoding_); }
  // Number of ordinary (non-special) token ids.
  [[nodiscard]] size_t vocabulary_size() const { return ranks_.size(); }

 private:
  friend const Tokenizer& GetTokenizer(Encoding encoding);
  Tokenizer(Encoding encoding, RankTable ranks);
  BytePairMerger& ThreadMerger() const;

  Encoding encoding_;
  SplitPattern pattern_;
  RankTable ranks_;
};

// The shared tokenizer of `encoding`, built on first use (a few milliseconds) and kept for the
// life of the process. Thread-safe.
[[nodiscard]] const Tokenizer& GetTokenizer(Encoding encoding);

}  // namespace modelmux::text
