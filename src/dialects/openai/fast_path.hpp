#pragma once
// The same-dialect fast path (OpenAI caller -> OpenAI-compatible upstream): read only what the
// gateway needs from a request body and forward it with minimal edits, without building a
// ChatRequest. Pure, thread-safe. Bodies are parsed once with Boost.JSON into a stack-backed
// monotonic arena; rewriting splices bytes, so every value not edited is forwarded byte for byte
// (big integers and decimal spellings included).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/usage.hpp"

namespace modelmux::dialects::openai {

// Our request extensions: read by the gateway and removed before a request goes upstream.
inline constexpr std::string_view kExtensionKeys[] = {"split_sentences", "context", "image_policy",
                                                      "cache"};

struct ScannedRequest {
  std::string model;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool has_stream_options = false;
  std::optional<int64_t> max_tokens;  // max_completion_tokens, else max_tokens
  size_t prompt_chars = 0;            // code points of message text (strings and text parts)
  std::string prompt_text_sample;     // reserved; left empty
  std::vector<std::string> extension_keys_present;  // members of kExtensionKeys found
  bool has_media = false;  // an image_url or video_url part (the media stage must see it)
  std::optional<double> temperature;  // for the cache's "deterministic enough" test
  bool has_seed = false;
};

// Scans a chat request. Rejects exactly as DecodeChatRequest does (same Error, same param) for:
// invalid JSON, non-object body, model missing/non-string, messages missing/not an
// array/empty, wrong-typed or out-of-range stream/temperature/top_p/max_tokens/
// max_completion_tokens/n. Per-message contents are not validated here.
[[nodiscard]] Result<ScannedRequest> ScanChatRequest(std::string_view body);

// Rewrites a chat request body for the upstream: sets `model` to upstream_model; when
// force_include_usage and the body streams, sets stream_options.include_usage = true (adding
// stream_options if absent, keeping its other keys); removes every top-level member named in
// remove_keys. All other members are copied byte for byte (separators normalised to ",").
// `body` must already have been checked (ScanChatRequest or DecodeCompletionRequest) so the hot
// path parses it once; pass force_include_usage only for streamed requests.
// Errors: a body that is not a JSON object.
[[nodiscard]] Result<std::string> RewriteForUpstream(std::string_view body,
                                                     std::string_view upstream_model,
                                                     bool force_include_usage,
                                                     std::span<const std::string_view> remove_keys);

// Usage in a response body or one stream chunk's data (top-level usage, else Moonshot's
// choices[0].usage); nullopt when absent, null, or the JSON is invalid.
[[nodiscard]] std::optional<Usage> ScanUsage(std::string_view json);

// True for the usage-only chunk (choices:[] and a usage object) that OpenAI sends before [DONE]
// when include_usage is on: the chunk to drop when the caller did not ask for usage.
[[nodiscard]] bool IsUsageOnlyChunk(std::string_view data);

// Appends the text of every `"content":"..."` string in one stream chunk's data to `out`, as
// the raw JSON string bytes (escapes kept): enough to estimate the tokens of a stream that was
// cut before its usage arrived. A cheap scan, not a parse.
void AppendDeltaContent(std::string_view data, std::string& out);

// True for an in-band error event (`{"error":{...}}` at the top level): the last event of a stream.
[[nodiscard]] bool IsErrorChunk(std::string_view data);

}  // namespace modelmux::dialects::openai
