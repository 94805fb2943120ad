#pragma once
// Packing of sentences into chunks under a token budget, for inputs too long for one model call.
// Pure and thread-safe as long as the token counter is; chunks are views into the caller's text.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "text/sentences.hpp"

namespace modelmux::text {

struct ChunkOptions {
  // Budget per chunk, as measured by the counter. Values below 1 are treated as 1.
  int64_t max_tokens = 0;
  // Each chunk starts by repeating up to this many whole sentences from the end of the previous
  // chunk, as many as fit with at least one new sentence (none next to a split long sentence).
  int64_t overlap_sentences = 0;
  // How the text is split into sentences.
  SplitOptions split;
};

struct Chunk {
  // A slice of the input from its first sentence's start to its last sentence's end (so the
  // whitespace between its sentences is included), or a part of one long sentence.
  std::string_view text;
  // Index of the first sentence, into SplitSentences(text, options.split).
  size_t first_sentence = 0;
  // Number of sentences in the chunk. 1 for a part of a sentence that alone exceeds the budget:
  // such a sentence gives several chunks with the same first_sentence, each a part of it.
  size_t sentence_count = 0;
  // count_tokens(text).
  int64_t tokens = 0;
};

using TokenCounter = std::function<int64_t(std::string_view)>;

// Splits `text` into sentences and packs consecutive ones greedily into chunks whose token count
// (by `count_tokens`; an empty function means EstimateTokens from token_estimator.hpp) is at most
// max_tokens. The count of a chunk is always taken on its whole text (tokenizers are not
// additive); the sum of single-sentence counts is only the first guess.
// A sentence over the budget is cut after clause marks (，、､；： anywhere; , ; : before whitespace
// or CJK text, so "1,000" and "http://" stay whole); a clause still over it is cut at code point
// boundaries (moved back to a space when that would cut a word), never inside a UTF-8 sequence;
// the parts are then packed greedily again. Without overlap, the chunks are in order, do not
// overlap, and everything outside them is whitespace. A chunk exceeds the budget only when it is
// a single code point that alone counts more than max_tokens. Empty or whitespace-only text gives
// no chunks. The counter is called about twice per sentence plus a few times (logarithmic in the
// chunk's size when the first guess is poor) per chunk, each time on at most about one chunk's
// text.
[[nodiscard]] std::vector<Chunk> PackSentences(std::string_view text, const ChunkOptions& options,
                                               TokenCounter count_tokens = {});

}  // namespace modelmux::text
