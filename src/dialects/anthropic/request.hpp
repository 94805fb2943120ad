#pragma once
// Anthropic Messages requests: neutral ChatRequest <-> wire JSON. Pure functions over bytes, no
// I/O, thread-safe.

#include <string>
#include <string_view>

#include "core/chat.hpp"
#include "core/result.hpp"

namespace modelmux::dialects::anthropic {

// An image part whose url is "file-id:<id>" references a file uploaded through Anthropic's Files
// API (upstream/file_upload.hpp): source {type: file, file_id}; such a request carries the
// `anthropic-beta: files-api-2025-04-14` header.
inline constexpr std::string_view kFileIdScheme = "file-id:";
inline constexpr std::string_view kFilesApiBeta = "files-api-2025-04-14";
[[nodiscard]] bool ReferencesFiles(const ChatRequest& request);

// Writes a /v1/messages body from a neutral (OpenAI-shaped) request:
// - model = upstream_model (req.model when empty); max_tokens = req.max_tokens, else 4096;
// - system and developer messages (wherever they are) -> top-level `system`: a string when there
//   is one such message sent as a string, else an array of text blocks;
// - user/assistant turns with consecutive same-role turns merged; a tool message becomes a
//   tool_result block {tool_use_id, content} in a user turn; assistant tool_calls become
//   tool_use blocks {id, name, input} after the assistant's text; a turn is sent as a string
//   only when it is one message sent as a string with one text part; empty text blocks are
//   skipped; Message::reasoning is not sent (no signature to send it with);
// - images: data URLs -> {type:image, source:{type:base64, media_type, data}}; http(s) URLs ->
//   source {type:url, url};
// - temperature clamped to 0..1 (OpenAI's 0..2 is not rescaled); top_p; stop -> stop_sequences;
//   `stream: true` when stream;
// - tools: {type:function, function:{name, description, parameters}} -> {name, description,
//   input_schema}; other tool objects (Anthropic server tools) are passed unchanged;
//   tool_choice: "auto" -> {type:auto}, "required" -> {type:any}, "none" -> {type:none}, a named
//   function -> {type:tool, name}; an Anthropic tool_choice object is passed unchanged;
//   extra.parallel_tool_calls == false -> tool_choice.disable_parallel_tool_use = true;
// - req.user (else extra.metadata.user_id) -> metadata {user_id}; from `extra`, only the keys
//   Anthropic knows are passed (top_k, thinking, service_tier, container, mcp_servers,
//   context_management); other extra keys (e.g. OpenAI's frequency_penalty), seed,
//   response_format and reasoning_effort are dropped.
// Errors (kInvalidRequest with param): n > 1; video or audio parts; an image URL that is
// neither a base64 data URL nor http(s); tool-call arguments that are not a JSON object; tools
// or tool_choice that are not valid JSON.
[[nodiscard]] Result<std::string> EncodeMessagesRequest(const ChatRequest& req,
                                                        std::string_view upstream_model,
                                                        bool stream);

// Decodes and validates a /v1/messages body sent by a caller, the way Anthropic does: `model`
// (string) and `max_tokens` (integer >= 1) required; `messages` a non-empty array of
// {role: user|assistant, content: string | non-empty array of blocks}; user blocks text, image
// (base64 or url source), tool_result; assistant blocks text, tool_use, thinking,
// redacted_thinking; `system` a string or an array of text blocks; temperature and top_p 0..1;
// top_k integer >= 0; stop_sequences strings; stream boolean; tools and tool_choice objects.
// The result: system -> a kSystem message; tool_result blocks -> kTool messages (in order,
// between the user messages holding the surrounding blocks); tool_use -> tool_calls (input
// serialised as arguments); thinking -> Message::reasoning (signatures and redacted thinking
// are dropped); image -> an image part with a data URL (base64) or the URL; tools and
// tool_choice converted to the OpenAI shape (server tools kept as they are);
// metadata.user_id -> user; disable_parallel_tool_use -> extra.parallel_tool_calls = false; any
// other field (top_k, thinking, service_tier, ...) kept in `extra`. cache_control markers and
// tool_result is_error are not represented and are lost.
// Errors: kInvalidRequest, param as Anthropic's path ("messages.0.content.1.source"), no code.
[[nodiscard]] Result<ChatRequest> DecodeMessagesRequest(std::string_view body);
// The same for a body not needed afterwards: released once parsed (openai/request.hpp,
// DecodeChatRequestReleasing).
[[nodiscard]] Result<ChatRequest> DecodeMessagesRequestReleasing(std::string& body);

}  // namespace modelmux::dialects::anthropic
