// libFuzzer target: the OpenAI dialect's parsers of untrusted bytes. The input is used three
// ways: as a chat request body (full decoder and fast-path scanner, which must agree on accept vs
// reject for what both check), as the body of a rewrite, and as an SSE byte stream fed in two
// pieces through SseParser into StreamDecoder and StreamAccumulator.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/sse.hpp"
#include "dialects/openai/errors.hpp"
#include "dialects/openai/fast_path.hpp"
#include "dialects/openai/request.hpp"
#include "dialects/openai/stream.hpp"

using namespace modelmux;                    // NOLINT
using namespace modelmux::dialects::openai;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  auto full = DecodeChatRequest(in);
  auto scan = ScanChatRequest(in);
  // Whatever the full decoder accepts, the scanner accepts too.
  if (full.ok() && !scan.ok()) __builtin_trap();
  if (full.ok()) {
    const std::string wire = EncodeChatRequest(*full, "fuzz-model", true);
    if (!DecodeChatRequest(wire).ok()) __builtin_trap();
  }
  if (scan.ok()) {
    auto rewritten = RewriteForUpstream(in, "fuzz-model", true, kExtensionKeys);
    if (!rewritten.ok() || !ScanChatRequest(*rewritten).ok()) __builtin_trap();
  }
  (void)DecodeCompletionRequest(in);
  (void)ScanUsage(in);
  (void)IsUsageOnlyChunk(in);
  (void)DecodeError(400, in, "fuzz");

  SseParser parser(1 << 20);
  StreamDecoder decoder;
  StreamAccumulator acc;
  std::vector<SseEvent> events;
  const size_t half = size / 2;
  if (parser.Feed(in.substr(0, half), events) && parser.Feed(in.substr(half), events)) {
    parser.Finish(events);
  }
  for (const auto& ev : events) {
    auto r = decoder.OnEvent(ev);
    if (r.ok() && r->has_value()) {
      acc.Add(**r);
      (void)EncodeStreamChunk(**r);
    }
  }
  (void)acc.Response();
  return 0;
}
