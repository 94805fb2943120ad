#pragma once
// A cached answer as bytes and back, losslessly: a non-stream ChatResponse, or a stream's events in
// their original chunking (replayed chunk by chunk), with usage, tool calls (and stream fragments),
// reasoning, finish reasons (canonical and raw), ids, created, model, system_fingerprint and every
// choice. Pure functions.
//
// Format: compact JSON, {"v":1,"stream":bool,"response":{...}} or {"v":1,"stream":true,
// "events":[...]}; empty strings and default values are left out. Bytes that are not valid UTF-8
// survive (they are written verbatim and read back without validation). A new layout bumps "v";
// an entry of another version decodes to an error, which callers treat as a miss.

#include <string>
#include <string_view>
#include <vector>

#include "core/chat.hpp"
#include "core/result.hpp"

namespace modelmux::cache {

inline constexpr int kAnswerCodecVersion = 1;

struct CachedAnswer {
  ChatResponse response;            // stream == false
  std::vector<StreamEvent> events;  // stream == true, in the original chunking
  bool stream = false;
};

[[nodiscard]] std::string EncodeAnswer(const CachedAnswer& answer);

// Errors: kInternal with code "cache_entry_invalid" for bytes that are not an answer of this
// version (corrupt, truncated, another version). Never throws.
[[nodiscard]] Result<CachedAnswer> DecodeAnswer(std::string_view bytes);

}  // namespace modelmux::cache
