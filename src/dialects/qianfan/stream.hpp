#pragma once
// Qianfan legacy ERNIE streams: SSE bytes -> neutral StreamEvents. Pure; one stream per object
// (not thread-safe).

#include <memory>
#include <string_view>
#include <vector>

#include "dialects/dialect.hpp"

namespace modelmux::dialects::qianfan {

// Decodes `data: {...}` events, each with an incremental `result`. Bytes may be split anywhere.
//   first event               -> kDelta with role "assistant" (and its text, if any); the id
//                                and created of each chunk are set on the events
//   result                    -> kDelta text (empty results emit nothing)
//   function_call             -> kDelta with one tool-call fragment {index 0, id "call_" + id,
//                                name, arguments}
//   usage (on any chunk)      -> remembered; later chunks overwrite it (never added)
//   is_end: true              -> kDelta with the finish reason (see response.hpp), then kUsage
//                                (if usage was seen), then kDone; later events are ignored
//   {error_code, error_msg}   -> Feed returns the mapped error (errors.hpp ErrorFromBody)
// A body that is not SSE but one JSON object (Baidu answers errors such as 110 that way even
// to stream requests) is buffered and, once complete, decoded: an error body gives its error.
// Data that is not a JSON object -> kUpstreamError "bad_upstream_response". After an error,
// every later call returns it again. Finish() without is_end: error "stream_cut".
class ErnieStreamDecoder final : public dialects::StreamDecoder {
 public:
  ErnieStreamDecoder();
  ~ErnieStreamDecoder() override;
  ErnieStreamDecoder(const ErnieStreamDecoder&) = delete;
  ErnieStreamDecoder& operator=(const ErnieStreamDecoder&) = delete;

  [[nodiscard]] Status Feed(std::string_view bytes, std::vector<StreamEvent>& out) override;
  [[nodiscard]] Status Finish(std::vector<StreamEvent>& out) override;

 private:
  struct State;
  std::unique_ptr<State> st_;
};

}  // namespace modelmux::dialects::qianfan
