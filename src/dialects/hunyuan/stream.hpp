#pragma once
// Hunyuan native streams: SSE bytes -> neutral StreamEvents. Pure; one stream per object (not
// thread-safe).

#include <memory>
#include <string_view>
#include <vector>

#include "dialects/dialect.hpp"

namespace modelmux::dialects::hunyuan {

// Decodes `data: {Id, Created, Choices: [{Delta: {Role, Content, ToolCalls, ReasoningContent},
// FinishReason}], Usage, Note}` events. There is no [DONE]: the chunk with a non-empty
// FinishReason is the last. Bytes may be split anywhere.
//   first chunk                -> kDelta with role "assistant"; id and created set on events
//   Delta.Content / Reasoning  -> kDelta text / reasoning (empty ones emit nothing)
//   Delta.ToolCalls            -> tool-call fragments merged by Id, as Tencent documents: a new
//                                 Id opens the next index (with id and name), the same Id (or
//                                 none) appends arguments to it
//   Usage (any chunk)          -> remembered (cumulative; later chunks overwrite it)
//   FinishReason non-empty     -> kDelta with the finish reason (response.hpp's map; kToolCalls
//                                 when tool calls came and the reason says stop), then kUsage
//                                 (if usage was seen), then kDone; later events are ignored
//   Response.Error / ErrorMsg  -> Feed returns the mapped error (errors.hpp)
// A body that is not SSE but one JSON object (an error answered to a stream request) is
// buffered and decoded once complete: an error body gives its error, anything else
// kUpstreamError "bad_upstream_response". After an error, every later call returns it again.
// Finish() before the last chunk: error "stream_cut".
class HunyuanStreamDecoder final : public dialects::StreamDecoder {
 public:
  HunyuanStreamDecoder();
  ~HunyuanStreamDecoder() override;
  HunyuanStreamDecoder(const HunyuanStreamDecoder&) = delete;
  HunyuanStreamDecoder& operator=(const HunyuanStreamDecoder&) = delete;

  [[nodiscard]] Status Feed(std::string_view bytes, std::vector<StreamEvent>& out) override;
  [[nodiscard]] Status Finish(std::vector<StreamEvent>& out) override;

 private:
  struct State;
  std::unique_ptr<State> st_;
};

}  // namespace modelmux::dialects::hunyuan
