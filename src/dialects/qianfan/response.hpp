#pragma once
// Qianfan legacy ERNIE chat answers -> the neutral ChatResponse. Pure, thread-safe.

#include <string_view>

#include "core/chat.hpp"
#include "core/result.hpp"

namespace modelmux::dialects::qianfan {

// Decodes {id, object, created, result, is_end, is_truncated, finish_reason, usage
// {prompt_tokens, completion_tokens, total_tokens}, function_call?} (HTTP 200):
// - a body with error_code -> the mapped error (see errors.hpp; 110/111 -> code token_expired);
// - result -> one choice with the text; function_call {name, arguments} -> one tool call with
//   id "call_" + the answer's id (the API has none);
// - finish_reason: normal/stop -> kStop, length -> kLength (also when is_truncated and no
//   reason), content_filter -> kContentFilter, function_call -> kToolCalls; raw kept;
// - usage prompt/completion; model is left empty (the API does not name it).
// Errors: kUpstreamError "bad_upstream_response" for a body that is not a JSON object.
[[nodiscard]] Result<ChatResponse> DecodeChatResponse(std::string_view body);

}  // namespace modelmux::dialects::qianfan
