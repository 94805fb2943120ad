#pragma once
// Bedrock ConverseStream: AWS event-stream bytes (eventstream.hpp) -> neutral StreamEvents.
// Pure; one decoder serves one stream (not thread-safe).

#include <memory>
#include <string_view>
#include <vector>

#include "dialects/dialect.hpp"

namespace modelmux::dialects::bedrock {

// Frames may be split anywhere; both CRCs are checked. Events, by :event-type:
//   messageStart{role}                  -> kDelta with role "assistant";
//   contentBlockStart{start:{toolUse:{toolUseId, name}}, contentBlockIndex}
//                                       -> kDelta with a tool-call fragment {index = the call's
//                                          order in the answer, id, name, arguments ""};
//   contentBlockDelta{delta:{text}}     -> kDelta text; {delta:{toolUse:{input}}} -> a fragment
//                                          {index of that block's call, arguments = the piece};
//                                          {delta:{reasoningContent:{text}}} -> reasoning;
//   contentBlockStop                    -> nothing;
//   messageStop{stopReason}             -> kDelta with finish_reason (raw kept);
//   metadata{usage, metrics}            -> kUsage (wire.hpp UsageFrom), then kDone;
//   other event types and the "p" padding field are ignored.
// Errors returned by Feed (every later call returns the same one): an exception frame
// (:message-type exception) -> errors.hpp DecodeStreamException(:exception-type, payload); an
// error frame (:error-code, :error-message) -> kUpstreamError with that code; framing or CRC
// failures -> the framer's kUpstreamError (codes "eventstream_*"); a payload that is not a JSON
// object -> kUpstreamError "bad_upstream_response".
// Finish(): after metadata, nothing more; after messageStop without metadata, kDone; otherwise
// (the body ended early, or mid-frame) an error with code "stream_cut".
class ConverseStreamDecoder final : public dialects::StreamDecoder {
 public:
  ConverseStreamDecoder();
  ~ConverseStreamDecoder() override;
  ConverseStreamDecoder(const ConverseStreamDecoder&) = delete;
  ConverseStreamDecoder& operator=(const ConverseStreamDecoder&) = delete;

  [[nodiscard]] Status Feed(std::string_view bytes, std::vector<StreamEvent>& out) override;
  [[nodiscard]] Status Finish(std::vector<StreamEvent>& out) override;

 private:
  struct State;
  std::unique_ptr<State> st_;
};

}  // namespace modelmux::dialects::bedrock
