#pragma once
// Byte-pair encoding over a rank table (tiktoken's algorithm): a piece of bytes is split into
// single bytes, then the adjacent pair whose concatenation has the lowest rank is merged (the
// leftmost one on ties) until no adjacent pair is a token. Short pieces use a quadratic loop
// over a small array; long ones a tournament tree over a linked list, with the same result.
//
// RankTable reads the compact table format of scripts/tokenizer-tables.mjs ("TKR1", u32 count,
// then per rank a u8 length and the token's bytes) from memory that must outlive it (the blobs
// embedded in the binary), and builds an open-addressing hash map bytes -> rank over it.
// A RankTable is immutable after construction and safe to share between threads.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace modelmux::text {

inline constexpr uint32_t kNoRank = UINT32_MAX;

class RankTable {
 public:
  // Parses `blob`; nullopt when it is not a well-formed table. The bytes are not copied.
  [[nodiscard]] static std::optional<RankTable> Parse(std::span<const unsigned char> blob);

  // The rank of the token with exactly these bytes, or kNoRank.
  [[nodiscard]] uint32_t Rank(std::string_view bytes) const {
    if (bytes.size() == 2) {
      return pairs_[static_cast<unsigned char>(bytes[0]) << 8 |
                    static_cast<unsigned char>(bytes[1])];
    }
    if (bytes.size() == 1) return singles_[static_cast<unsigned char>(bytes[0])];
    if (bytes.size() == 3) {
      if (const int i = ThreeByteIndex(bytes); i >= 0) return triples_[i];
    }
    return LookUp(bytes);
  }
  // The bytes of token `rank` (empty for an unused or out-of-range rank).
  [[nodiscard]] std::string_view Token(uint32_t rank) const;
  // Number of ranks (unused ones included).
  [[nodiscard]] size_t size() const { return tokens_.size(); }

 private:
  friend class BytePairMerger;
  RankTable() = default;
  // The index in triples_ of a three-byte UTF-8 sequence (U+0800..U+FFFF: CJK ideographs, kana,
  // hangul, most punctuation), or -1 for any other three bytes.
  static int ThreeByteIndex(std::string_view b) {
    const auto c0 = static_cast<unsigned char>(b[0]);
    const auto c1 = static_cast<unsigned char>(b[1]);
    const auto c2 = static_cast<unsigned char>(b[2]);
    if ((c0 & 0xF0) != 0xE0 || (c1 & 0xC0) != 0x80 || (c2 & 0xC0) != 0x80) return -1;
    return (c0 & 0x0F) << 12 | (c1 & 0x3F) << 6 | (c2 & 0x3F);
  }
  uint32_t LookUp(std::string_view bytes) const;
  uint32_t LookUpHashed(std::string_view bytes, uint64_t head, uint64_t hash) const;
  bool MayContain(uint64_t hash) const;
  uint32_t Probe(std::string_view bytes, uint64_t head, uint64_t hash) const;

  const char* blob_ = nullptr;
  // Per rank: offset of the token's bytes in blob_ << 8 | length (0: unused rank).
  std::vector<uint32_t> tokens_;
  // Open addressing with linear probing at a load factor under 1/2. A slot holds the token's
  // first 8 bytes, so tokens of up to 8 bytes (nearly all lookups) are compared without
  // touching the blob: one cache miss per lookup.
  struct Slot {
    uint64_t head;  // the first min(8, length) bytes, little-endian, zero-padded
    uint32_t rank;
    uint32_t len_tag;  // length << 24 | 24 bits of the hash; 0 when the slot is free
  };
  std::vector<Slot> slots_;
  uint64_t mask_ = 0;
  // A blocked Bloom filter over the tokens' hashes (two bits in one word, ~3% false positives),
  // small enough to stay in the CPU cache: most lookups while merging are for byte strings that
  // are not tokens, and it answers them without touching slots_.
  std::vector<uint64_t> filter_;
  uint64_t filter_mask_ = 0;
  // Direct tables for the most frequent lookups: single bytes, byte pairs, and whole three-byte
  // characters (every CJK character of a Chinese text is looked up as one while merging).
  std::vector<uint32_t> singles_;
  std::vector<uint32_t> pairs_;
  std::vector<uint32_t> triples_;
};

// Splits pieces into tokens. Holds reusable scratch buffers and a small cache of recent hits
// (128 KiB, so that frequent words and merges stay out of the large table), so one
// BytePairMerger serves many pieces without allocating; not thread-safe (use one per thread).
class BytePairMerger {
 public:
  explicit BytePairMerger(const RankTable& ranks);

  // The boundaries of the tokens of `piece` (non-empty): the start offset of each token followed
  // by piece.size(). Valid until the next call.
  [[nodiscard]] std::span<const uint32_t> Split(std::string_view piece);

  // Number of tokens of `piece`.
  [[nodiscard]] size_t Count(std::string_view piece);

  // RankTable::Rank through the cache.
  [[nodiscard]] uint32_t RankOf(std::string_view bytes);

 private:
  // Starts loading what RankOf(bytes) will read (a hint; no effect on results).
  void Prefetch(std::string_view bytes) const;
  std::span<const uint32_t> SplitMerged(std::string_view piece);
  std::span<const uint32_t> SplitShort(std::string_view piece);
  std::span<const uint32_t> SplitLong(std::string_view piece);

  const RankTable& ranks_;
  std::vector<RankTable::Slot> cache_;  // direct-mapped; 3..8-byte strings that pass the filter
  std::vector<uint32_t> starts_;
  std::vector<uint32_t> pair_ranks_;
  std::vector<uint32_t> next_;
  std::vector<uint32_t> prev_;
  std::vector<uint64_t> tree_;  // SplitLong's tournament tree of (rank << 32 | start)
};

}  // namespace modelmux::text
