#pragma once
// Qianfan legacy ERNIE chat requests: neutral ChatRequest -> wire JSON. Pure, thread-safe.

#include <string>
#include <string_view>

#include "core/chat.hpp"
#include "core/result.hpp"

namespace modelmux::dialects::qianfan {

// Writes the body of POST /rpc/2.0/ai_custom/v1/wenxinworkshop/chat/{endpoint} (the model is in
// the path, never in the body):
// - system and developer messages (wherever they are) -> top-level `system`, joined with "\n";
// - `messages` alternate user / assistant and end on user, as ERNIE requires: consecutive user
//   (or assistant) messages are merged (texts joined with "\n"); an assistant's tool call becomes
//   `function_call {name, arguments}`; a tool message becomes {role: "function", name (the
//   called function's, found by tool_call_id, else Message::name), content} in the user slot;
// - temperature clamped into [0.01, 1] (not rescaled); top_p; max_tokens ->
//   max_output_tokens (at least 2); stop; user -> user_id; `stream: true` when stream;
// - tools {type:function, function:{name, description, parameters}} -> functions [{name,
//   description, parameters}];
// - from `extra`, only keys ERNIE knows are passed: penalty_score, disable_search,
//   enable_citation, enable_trace; seed, response_format, tool_choice and others are dropped.
// Errors (kInvalidRequest with param): no user message; a conversation that does not start
// with user or ends on assistant; two tool results in a row; more than one tool call in one
// assistant turn; image, video or audio parts; n > 1; tools that are not valid JSON.
[[nodiscard]] Result<std::string> EncodeChatRequest(const ChatRequest& req, bool stream);

}  // namespace modelmux::dialects::qianfan
