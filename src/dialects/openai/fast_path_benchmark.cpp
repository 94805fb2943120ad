// Micro benchmarks of the same-dialect fast path on the wrk body of bench/wrk/chat.lua. Each
// benchmark also checks its answer, so a broken scanner cannot look fast.
#include <benchmark/benchmark.h>

#include <string>

#include "dialects/openai/fast_path.hpp"
#include "dialects/openai/request.hpp"

namespace modelmux::dialects::openai {
namespace {

const std::string kWrkBody =
    R"({"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},)"
    R"({"role":"user","content":"What is the capital of France? Answer in one sentence."}],)"
    R"("temperature":0.2,"max_tokens":64})";
const std::string kWrkStreamBody = kWrkBody.substr(0, kWrkBody.size() - 1) +
                                   R"(,"stream":true,"stream_options":{"include_usage":true}})";

void BM_ScanChatRequest(benchmark::State& state) {
  for (auto _ : state) {
    auto s = ScanChatRequest(kWrkBody);
    if (!s.ok() || s->model != "gpt-4o-mini") state.SkipWithError("bad scan");
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_ScanChatRequest);

void BM_RewriteForUpstream(benchmark::State& state) {
  const std::string& body = state.range(0) != 0 ? kWrkStreamBody : kWrkBody;
  for (auto _ : state) {
    auto r = RewriteForUpstream(body, "gpt-4o-mini-2024-07-18", true, kExtensionKeys);
    if (!r.ok() || r->size() < body.size()) state.SkipWithError("bad rewrite");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_RewriteForUpstream)->Arg(0)->Arg(1);

void BM_DecodeChatRequest(benchmark::State& state) {
  for (auto _ : state) {
    auto r = DecodeChatRequest(kWrkBody);
    if (!r.ok() || r->messages.size() != 2) state.SkipWithError("bad decode");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_DecodeChatRequest);

void BM_DecodeEncodeChatRequest(benchmark::State& state) {
  for (auto _ : state) {
    auto r = DecodeChatRequest(kWrkBody);
    std::string wire = EncodeChatRequest(*r, "gpt-4o-mini-2024-07-18", false);
    benchmark::DoNotOptimize(wire);
  }
}
BENCHMARK(BM_DecodeEncodeChatRequest);

void BM_ScanUsageChunk(benchmark::State& state) {
  const std::string chunk =
      R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini",)"
      R"("choices":[],"usage":{"prompt_tokens":31,"completion_tokens":9,"total_tokens":40}})";
  for (auto _ : state) {
    auto u = ScanUsage(chunk);
    if (!u || u->prompt_tokens != 31) state.SkipWithError("bad usage");
    benchmark::DoNotOptimize(u);
  }
}
BENCHMARK(BM_ScanUsageChunk);

}  // namespace
}  // namespace modelmux::dialects::openai
