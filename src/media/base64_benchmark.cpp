// Base64 throughput: the reference (one character at a time) against the dispatched fast path.
// Bytes processed are counted on the binary side for both directions.

#include <benchmark/benchmark.h>

#include <random>
#include <string>

#include "media/base64.hpp"

namespace modelmux::media {
namespace {

using base64_impl::Impl;

std::string RandomBytes(size_t n) {
  std::mt19937_64 rng(1);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

void BM_Encode(benchmark::State& state, Impl impl) {
  const std::string in = RandomBytes(static_cast<size_t>(state.range(0)));
  std::string out(Base64EncodedSize(in.size()), '\0');
  for (auto _ : state) {
    base64_impl::Encode(impl, reinterpret_cast<const uint8_t*>(in.data()), in.size(), out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
  state.SetLabel(std::string(base64_impl::ImplName(impl)));
}

void BM_Decode(benchmark::State& state, Impl impl) {
  const std::string text = Base64Encode(RandomBytes(static_cast<size_t>(state.range(0))));
  std::string out(text.size() / 4 * 3, '\0');
  for (auto _ : state) {
    size_t len = 0;
    const bool ok = base64_impl::Decode(impl, text, reinterpret_cast<uint8_t*>(out.data()), &len);
    if (!ok) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
  state.SetLabel(std::string(base64_impl::ImplName(impl)));
}

void BM_EncodeReference(benchmark::State& s) {
  BM_Encode(s, Impl::kReference);
}
void BM_EncodeDispatched(benchmark::State& s) {
  BM_Encode(s, base64_impl::Dispatched());
}
void BM_EncodeScalar(benchmark::State& s) {
  BM_Encode(s, Impl::kScalar);
}
void BM_DecodeReference(benchmark::State& s) {
  BM_Decode(s, Impl::kReference);
}
void BM_DecodeDispatched(benchmark::State& s) {
  BM_Decode(s, base64_impl::Dispatched());
}
void BM_DecodeScalar(benchmark::State& s) {
  BM_Decode(s, Impl::kScalar);
}

constexpr int64_t kMiB = 1 << 20;
BENCHMARK(BM_EncodeReference)->Arg(kMiB)->Arg(16 * kMiB);
BENCHMARK(BM_EncodeScalar)->Arg(kMiB)->Arg(16 * kMiB);
BENCHMARK(BM_EncodeDispatched)->Arg(kMiB)->Arg(16 * kMiB);
BENCHMARK(BM_DecodeReference)->Arg(kMiB)->Arg(16 * kMiB);
BENCHMARK(BM_DecodeScalar)->Arg(kMiB)->Arg(16 * kMiB);
BENCHMARK(BM_DecodeDispatched)->Arg(kMiB)->Arg(16 * kMiB);

}  // namespace
}  // namespace modelmux::media
