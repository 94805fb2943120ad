#include "text/bpe.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace modelmux::text {
namespace {

// Longer pieces take the tree path (measured on Chinese prose: it wins from about 24 bytes).
constexpr size_t kShortPiece = 24;

inline uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint64_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t Byte(const char* p, size_t i) {
  return static_cast<unsigned char>(p[i]);
}

// The first min(8, n) bytes of s as a little-endian integer, zero-padded.
inline uint64_t Head(std::string_view s) {
  const char* p = s.data();
  const size_t n = s.size();
  if (n >= 8) return Load64(p);
  if (n >= 4) return Load32(p) | ((Load32(p + n - 4) >> (8 * (8 - n))) << 32);
  if (n == 0) return 0;
  return Byte(p, 0) | (n > 1 ? Byte(p, 1) << 8 : 0) | (n > 2 ? Byte(p, 2) << 16 : 0);
}

inline uint64_t Mix(uint64_t h) {
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ULL;
  h ^= h >> 32;
  return h;
}

// Hash of a byte string whose first bytes are `head`.
inline uint64_t HashBytes(std::string_view s, uint64_t head) {
  uint64_t h = (head ^ (s.size() * 0x9e3779b97f4a7c15ULL)) * 0xbf58476d1ce4e5b9ULL;
  for (size_t i = 8; i < s.size(); i += 8) {
    const size_t left = s.size() - i;
    const uint64_t w = left >= 8 ? Load64(s.data() + i) : Head(s.substr(i));
    h = std::rotl(h, 29) ^ (w * 0x94d049bb133111ebULL);
  }
  return Mix(h);
}

// The two filter bits of a hash (the slot index uses the low bits, the tag bits 40..63).
inline uint64_t FilterBits(uint64_t h) {
  return (uint64_t{1} << ((h >> 28) & 63)) | (uint64_t{1} << ((h >> 34) & 63));
}

inline uint32_t LenTag(size_t len, uint64_t h) {
  return static_cast<uint32_t>(len << 24) | static_cast<uint32_t>(h >> 40);
}

}  // namespace

std::optional<RankTable> RankTable::Parse(std::span<const unsigned char> blob) {
  if (blob.size() < 8 || std::memcmp(blob.data(), "TKR1", 4) != 0) return std::nullopt;
  const uint32_t count =
      blob[4] | (uint32_t{blob[5]} << 8) | (uint32_t{blob[6]} << 16) | (uint32_t{blob[7]} << 24);
  if (blob.size() >= (uint32_t{1} << 24)) return std::nullopt;
  RankTable table;
  table.blob_ = reinterpret_cast<const char*>(blob.data());
  table.tokens_.resize(count);
  size_t pos = 8;
  for (uint32_t r = 0; r < count; ++r) {
    if (pos >= blob.size()) return std::nullopt;
    const uint32_t len = blob[pos++];
    if (pos + len > blob.size()) return std::nullopt;
    table.tokens_[r] = len == 0 ? 0 : (static_cast<uint32_t>(pos) << 8) | len;
    pos += len;
  }
  if (pos != blob.size()) return std::nullopt;
  table.singles_.assign(256, kNoRank);
  table.pairs_.assign(1 << 16, kNoRank);
  table.triples_.assign(1 << 16, kNoRank);
  const size_t capacity = std::bit_ceil(size_t{count} * 2 + 16);
  table.slots_.assign(capacity, Slot{0, 0, 0});
  table.mask_ = capacity - 1;
  const size_t filter_words = std::bit_ceil(size_t{count} * 8 / 64 + 1);
  table.filter_.assign(filter_words, 0);
  table.filter_mask_ = filter_words - 1;
  for (uint32_t r = 0; r < count; ++r) {
    const std::string_view token = table.Token(r);
    if (token.empty()) continue;
    if (table.LookUp(token) != kNoRank) return std::nullopt;  // duplicate token
    const auto byte = [&](size_t i) { return static_cast<unsigned char>(token[i]); };
    if (token.size() == 1) table.singles_[byte(0)] = r;
    if (token.size() == 2) table.pairs_[byte(0) << 8 | byte(1)] = r;
    if (token.size() == 3) {
      if (const int i = ThreeByteIndex(token); i >= 0) table.triples_[i] = r;
    }
    const uint64_t head = Head(token);
    const uint64_t h = HashBytes(token, head);
    table.filter_[(h >> 40) & table.filter_mask_] |= FilterBits(h);
    size_t i = h & table.mask_;
    while (table.slots_[i].len_tag != 0) i = (i + 1) & table.mask_;
    table.slots_[i] = Slot{head, r, LenTag(token.size(), h)};
  }
  return table;
}

uint32_t RankTable::LookUp(std::string_view bytes) const {
  if (bytes.empty() || bytes.size() > 255) return kNoRank;
  const uint64_t head = Head(bytes);
  return LookUpHashed(bytes, head, HashBytes(bytes, head));
}

uint32_t RankTable::LookUpHashed(std::string_view bytes, uint64_t head, uint64_t h) const {
  if (!MayContain(h)) return kNoRank;
  return Probe(bytes, head, h);
}

bool RankTable::MayContain(uint64_t h) const {
  const uint64_t bits = FilterBits(h);
  return (filter_[(h >> 40) & filter_mask_] & bits) == bits;
}

uint32_t RankTable::Probe(std::string_view bytes, uint64_t head, uint64_t h) const {
  const uint32_t len_tag = LenTag(bytes.size(), h);
  for (size_t i = h & mask_;; i = (i + 1) & mask_) {
    const Slot& slot = slots_[i];
    if (slot.len_tag == 0) return kNoRank;
    if (slot.len_tag != len_tag || slot.head != head) continue;
    if (bytes.size() <= 8) return slot.rank;
    const uint32_t t = tokens_[slot.rank];
    if (std::memcmp(blob_ + (t >> 8) + 8, bytes.data() + 8, bytes.size() - 8) == 0) {
      return slot.rank;
    }
  }
}

std::string_view RankTable::Token(uint32_t rank) const {
  if (rank >= tokens_.size()) return {};
  const uint32_t t = tokens_[rank];
  return {blob_ + (t >> 8), t & 0xff};
}

constexpr size_t kCacheSize = 8192;

BytePairMerger::BytePairMerger(const RankTable& ranks)
    : ranks_(ranks), cache_(kCacheSize, RankTable::Slot{0, 0, 0}) {}

uint32_t BytePairMerger::RankOf(std::string_view bytes) {
  if (bytes.size() <= 2 || bytes.size() > 8) return ranks_.Rank(bytes);
  if (bytes.size() == 3) {
    if (const int i = RankTable::ThreeByteIndex(bytes); i >= 0) return ranks_.triples_[i];
  }
  const uint64_t head = Head(bytes);
  const uint64_t h = HashBytes(bytes, head);
  if (!ranks_.MayContain(h)) return kNoRank;  // most merge candidates end here
  const uint32_t len_tag = LenTag(bytes.size(), h);
  RankTable::Slot& entry = cache_[(h >> 24) & (kCacheSize - 1)];
  if (entry.len_tag == len_tag && entry.head == head) return entry.rank;
  const uint32_t rank = ranks_.Probe(bytes, head, h);
  entry = RankTable::Slot{head, rank, len_tag};
  return rank;
}

void BytePairMerger::Prefetch(std::string_view bytes) const {
  if (bytes.size() <= 3 || bytes.size() > 8) return;  // direct tables, or rare
  const uint64_t h = HashBytes(bytes, Head(bytes));
  __builtin_prefetch(&ranks_.filter_[(h >> 40) & ranks_.filter_mask_]);
  __builtin_prefetch(&cache_[(h >> 24) & (kCacheSize - 1)]);
}

size_t BytePairMerger::Count(std::string_view piece) {
  if (piece.size() <= 1 || RankOf(piece) != kNoRank) return piece.empty() ? 0 : 1;
  return SplitMerged(piece).size() - 1;
}

std::span<const uint32_t> BytePairMerger::Split(std::string_view piece) {
  if (piece.size() <= 1 || RankOf(piece) != kNoRank) {
    starts_.clear();
    if (!piece.empty()) starts_.push_back(0);
    starts_.push_back(static_cast<uint32_t>(piece.size()));
    return starts_;
  }
  return SplitMerged(piece);
}

// A piece of two or more bytes that is not a token itself.
std::span<const uint32_t> BytePairMerger::SplitMerged(std::string_view piece) {
  starts_.clear();
  return piece.size() <= kShortPiece ? SplitShort(piece) : SplitLong(piece);
}

// tiktoken's loop: parts[i] starts at starts_[i]; pair_ranks_[i] is the rank of parts i and i+1
// merged. Each round merges the lowest-ranked pair (the first one on ties).
std::span<const uint32_t> BytePairMerger::SplitShort(std::string_view piece) {
  const size_t n = piece.size();
  for (uint32_t i = 0; i <= n; ++i) starts_.push_back(i);
  pair_ranks_.assign(n + 1, kNoRank);
  for (size_t i = 0; i + 1 < n; ++i) pair_ranks_[i] = RankOf(piece.substr(i, 2));
  // Rank of parts[i] merged with parts[i + 1], both taken from the current starts_.
  auto pair_rank = [&](size_t i) {
    if (i + 2 >= starts_.size()) return kNoRank;
    return RankOf(piece.substr(starts_[i], starts_[i + 2] - starts_[i]));
  };
  while (starts_.size() > 2) {
    // The minimum first (a loop the compiler vectorizes), then its first position.
    const size_t pairs = starts_.size() - 2;
    const uint32_t* r = pair_ranks_.data();
    uint32_t best = kNoRank;
    for (size_t i = 0; i < pairs; ++i) best = std::min(best, r[i]);
    if (best == kNoRank) break;
    size_t at = 0;
    while (r[at] != best) ++at;
    starts_.erase(starts_.begin() + static_cast<ptrdiff_t>(at) + 1);
    pair_ranks_.erase(pair_ranks_.begin() + static_cast<ptrdiff_t>(at) + 1);
    pair_ranks_[at] = pair_rank(at);
    if (at > 0) pair_ranks_[at - 1] = pair_rank(at - 1);
  }
  return starts_;
}

// The same merges in O(n log n) without stale candidates: parts form a linked list over their
// start offsets, and a tournament tree over the offsets holds, for each live part, the rank of
// it merged with the next one as (rank << 32 | start), so the root is the lowest rank, leftmost
// on ties. A merge changes at most three neighbouring leaves (the merged part, the removed one
// and the part before), whose ancestors are recomputed together.
std::span<const uint32_t> BytePairMerger::SplitLong(std::string_view piece) {
  const uint32_t n = static_cast<uint32_t>(piece.size());
  constexpr uint64_t kNone = ~uint64_t{0};
  size_t leaves = 1;
  while (leaves < n) leaves <<= 1;
  tree_.assign(2 * leaves, kNone);
  uint64_t* tree = tree_.data();
  next_.resize(n + 1);
  prev_.resize(n + 1);
  for (uint32_t i = 0; i <= n; ++i) {
    next_[i] = i + 1;
    prev_[i] = i == 0 ? 0 : i - 1;
  }
  for (uint32_t i = 0; i + 1 < n; ++i) {
    const uint32_t r = RankOf(piece.substr(i, 2));
    if (r != kNoRank) tree[leaves + i] = uint64_t{r} << 32 | i;
  }
  for (size_t i = leaves - 1; i > 0; --i) tree[i] = std::min(tree[2 * i], tree[2 * i + 1]);
  // The candidate of part `start` merged with the part after it.
  auto candidate = [&](uint32_t start) -> uint64_t {
    const uint32_t mid = next_[start];
    if (mid >= n) return kNone;
    const uint32_t r = RankOf(piece.substr(start, next_[mid] - start));
    return r == kNoRank ? kNone : (uint64_t{r} << 32 | start);
  };
  while (tree[1] != kNone) {
    const auto start = static_cast<uint32_t>(tree[1]);
    const uint32_t mid = next_[start];
    const uint32_t end = next_[mid];
    next_[start] = end;
    if (end <= n) prev_[end] = start;
    // Both lookups below usually miss the CPU cache: start their loads together.
    if (end < n) Prefetch(piece.substr(start, next_[end] - start));
    if (start > 0) Prefetch(piece.substr(prev_[start], end - prev_[start]));
    // Three leaves change (the part before, the merged part, the removed one), all within
    // [first, mid]: set them, then recompute their ancestors in one pass up the tree.
    auto set = [&](uint32_t at, uint64_t value) {
      size_t i = leaves + at;
      tree[i] = value;
      for (i >>= 1; i > 0; i >>= 1) {
        const uint64_t m = std::min(tree[2 * i], tree[2 * i + 1]);
        if (tree[i] == m) break;
        tree[i] = m;
      }
    };
    set(mid, kNone);
    set(start, candidate(start));
    if (start > 0) set(prev_[start], candidate(prev_[start]));
  }
  starts_.clear();
  for (uint32_t i = 0; i < n; i = next_[i]) starts_.push_back(i);
  starts_.push_back(n);
  return starts_;
}

}  // namespace modelmux::text
