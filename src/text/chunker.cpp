#include "text/chunker.hpp"

#include <algorithm>
#include <utility>

#include "text/sentences_chars.hpp"
#include "text/token_estimator.hpp"
#include "text/utf8.hpp"

namespace modelmux::text {
namespace {

using detail::IsCjkOrQuote;
using detail::IsCloser;
using detail::IsSpace;
using detail::TrimSpace;

// Units [a, b) of `units` (views into one buffer, in order) as one slice of that buffer.
std::string_view Slice(const std::vector<std::string_view>& units, size_t a, size_t b) {
  const char* begin = units[a].data();
  const char* end = units[b - 1].data() + units[b - 1].size();
  return {begin, static_cast<size_t>(end - begin)};
}

// A run of consecutive units; `tokens` is the counter's value for their slice.
struct Range {
  size_t first = 0;
  size_t count = 0;
  int64_t tokens = 0;
};

class Packer {
 public:
  Packer(int64_t max_tokens, const TokenCounter& count) : max_(max_tokens), count_(count) {}

  // Greedily packs `units` into ranges that fit the budget, each new range repeating up to
  // `overlap` units of the previous one. A unit over the budget becomes a range of its own whose
  // tokens exceed max (the caller cuts it); no overlap is taken from or into such a range.
  std::vector<Range> Pack(const std::vector<std::string_view>& units, size_t overlap) const {
    std::vector<int64_t> cost(units.size());
    for (size_t k = 0; k < units.size(); ++k) cost[k] = count_(units[k]);
    std::vector<size_t> next_oversize(units.size());  // first k > i with cost[k] > max, or size
    for (size_t k = units.size(); k-- > 0;) {
      const bool next_over = k + 1 < units.size() && cost[k + 1] > max_;
      next_oversize[k] = k + 1 == units.size() || next_over ? k + 1 : next_oversize[k + 1];
    }
    std::vector<Range> out;
    size_t i = 0;
    while (i < units.size()) {
      if (cost[i] > max_) {
        out.push_back({i, 1, cost[i]});
        ++i;
        continue;
      }
      // Where this range starts: the earliest overlap unit that still fits with unit i.
      size_t start = i;
      int64_t tokens = cost[i];
      if (overlap > 0 && !out.empty() && out.back().tokens <= max_) {
        const Range& prev = out.back();
        for (size_t s = std::max(prev.first, i - std::min(overlap, i)); s < i; ++s) {
          const int64_t t = count_(Slice(units, s, i + 1));
          if (t <= max_) {
            start = s;
            tokens = t;
            break;
          }
        }
      }
      // Units that may join: up to the next one that alone is over the budget.
      const size_t limit = next_oversize[i];
      // Propose an end by adding single costs, then settle it with real counts of the slice.
      int64_t sum = 0;
      for (size_t k = start; k <= i; ++k) sum += cost[k];
      size_t guess = i + 1;
      while (guess < limit && sum + cost[guess] <= max_) sum += cost[guess++];
      const auto [end, end_tokens] = LargestFit(units, start, i + 1, tokens, guess, limit);
      out.push_back({start, end - start, end_tokens});
      i = end;
    }
    return out;
  }

  // The largest end in [fit, limit] whose slice [start, end) fits, given that `fit` does (with
  // `fit_tokens`); searched by galloping from `guess`, then bisecting. With a counter that is not
  // monotone the result still fits, it may just not be the largest.
  std::pair<size_t, int64_t> LargestFit(const std::vector<std::string_view>& units, size_t start,
                                        size_t fit, int64_t fit_tokens, size_t guess,
                                        size_t limit) const {
    size_t lo = fit;
    int64_t lo_tokens = fit_tokens;
    size_t hi = limit + 1;  // first end known not to fit (limit + 1: none known)
    auto fits = [&](size_t end) {
      const int64_t t = count_(Slice(units, start, end));
      if (t > max_) return false;
      lo = end;
      lo_tokens = t;
      return true;
    };
    if (guess > lo && !fits(guess)) hi = guess;
    for (size_t step = 1; hi == limit + 1 && lo < limit; step *= 2) {
      const size_t candidate = std::min(lo + step, limit);
      if (!fits(candidate)) hi = candidate;
    }
    while (hi != limit + 1 && hi - lo > 1) {
      const size_t mid = lo + (hi - lo) / 2;
      if (!fits(mid)) hi = mid;
    }
    return {lo, lo_tokens};
  }

  // Cuts a unit that is over the budget into trimmed pieces at code point boundaries, each the
  // longest that fits (moved back to a space when it would cut a word), a single code point when
  // not even that fits.
  std::vector<std::string_view> CutCodePoints(std::string_view u) const {
    std::vector<size_t> at;  // code point start offsets, then u.size()
    std::vector<bool> space;
    for (size_t pos = 0; pos < u.size();) {
      at.push_back(pos);
      space.push_back(IsSpace(DecodeCodePoint(u, pos)));
    }
    at.push_back(u.size());
    const size_t m = at.size() - 1;  // number of code points
    auto piece = [&](size_t from, size_t to) {
      return TrimSpace(u.substr(at[from], at[to] - at[from]));
    };
    auto fits = [&](size_t from, size_t to) { return count_(piece(from, to)) <= max_; };
    std::vector<std::string_view> out;
    size_t a = 0;
    while (a < m) {
      // Gallop over prefixes of 1, 2, 4... code points, then bisect: the work per piece is a small
      // multiple of the piece's length, not of the rest of the unit.
      size_t lo = a;      // the longest prefix known to fit ends at code point lo
      size_t hi = m + 1;  // the shortest prefix known not to fit (m + 1: none yet)
      for (size_t step = 1; hi == m + 1 && lo < m; step *= 2) {
        const size_t candidate = std::min(a + step, m);
        (fits(a, candidate) ? lo : hi) = candidate;
      }
      while (hi <= m && hi - lo > 1) {
        const size_t mid = lo + (hi - lo) / 2;
        (fits(a, mid) ? lo : hi) = mid;
      }
      if (lo == a) {
        lo = a + 1;  // a single code point over the budget: emit it anyway, losing nothing
      } else if (lo < m && !space[lo] && !space[lo - 1]) {
        // Cutting inside a word: move the cut back to the last whitespace in the second half.
        for (size_t w = lo - 1; w > a + (lo - a) / 2; --w) {
          if (!space[w]) continue;
          if (fits(a, w)) lo = w;
          break;
        }
      }
      out.push_back(piece(a, lo));
      a = lo;
      while (a < m && space[a]) ++a;
    }
    return out;
  }

 private:
  int64_t max_;
  const TokenCounter& count_;
};

// A sentence cut after its clause marks (，、；： anywhere, ", " "; " ": " before whitespace or CJK
// text), each clause keeping the closing quotes after its mark; trimmed, empty ones dropped.
std::vector<std::string_view> SplitClauses(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  size_t pos = 0;
  auto push = [&](size_t end) {
    const std::string_view clause = TrimSpace(s.substr(start, end - start));
    if (!clause.empty()) out.push_back(clause);
    start = end;
  };
  while (pos < s.size()) {
    const char32_t c = DecodeCodePoint(s, pos);
    bool mark = detail::IsWideClauseMark(c);
    if (!mark && (c == ',' || c == ';' || c == ':')) {
      size_t next = pos;
      const char32_t n = pos < s.size() ? DecodeCodePoint(s, next) : U' ';
      mark = IsSpace(n) || IsCjkOrQuote(n);
    }
    if (!mark) continue;
    while (pos < s.size()) {
      size_t next = pos;
      if (!IsCloser(DecodeCodePoint(s, next))) break;
      pos = next;
    }
    push(pos);
  }
  push(s.size());
  return out;
}

}  // namespace

std::vector<Chunk> PackSentences(std::string_view text, const ChunkOptions& options,
                                 TokenCounter count_tokens) {
  if (!count_tokens) count_tokens = [](std::string_view s) { return EstimateTokens(s); };
  const int64_t max_tokens = std::max<int64_t>(1, options.max_tokens);
  const Packer packer(max_tokens, count_tokens);
  const std::vector<std::string_view> sentences = SplitSentences(text, options.split);
  const auto overlap = static_cast<size_t>(std::max<int64_t>(0, options.overlap_sentences));

  std::vector<Chunk> chunks;
  for (const Range& r : packer.Pack(sentences, overlap)) {
    if (r.tokens <= max_tokens) {
      chunks.push_back({Slice(sentences, r.first, r.first + r.count), r.first, r.count, r.tokens});
      continue;
    }
    // One sentence over the budget: its clauses, clauses still over it cut at code points, and
    // these parts packed again so that short neighbours share a chunk.
    std::vector<std::string_view> parts;
    for (std::string_view clause : SplitClauses(sentences[r.first])) {
      if (count_tokens(clause) <= max_tokens) {
        parts.push_back(clause);
        continue;
      }
      for (std::string_view cut : packer.CutCodePoints(clause)) parts.push_back(cut);
    }
    for (const Range& p : packer.Pack(parts, 0)) {
      chunks.push_back({Slice(parts, p.first, p.first + p.count), r.first, 1, p.tokens});
    }
  }
  return chunks;
}

}  // namespace modelmux::text
