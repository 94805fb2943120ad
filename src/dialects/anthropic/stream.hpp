#pragma once
// Anthropic Messages streams: the upstream decoder (SSE bytes -> neutral StreamEvents) and the
// ingress encoder (neutral StreamEvents -> Anthropic SSE bytes). Pure; each object serves one
// stream at a time (not thread-safe).

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dialects/dialect.hpp"

namespace modelmux::dialects::anthropic {

// Decodes `event: <type>` / `data: {"type":...}` events (the data's type wins over the event
// name). Bytes may be split anywhere. What it emits:
//   message_start                    -> kDelta with role "assistant" (id and model remembered
//                                       and set on every event that follows)
//   content_block_start text/thinking -> kDelta with the block's initial text, if any
//   content_block_start tool_use     -> kDelta with a tool-call fragment {index = the tool's
//                                       order among tool_use blocks, id, name, arguments ""}
//   text_delta / thinking_delta      -> kDelta text / reasoning
//   input_json_delta                 -> kDelta fragment {index, arguments = partial_json}
//   content_block_stop of a tool_use block that got no input -> fragment arguments "{}"
//   message_delta with stop_reason   -> kDelta with finish_reason (+ raw); usage taken
//                                       (cumulative: counters present overwrite, never add)
//   message_stop                     -> kUsage (final usage, if any was seen), then kDone
//   ping, signature_delta, citations_delta, unknown events, events after message_stop -> none
//   error                            -> Feed returns the mapped error (provider_code = the
//                                       error type, see errors.hpp DecodeStreamError)
// Data that is not a JSON object -> kUpstreamError "bad_upstream_response". Once an error was
// returned, every later call returns it again. Finish(): kDone was already emitted at
// message_stop, so it appends nothing; without message_stop it errors with code "stream_cut".
class MessagesStreamDecoder final : public dialects::StreamDecoder {
 public:
  MessagesStreamDecoder();
  ~MessagesStreamDecoder() override;
  MessagesStreamDecoder(const MessagesStreamDecoder&) = delete;
  MessagesStreamDecoder& operator=(const MessagesStreamDecoder&) = delete;

  [[nodiscard]] Status Feed(std::string_view bytes, std::vector<StreamEvent>& out) override;
  [[nodiscard]] Status Finish(std::vector<StreamEvent>& out) override;

 private:
  struct State;
  std::unique_ptr<State> st_;
};

// Encodes neutral events (choice 0 only; Anthropic has one choice) as the Anthropic event
// sequence: message_start (sent before anything else; id "msg_..." from the event id, model
// from the event, else the caller's model), then per kind of content a content block with
// consecutive indices — thinking (thinking_delta), text (text_delta), tool_use {id, name,
// input:{}} (input_json_delta per argument fragment; a new tool index opens a new block) — each
// closed by content_block_stop when another block opens or at kDone. Usage (kUsage or riding on
// a delta) and the finish reason are remembered. A neutral kError event becomes `event: error`
// (api_error) and ends the stream.
// Finish(usage, nullptr): message_delta {stop_reason, stop_sequence:null, usage: `usage`, else
// the last usage seen, else zeros; all four counters} then message_stop (message_start and
// block stops first if still owed). Finish(_, error): `event: error` with data
// {"type":"error","error":{"type","message"}} (see errors.hpp EncodeError). Finish twice, or
// after a kError event, returns "".
class MessagesStreamEncoder final : public dialects::StreamEncoder {
 public:
  explicit MessagesStreamEncoder(std::string model) : model_(std::move(model)) {}

  [[nodiscard]] std::string Encode(const StreamEvent& event) override;
  [[nodiscard]] std::string Finish(const std::optional<Usage>& usage, const Error* error) override;

 private:
  enum class Block { kNone, kText, kThinking, kTool };

  void Start(const StreamEvent& ev, std::string& out);
  void Open(Block block, std::string& out, const StreamDelta::ToolCallFragment* tool = nullptr);
  void Close(std::string& out);
  void Delta(int index, std::string_view type, std::string_view key, std::string_view value,
             std::string& out);

  std::string model_;
  bool started_ = false;
  bool finished_ = false;
  Block open_ = Block::kNone;
  int open_index_ = -1;  // wire index of the open block
  int open_tool_ = -1;   // neutral tool index of the open tool_use block
  int next_index_ = 0;
  std::map<int, int> tool_blocks_;  // neutral tool index -> wire block index
  std::optional<Usage> usage_;
  FinishReason finish_ = FinishReason::kNone;
  std::string finish_raw_;
};

}  // namespace modelmux::dialects::anthropic
