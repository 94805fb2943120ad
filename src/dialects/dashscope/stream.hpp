#pragma once
// DashScope native streams: SSE bytes -> neutral StreamEvents. Pure; one stream per object (not
// thread-safe).

#include <memory>
#include <string_view>
#include <vector>

#include "dialects/dialect.hpp"

namespace modelmux::dialects::dashscope {

// Decodes `id:N` / `event:result` / `:HTTP_STATUS/200` / `data:{...}` events (data without the
// space after the colon; bytes may be split anywhere). Each event's data is a whole answer so
// far: {output: {choices: [{message: {role, content, reasoning_content?, tool_calls?},
// finish_reason}]}, usage, request_id} (or the result_format "text" form {output: {text,
// finish_reason}}).
//
// THE QUIRK: unless the request said `incremental_output: true`, each event repeats the whole
// text so far. The decoder emits only what is new, for the text, the reasoning and each tool
// call's arguments. In TextMode::kAuto (the default) it finds out which kind of stream it reads:
// the first non-empty value of a field is emitted as it is; when a later value starts with what
// was emitted, the value is held back until the next value of that field (or of another field
// with text already) confirms the stream cumulative (it extends it again) or incremental (it does
// not); any other value makes the stream incremental. The decision holds for the rest of the
// stream; a value still held at the end is taken as incremental (what the requests ask for).
//
//   first event                 -> kDelta with role "assistant"; ids = request_id
//   new text / reasoning        -> kDelta text / reasoning
//   tool_calls [{index, id, function {name, arguments}}] -> tool-call fragments {index, id and
//                                  name on the first fragment of a call, new arguments}
//   usage (on any event)        -> remembered; the last one wins
//   finish_reason other than null / "null" / "" -> kDelta with the finish reason (raw kept);
//                                  when every choice seen has finished: kUsage (if usage was
//                                  seen), then kDone; later events are ignored
//   event:error, or data with a non-empty `code` -> Feed returns the mapped error (errors.hpp),
//                                  the provider's code kept
// A body that is not SSE but one JSON object (an error, or a whole answer from a proxy that
// ignored X-DashScope-SSE) is buffered and decoded once complete. Malformed data ->
// kUpstreamError "bad_upstream_response". After an error every later call returns it again.
// Finish() without a finish reason: error "stream_cut".
class DashScopeStreamDecoder final : public dialects::StreamDecoder {
 public:
  enum class TextMode { kAuto, kCumulative, kIncremental };

  explicit DashScopeStreamDecoder(TextMode mode = TextMode::kAuto);
  ~DashScopeStreamDecoder() override;
  DashScopeStreamDecoder(const DashScopeStreamDecoder&) = delete;
  DashScopeStreamDecoder& operator=(const DashScopeStreamDecoder&) = delete;

  [[nodiscard]] Status Feed(std::string_view bytes, std::vector<StreamEvent>& out) override;
  [[nodiscard]] Status Finish(std::vector<StreamEvent>& out) override;

  // The kind of stream found so far (kAuto while undecided).
  [[nodiscard]] TextMode mode() const;

 private:
  struct State;
  std::unique_ptr<State> st_;
};

}  // namespace modelmux::dialects::dashscope
