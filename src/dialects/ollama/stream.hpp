#pragma once
// Ollama native streams: NDJSON bytes -> neutral StreamEvents. Pure; one stream per object (not
// thread-safe).

#include <memory>
#include <string_view>
#include <vector>

#include "dialects/dialect.hpp"

namespace modelmux::dialects::ollama {

// Decodes one JSON object per line (no SSE framing). Bytes may be split anywhere; blank lines
// and a trailing "\r" are ignored.
//   first object             -> kDelta with role "assistant"; id ("ollama-<created_at digits>"
//                               of the first object), created and model set on every event
//   message.content          -> kDelta text; message.thinking -> kDelta reasoning (empty ones
//                               emit nothing)
//   message.tool_calls       -> one complete fragment per call (index counting across the
//                               stream, id "call_<index>" unless Ollama gives one, name,
//                               arguments as JSON text)
//   done: true               -> kDelta with the finish reason (wire.hpp; kToolCalls after tool
//                               calls), then kUsage {prompt_eval_count, eval_count} when
//                               present, then kDone; later lines are ignored
//   {"error": "..."}         -> Feed returns kUpstreamError with that message
// A line that is not a JSON object, or longer than 16 MiB: kUpstreamError
// "bad_upstream_response". After an error, every later call returns it again. Finish() before
// done: true: error "stream_cut".
class OllamaStreamDecoder final : public dialects::StreamDecoder {
 public:
  OllamaStreamDecoder();
  ~OllamaStreamDecoder() override;
  OllamaStreamDecoder(const OllamaStreamDecoder&) = delete;
  OllamaStreamDecoder& operator=(const OllamaStreamDecoder&) = delete;

  [[nodiscard]] Status Feed(std::string_view bytes, std::vector<StreamEvent>& out) override;
  [[nodiscard]] Status Finish(std::vector<StreamEvent>& out) override;

 private:
  struct State;
  std::unique_ptr<State> st_;
};

}  // namespace modelmux::dialects::ollama
