#pragma once
// DashScope native requests: neutral ChatRequest / EmbeddingRequest -> wire JSON. Pure,
// thread-safe.

#include <string>
#include <string_view>

#include "core/chat.hpp"
#include "core/embedding.hpp"
#include "core/result.hpp"

namespace modelmux::dialects::dashscope {

// True when the call goes to the multimodal-generation path: the model name (compared
// case-insensitively) starts with qwen-vl, qwen-omni, qwen-audio or qvq, or contains "-vl" or
// "-omni" (qwen2.5-vl-72b-instruct, qwen3-vl-plus, qwen2.5-omni-7b); or any message carries an
// image, video or audio part.
[[nodiscard]] bool IsMultimodal(std::string_view model, const ChatRequest& req);

// Writes the body {model, input: {messages}, parameters} of a text- or multimodal-generation call
// (`multimodal` as IsMultimodal decided):
// - roles: system and developer -> "system"; user; assistant (with `tool_calls` [{id, type:
//   function, function {name, arguments}}]); tool -> {role: tool, content, tool_call_id, name}
//   (name found from the assistant's call with that id, else Message::name);
// - content: text path -> a string (text parts joined); multimodal path -> an array of parts,
//   {text}, {image: url}, {video: url}, {audio: url}, in order;
// - parameters: result_format "message"; incremental_output true when `stream`; temperature
//   clamped into [0, 1.99]; top_p clamped into [0.0001, 1]; max_tokens; n (when > 1); seed; stop
//   (array); tools and tool_choice (raw JSON, OpenAI-shaped, as DashScope takes them);
//   response_format; from `extra` the keys DashScope knows: top_k, enable_search,
//   search_options, enable_thinking, thinking_budget, repetition_penalty, presence_penalty,
//   parallel_tool_calls, vl_high_resolution_images, translation_options, logprobs,
//   top_logprobs, modalities, audio.
// Errors (kInvalidRequest with param): no messages; a media part on the text path (cannot
// happen through IsMultimodal); tools / tool_choice / response_format that are not valid JSON.
[[nodiscard]] Result<std::string> EncodeChatRequest(const ChatRequest& req, std::string_view model,
                                                    bool stream, bool multimodal);

// Writes {model, input: {texts}, parameters: {dimension?, text_type?}}. task_type maps to
// text_type: "query" / "RETRIEVAL_QUERY" -> query, "document" / "RETRIEVAL_DOCUMENT" -> document
// (others dropped). Errors: no inputs (param "input"); dimensions < 1 (param "dimensions").
[[nodiscard]] Result<std::string> EncodeEmbeddingsRequest(const EmbeddingRequest& req,
                                                          std::string_view model);

}  // namespace modelmux::dialects::dashscope
