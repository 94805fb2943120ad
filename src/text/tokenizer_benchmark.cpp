// Token counting speed of the exact tokenizers, and the cost of building their tables.
//
//   text_benchmark --benchmark_filter=Tokenizer            (built-in corpus)
//   MODELMUX_TOKENIZER_BENCH_TEXT=FILE text_benchmark ...  (the corpus of tests/tokenizer/bench.sh,
//                                                           which also times js-tiktoken on FILE)
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "text/bpe.hpp"
#include "text/tiktoken.hpp"

extern "C" const unsigned char mm_tokenizer_cl100k_base[];
extern "C" const unsigned char mm_tokenizer_cl100k_base_end[];
extern "C" const unsigned char mm_tokenizer_o200k_base[];
extern "C" const unsigned char mm_tokenizer_o200k_base_end[];

namespace modelmux::text {
namespace {

// About 2 MB of English prose, Chinese prose and code, unless a file is given.
const std::string& Corpus() {
  static const std::string corpus = [] {
    if (const char* path = std::getenv("MODELMUX_TOKENIZER_BENCH_TEXT")) {
      std::ifstream in(path, std::ios::binary);
      return std::string(std::istreambuf_iterator<char>(in), {});
    }
    const std::string english =
        "The gateway counts tokens before it forwards a request, so that rate limits and budgets "
        "can be enforced up front. It's fast: counting shouldn't cost more than the JSON parse.\n";
    const std::string chinese =
        "网关在转发请求之前先计算令牌数量，这样就能提前执行速率限制和预算控制。"
        "长文本需要按句子切分，再打包成不超过预算的块。\n";
    const std::string code =
        "for (size_t i = 0; i < pieces.size(); ++i) {\n"
        "    total += merger.Count(pieces[i]);  // 1 token fast path\n}\n"
        "def split(text: str) -> list[str]:\n    return [s for s in text.split('。') if s]\n";
    std::string s;
    while (s.size() < (2u << 20)) s += english + chinese + code;
    return s;
  }();
  return corpus;
}

void BM_TokenizerCount(benchmark::State& state) {
  const Tokenizer& t = GetTokenizer(static_cast<Encoding>(state.range(0)));
  const std::string& text = Corpus();
  size_t tokens = 0;
  for (auto _ : state) {
    tokens = t.Count(text);
    benchmark::DoNotOptimize(tokens);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["tokens"] = static_cast<double>(tokens);
  state.counters["bytes"] = static_cast<double>(text.size());
  state.SetLabel(std::string(t.name()));
}
BENCHMARK(BM_TokenizerCount)
    ->Arg(static_cast<int>(Encoding::kCl100kBase))
    ->Arg(static_cast<int>(Encoding::kO200kBase))
    ->Unit(benchmark::kMillisecond);

void BM_TokenizerEncode(benchmark::State& state) {
  const Tokenizer& t = GetTokenizer(static_cast<Encoding>(state.range(0)));
  const std::string& text = Corpus();
  for (auto _ : state) benchmark::DoNotOptimize(t.Encode(text));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.SetLabel(std::string(t.name()));
}
BENCHMARK(BM_TokenizerEncode)
    ->Arg(static_cast<int>(Encoding::kCl100kBase))
    ->Arg(static_cast<int>(Encoding::kO200kBase))
    ->Unit(benchmark::kMillisecond);

// What the first GetTokenizer call of a process pays: parsing the table and building its map.
void BM_TokenizerLoadTable(benchmark::State& state) {
  const bool o200k = state.range(0) == static_cast<int>(Encoding::kO200kBase);
  const unsigned char* begin = o200k ? mm_tokenizer_o200k_base : mm_tokenizer_cl100k_base;
  const unsigned char* end = o200k ? mm_tokenizer_o200k_base_end : mm_tokenizer_cl100k_base_end;
  for (auto _ : state) {
    benchmark::DoNotOptimize(RankTable::Parse({begin, static_cast<size_t>(end - begin)}));
  }
  state.SetLabel(o200k ? "o200k_base" : "cl100k_base");
}
BENCHMARK(BM_TokenizerLoadTable)
    ->Arg(static_cast<int>(Encoding::kCl100kBase))
    ->Arg(static_cast<int>(Encoding::kO200kBase))
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace modelmux::text
