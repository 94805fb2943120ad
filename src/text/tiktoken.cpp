#include "text/tiktoken.hpp"

#include <array>
#include <cstdlib>

// The rank tables, linked in by cmake/EmbedBinary.cmake.
extern "C" const unsigned char mm_tokenizer_cl100k_base[];
extern "C" const unsigned char mm_tokenizer_cl100k_base_end[];
extern "C" const unsigned char mm_tokenizer_o200k_base[];
extern "C" const unsigned char mm_tokenizer_o200k_base_end[];

namespace modelmux::text {
namespace {

struct SpecialToken {
  uint32_t id;
  std::string_view text;
};

constexpr std::array kCl100kSpecial = {
    SpecialToken{100257, "<|endoftext|>"}, SpecialToken{100258, "<|fim_prefix|>"},
    SpecialToken{100259, "<|fim_middle|>"}, SpecialToken{100260, "<|fim_suffix|>"},
    SpecialToken{100276, "<|endofprompt|>"}};
constexpr std::array kO200kSpecial = {SpecialToken{199999, "<|endoftext|>"},
                                      SpecialToken{200018, "<|endofprompt|>"}};

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.starts_with(prefix);
}

RankTable LoadRanks(const unsigned char* begin, const unsigned char* end) {
  std::optional<RankTable> table = RankTable::Parse({begin, static_cast<size_t>(end - begin)});
  // The tables are part of the binary: a malformed one is a build defect, not an input error.
  if (!table) std::abort();
  return std::move(*table);
}

}  // namespace

std::string_view EncodingName(Encoding encoding) {
  return encoding == Encoding::kCl100kBase ? "cl100k_base" : "o200k_base";
}

std::optional<Encoding> EncodingFromName(std::string_view name) {
  if (name == "cl100k_base") return Encoding::kCl100kBase;
  if (name == "o200k_base") return Encoding::kO200kBase;
  return std::nullopt;
}

std::optional<Encoding> EncodingForModel(std::string_view model) {
  for (std::string_view prefix : {"openai/", "azure/"}) {
    if (StartsWith(model, prefix)) model.remove_prefix(prefix.size());
  }
  for (std::string_view p :
       {"gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o"}) {
    if (StartsWith(model, p)) return Encoding::kO200kBase;
  }
  for (std::string_view p : {"gpt-4", "gpt-3.5", "gpt-35", "text-embedding-3"}) {
    if (StartsWith(model, p)) return Encoding::kCl100kBase;
  }
  if (model == "text-embedding-ada-002") return Encoding::kCl100kBase;
  return std::nullopt;
}

Tokenizer::Tokenizer(Encoding encoding, RankTable ranks)
    : encoding_(encoding),
      pattern_(encoding == Encoding::kCl100kBase ? SplitPattern::kCl100k : SplitPattern::kO200k),
      ranks_(std::move(ranks)) {}

// One merger (scratch buffers and lookup cache) per thread and encoding; there is exactly one
// Tokenizer per encoding (GetTokenizer), so the function-local thread_locals match ranks_.
BytePairMerger& Tokenizer::ThreadMerger() const {
  if (encoding_ == Encoding::kCl100kBase) {
    thread_local BytePairMerger cl100k(ranks_);
    return cl100k;
  }
  thread_local BytePairMerger o200k(ranks_);
  return o200k;
}

size_t Tokenizer::Count(std::string_view utf8) const {
  BytePairMerger& merger = ThreadMerger();
  PieceSplitter splitter(pattern_, utf8);
  size_t count = 0;
  for (std::string_view piece = splitter.Next(); !piece.empty(); piece = splitter.Next()) {
    count += merger.Count(piece);
  }
  return count;
}

std::vector<uint32_t> Tokenizer::Encode(std::string_view utf8) const {
  BytePairMerger& merger = ThreadMerger();
  PieceSplitter splitter(pattern_, utf8);
  std::vector<uint32_t> out;
  out.reserve(utf8.size() / 3 + 1);
  for (std::string_view piece = splitter.Next(); !piece.empty(); piece = splitter.Next()) {
    const std::span<const uint32_t> bounds = merger.Split(piece);
    for (size_t i = 0; i + 1 < bounds.size(); ++i) {
      out.push_back(merger.RankOf(piece.substr(bounds[i], bounds[i + 1] - bounds[i])));
    }
  }
  return out;
}

std::string Tokenizer::Decode(std::span<const uint32_t> tokens) const {
  std::string out;
  for (uint32_t id : tokens) {
    if (id < ranks_.size()) {
      out += ranks_.Token(id);
      continue;
    }
    const auto specials = encoding_ == Encoding::kCl100kBase
                              ? std::span<const SpecialToken>(kCl100kSpecial)
                              : std::span<const SpecialToken>(kO200kSpecial);
    for (const SpecialToken& s : specials) {
      if (s.id == id) out += s.text;
    }
  }
  return out;
}

const Tokenizer& GetTokenizer(Encoding encoding) {
  if (encoding == Encoding::kCl100kBase) {
    static const Tokenizer cl100k(
        encoding, LoadRanks(mm_tokenizer_cl100k_base, mm_tokenizer_cl100k_base_end));
    return cl100k;
  }
  static const Tokenizer o200k(encoding,
                               LoadRanks(mm_tokenizer_o200k_base, mm_tokenizer_o200k_base_end));
  return o200k;
}

}  // namespace modelmux::text
