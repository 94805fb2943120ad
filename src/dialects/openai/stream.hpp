#pragma once
// OpenAI chat.completion.chunk streams: framed SSE events -> StreamEvent, StreamEvent -> SSE
// bytes, and an accumulator folding events into a ChatResponse. Pure; each object is used by one
// stream at a time (not thread-safe), cheap to construct.

#include <map>
#include <optional>
#include <string>

#include "core/chat.hpp"
#include "core/result.hpp"
#include "core/sse.hpp"

namespace modelmux::dialects::openai {

class StreamDecoder {
 public:
  // Decodes one framed SSE event (from SseParser):
  //   data "[DONE]"                          -> kDone (and done() becomes true)
  //   {"error":{...}}                        -> kError (message masked of secrets)
  //   choices:[] with a usage object         -> kUsage
  //   choices:[] without usage (Azure prompt_filter_results), events without data, chunks whose
  //   choices carry nothing (content-filter annotations only)  -> nullopt
  //   otherwise                              -> kDelta (usage attached when present: Moonshot's
  //                                             choices[0].usage, or a non-null top-level usage)
  // Errors: kUpstreamError when the data is not a JSON object.
  [[nodiscard]] Result<std::optional<StreamEvent>> OnEvent(const SseEvent& ev);
  [[nodiscard]] bool done() const { return done_; }

 private:
  bool done_ = false;
};

// One `data: {...}\n\n` SSE event in OpenAI chat.completion.chunk shape. kUsage writes
// choices:[] plus usage; kDone writes `data: [DONE]\n\n`; kError writes {"error":{...}}.
[[nodiscard]] std::string EncodeStreamChunk(const StreamEvent& ev);

// Folds stream events into the response a non-streamed call would have returned: text and
// reasoning concatenated per choice, tool calls assembled by fragment index (arguments
// concatenated), the last usage seen, the last finish reason.
class StreamAccumulator {
 public:
  void Add(const StreamEvent& ev);
  // The response so far (choices ordered by index).
  [[nodiscard]] ChatResponse Response() const;
  [[nodiscard]] bool saw_error() const { return !error_message_.empty(); }
  [[nodiscard]] const std::string& error_message() const { return error_message_; }

 private:
  struct ChoiceState {
    Choice choice;
    std::map<int, ToolCall> tool_calls;  // by fragment index
  };
  ChatResponse resp_;
  std::map<int, ChoiceState> choices_;
  std::string error_message_;
};

}  // namespace modelmux::dialects::openai
