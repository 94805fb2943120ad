#pragma once
// Text helpers of the modelmux SDK (docs/TEXT.md): token counts with the model's own tokenizer
// where it is known (OpenAI's o200k_base / cl100k_base), else a conservative estimate; sentence
// splitting for Chinese, Japanese, English and mixed text; and packing of sentences into chunks
// under a token budget for inputs too long for one call. Pure functions, thread-safe, no I/O.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "modelmux/export.hpp"

namespace modelmux::sdk {

struct TokenCount {
  int64_t tokens = 0;
  bool exact = false;    // the model's own tokenizer (false: an estimate that over-counts)
  std::string encoding;  // "o200k_base", "cl100k_base" or "estimate"
};

// Tokens of `text` for `model` ("gpt-4o", "openai/gpt-4o-mini", "qwen-max", ...).
MODELMUX_API TokenCount CountTokens(std::string_view model, std::string_view text);

struct SentenceOptions {
  bool newline_is_break = true;    // every line break ends a sentence (false: only blank lines)
  bool split_on_semicolon = true;  // ；and ; end a sentence
};

// The sentences of `text`, trimmed, in order: split on 。！？；… and their half-width forms,
// closing quotes and brackets kept with their sentence, decimals, abbreviations, URLs and
// ellipses inside quotations left whole.
MODELMUX_API std::vector<std::string> SplitSentences(std::string_view text,
                                                     const SentenceOptions& options = {});

// Consecutive sentences of `text` packed into chunks of at most `max_tokens` tokens for `model`
// (a sentence longer than that is cut at clause marks, then at character boundaries).
MODELMUX_API std::vector<std::string> ChunkText(std::string_view model, std::string_view text,
                                                int64_t max_tokens,
                                                const SentenceOptions& options = {});

}  // namespace modelmux::sdk

#ifndef MODELMUX_BUILDING_SDK
namespace modelmux {
using sdk::ChunkText;
using sdk::CountTokens;
using sdk::SentenceOptions;
using sdk::SplitSentences;
using sdk::TokenCount;
}  // namespace modelmux
#endif
