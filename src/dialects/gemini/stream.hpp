#pragma once
// Gemini streamGenerateContent?alt=sse: SSE bytes -> neutral StreamEvents. Pure; one decoder
// serves one stream (not thread-safe).

#include <memory>
#include <string_view>
#include <vector>

#include "dialects/dialect.hpp"

namespace modelmux::dialects::gemini {

// Each `data:` event is a whole GenerateContentResponse holding the next increment. Bytes may be
// split anywhere. What it emits, one kDelta event per chunk (id = responseId, model =
// modelVersion, remembered from the first chunk that has them), with one StreamDelta per
// candidate in the chunk:
//   role "assistant" on a candidate's first delta; text parts -> text, thought parts ->
//   reasoning; functionCall parts -> a whole tool-call fragment {index = the call's order in
//   its candidate, id per wire.hpp ToolCallId, name, arguments = args as JSON text};
//   finishReason -> finish_reason (+ raw; STOP after function calls -> kToolCalls).
// usageMetadata is cumulative: the last one seen is kept and sent as kUsage at the end.
// Errors returned by Feed: a chunk holding `error` -> errors.hpp DecodeError(200, data) (the
// body's code as upstream_status); a chunk with no candidates and promptFeedback.blockReason ->
// kContentFilter (response.hpp); data that is not a JSON object -> kUpstreamError
// "bad_upstream_response". Once an error was returned, every later call returns it again.
// Finish() (the end of the HTTP body: Gemini has no terminator): when every candidate seen got
// a finishReason, appends kUsage (if any usage was seen) and kDone; otherwise (a body that
// ended before the final chunk) errors with code "stream_cut".
class GenerateContentStreamDecoder final : public dialects::StreamDecoder {
 public:
  GenerateContentStreamDecoder();
  ~GenerateContentStreamDecoder() override;
  GenerateContentStreamDecoder(const GenerateContentStreamDecoder&) = delete;
  GenerateContentStreamDecoder& operator=(const GenerateContentStreamDecoder&) = delete;

  [[nodiscard]] Status Feed(std::string_view bytes, std::vector<StreamEvent>& out) override;
  [[nodiscard]] Status Finish(std::vector<StreamEvent>& out) override;

 private:
  struct State;
  std::unique_ptr<State> st_;
};

}  // namespace modelmux::dialects::gemini
