#pragma once
// Conversions between the SDK's public types (modelmux::sdk, include/modelmux/) and the neutral
// core types the router speaks. Pure functions; no I/O, except that ToCoreRequest reads the local
// files a message names (image_paths, video_paths) to turn them into data: URLs.
//
// Naming: inside namespace modelmux::sdk an unqualified Error, Message, Usage or ToolCall is the
// public type; the core types are spelled ::modelmux::Error and so on.

#include <map>
#include <optional>
#include <string>

#include "core/chat.hpp"
#include "core/error.hpp"
#include "core/result.hpp"
#include "dialects/openai/stream.hpp"
#include "modelmux/chat.hpp"
#include "modelmux/error.hpp"
#include "net/headers.hpp"

namespace modelmux::sdk {

// Public options -> neutral request. Errors: kInvalidRequest for an empty model, no messages, an
// unknown role, an empty media URL or path, and a local file that cannot be read or is not an
// image / a video (codes "file_unreadable", "unsupported_image_format",
// "unsupported_video_format", "video_unreadable"); kPayloadTooLarge ("media_too_large") for a file
// over 512 MiB. param names the field ("messages[0].image_paths[1]").
[[nodiscard]] ::modelmux::Result<ChatRequest> ToCoreRequest(const ChatOptions& options,
                                                            bool stream);

// The request headers the router may forward (simulator controls).
[[nodiscard]] net::Headers ToForwardHeaders(const std::map<std::string, std::string>& headers);

[[nodiscard]] Usage FromCoreUsage(const ::modelmux::Usage& usage);
[[nodiscard]] Error FromCoreError(const ::modelmux::Error& error);
// The first choice of a response (an answer with no choice gives empty text).
[[nodiscard]] ChatResult FromCoreResponse(const ChatResponse& response);

// Turns stream events into public chunks and folds them into the final result.
class StreamAssembler {
 public:
  // The chunk for one event, or nullopt when the event carries nothing for the caller (another
  // choice, [DONE], a role-only delta).
  [[nodiscard]] std::optional<StreamChunk> OnEvent(const StreamEvent& event);
  // The assembled answer. `final_usage` (the router's result) wins over usage seen in events.
  [[nodiscard]] ChatResult Result(const std::optional<::modelmux::Usage>& final_usage) const;

 private:
  dialects::openai::StreamAccumulator accumulator_;
};

}  // namespace modelmux::sdk
