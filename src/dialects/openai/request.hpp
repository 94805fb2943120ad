#pragma once
// OpenAI Chat Completions requests: wire JSON <-> ChatRequest. Pure functions over bytes, no I/O,
// thread-safe. Errors are OpenAI-style InvalidRequest values with `param` and `code` set.

#include <string>
#include <string_view>

#include "core/chat.hpp"
#include "core/result.hpp"

namespace modelmux::dialects::openai {

// Decodes and validates a /v1/chat/completions body. Unknown top-level fields (and unknown keys
// of `stream_options`) are kept in ChatRequest::extra as one raw JSON object, so nothing is lost;
// `tools`, `tool_choice` and `response_format` are kept as raw JSON text. Unknown per-message
// fields (e.g. `refusal`, Moonshot's `partial`) are not kept.
// Errors: kInvalidRequest with param (e.g. "messages[1].content[0].type") and an OpenAI code
// (invalid_json, missing_required_parameter, invalid_type, invalid_value, empty_array, ...).
[[nodiscard]] Result<ChatRequest> DecodeChatRequest(std::string_view body);
// The same for a body that is not needed afterwards: its memory is released (it is left empty) as
// soon as the JSON is parsed, before the request is built, so that a body with megabytes of media
// is held at most twice at a time (docs/MULTIMODAL.md, "Memory"). On a parse error it is kept.
[[nodiscard]] Result<ChatRequest> DecodeChatRequestReleasing(std::string& body);

// Decodes a legacy /v1/completions body: `prompt` (a string, or an array of one string) becomes
// one user message; `max_tokens` defaults to 16; `echo`, `suffix`, `logprobs`, `best_of` and any
// unknown field go to `extra`.
[[nodiscard]] Result<ChatRequest> DecodeCompletionRequest(std::string_view body);

// Writes the upstream wire body: model = upstream_model; content as a string when the caller sent
// a string with a single text part, else an array of parts; every parameter that is set (with the
// caller's choice of max_tokens vs max_completion_tokens); `stream_options.include_usage: true`
// when stream && (req.include_usage || ask_stream_usage); raw JSON fields spliced back; the
// fields of `extra` merged at top level (typed fields win on a clash). Message::reasoning is not
// sent (DeepSeek rejects reasoning_content in input turns).
[[nodiscard]] std::string EncodeChatRequest(const ChatRequest& req, std::string_view upstream_model,
                                            bool ask_stream_usage);

}  // namespace modelmux::dialects::openai
