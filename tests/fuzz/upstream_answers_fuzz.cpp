// libFuzzer target: every upstream dialect's decoders of untrusted provider bytes (whole answers,
// error bodies and streams: SSE, NDJSON, the AWS event stream). The input goes to each dialect;
// nothing may crash, and a stream fed whole must decode to the same text as the same bytes fed
// in small pieces (the framers may be split anywhere).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dialects/anthropic/anthropic.hpp"
#include "dialects/bedrock/bedrock.hpp"
#include "dialects/dashscope/dashscope.hpp"
#include "dialects/gemini/gemini.hpp"
#include "dialects/hunyuan/hunyuan.hpp"
#include "dialects/ollama/ollama.hpp"
#include "dialects/openai/family.hpp"
#include "dialects/openai/openai.hpp"
#include "dialects/qianfan/qianfan.hpp"

using namespace modelmux;  // NOLINT

namespace {

struct Decoded {
  bool ok = true;
  std::string text;  // concatenated delta text and reasoning
  size_t events = 0;
};

Decoded Stream(const dialects::UpstreamDialect& d, std::string_view in, size_t piece) {
  Decoded out;
  auto decoder = d.NewStreamDecoder();
  std::vector<StreamEvent> events;
  auto take = [&] {
    for (const auto& ev : events) {
      ++out.events;
      for (const auto& delta : ev.deltas) out.text += delta.text + delta.reasoning;
    }
    events.clear();
  };
  for (size_t at = 0; at < in.size(); at += piece) {
    if (!decoder->Feed(in.substr(at, piece), events).ok()) {
      take();
      out.ok = false;
      return out;
    }
    take();
  }
  out.ok = decoder->Finish(events).ok();
  take();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const dialects::UpstreamDialect* all[] = {
      &dialects::OpenAiUpstream(),    &dialects::AzureUpstream(),
      &dialects::ZhipuUpstream(),     &dialects::DeepSeekUpstream(),
      &dialects::MoonshotUpstream(),  &dialects::AnthropicUpstream(),
      &dialects::GeminiUpstream(),    &dialects::QianfanLegacyUpstream(),
      &dialects::DashScopeUpstream(), &dialects::BedrockUpstream(),
      &dialects::HunyuanUpstream(),   &dialects::OllamaUpstream(),
  };
  const size_t piece = size == 0 ? 1 : 1 + data[0] % 7;
  for (const auto* d : all) {
    (void)d->DecodeChat(in);
    (void)d->DecodeError(size % 2 ? 429 : 500, in);
    (void)d->DecodeEmbeddings(in);
    const Decoded whole = Stream(*d, in, in.size() + 1);
    const Decoded split = Stream(*d, in, piece);
    if (whole.ok && split.ok && whole.text != split.text) __builtin_trap();
  }
  return 0;
}
