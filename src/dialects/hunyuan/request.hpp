#pragma once
// Hunyuan native requests: neutral ChatRequest / EmbeddingRequest -> wire JSON. Pure,
// thread-safe.

#include <string>
#include <string_view>

#include "core/chat.hpp"
#include "core/embedding.hpp"
#include "core/result.hpp"

namespace modelmux::dialects::hunyuan {

// Writes the body of ChatCompletions (POST /, X-TC-Action: ChatCompletions):
// - Model = `model`; Messages [{Role, Content}]: system and developer messages (wherever they
//   are) join into one leading {Role: system} (texts joined with "\n"), as Hunyuan allows system
//   only first; consecutive plain-text user messages merge (joined with "\n");
// - a user message with images -> Contents [{Type: text, Text} | {Type: image_url, ImageUrl:
//   {Url}}] (http(s) and data: URLs are both passed, as Tencent documents);
// - an assistant's tool calls -> ToolCalls [{Id, Type: function, Function: {Name, Arguments}}];
//   a tool result -> {Role: tool, Content, ToolCallId};
// - Stream: true when stream; Temperature clamped into [0, 2]; TopP into [0, 1]; stop ->
//   StopWords (unconfirmed field, newer API versions);
// - tools -> Tools [{Type: function, Function: {Name, Description, Parameters: <JSON text>}}];
//   tool_choice "none"/"auto" -> ToolChoice; "required" -> "auto"; {function: {name}} ->
//   ToolChoice "custom" + CustomTool (the named tool);
// - from `extra`, PascalCase keys (EnableEnhancement, Citation, SearchInfo, StreamModeration,
//   ...) are passed unchanged, and `enable_enhancement` -> EnableEnhancement; max_tokens, seed,
//   response_format, reasoning_effort, user and other snake_case keys are dropped.
// Errors (kInvalidRequest with param): no messages; video or audio parts; n > 1; tools or
// tool_choice that are not valid JSON; tool_choice naming a tool that is not in tools.
[[nodiscard]] Result<std::string> EncodeChatRequest(const ChatRequest& req, std::string_view model,
                                                    bool stream);

// Writes the body of GetEmbedding: {"Input": text}. Errors: not exactly one input (the API takes
// one text per call), param "input".
[[nodiscard]] Result<std::string> EncodeEmbeddingRequest(const EmbeddingRequest& req);

}  // namespace modelmux::dialects::hunyuan
