#pragma once
// Baidu Qianfan's legacy ERNIE API as the simulator speaks it: the token endpoint's answers, the
// chat request parser and the chat bodies (whole and streamed), and errors inside HTTP 200
// bodies. An independent implementation (no code shared with src/dialects/qianfan), so tests
// catch mistakes on either side. Pure.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "sim/request.hpp"
#include "sim/wire.hpp"

namespace modelmux::sim {

inline constexpr std::string_view kQianfanTokenPath = "/oauth/2.0/token";
inline constexpr std::string_view kQianfanChatPrefix = "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/";
inline constexpr std::string_view kQianfanApiPrefix = "/rpc/2.0/ai_custom/v1/wenxinworkshop/";
inline constexpr int64_t kQianfanTokenTtlS = 2'592'000;  // 30 days, as Baidu answers

// True for the token path and every path under kQianfanApiPrefix.
[[nodiscard]] bool IsQianfanPath(std::string_view path);

// The value of `name` in a query string ("a=1&b=2"), percent-decoded; "" when absent.
[[nodiscard]] std::string QueryParam(std::string_view query, std::string_view name);

// {"error_code":N,"error_msg":"..."}.
[[nodiscard]] std::string QianfanErrorJson(int64_t code, std::string_view message);
// The error code (and Baidu's message) that stands for an HTTP status given by x-sim-status:
// 429 -> 18 "Open api qps request limit reached", 401 -> 110, 403 -> 6, 402 -> 17, 400 ->
// 336003, 404 -> 336005, 503 -> 2, 529 -> 336100, other 5xx -> 336000, other 4xx -> 336001.
struct QianfanCode {
  int64_t code;
  std::string_view message;
};
[[nodiscard]] QianfanCode QianfanCodeForStatus(int status);

// Token endpoint bodies: {"refresh_token","expires_in","session_key","access_token","scope",
// "session_secret"} and {"error","error_description"}.
[[nodiscard]] std::string QianfanTokenJson(std::string_view token, int64_t expires_in);
[[nodiscard]] std::string QianfanTokenErrorJson(std::string_view error,
                                                std::string_view description);

// A chat request failed validation: its error_code and message (answered inside HTTP 200).
struct QianfanReject {
  int64_t code;
  std::string message;
};

// Parses a chat body for `endpoint` (the model in stats and in the text's seed): `messages`
// (non-empty array of {role: user|assistant|function, content: string}, alternating user (or
// function) / assistant, odd count), optional `system` string, `stream` bool,
// `max_output_tokens` integer >= 2, `temperature` in (0, 1], `top_p` in [0, 1], `functions`
// array of objects with a `name`. The system prompt counts as a leading "system" message; a
// function is called when functions are given and the last user text contains "call_tool".
// Errors: 336002 (not a JSON object) or 336003 (a field is invalid), with a message naming it.
[[nodiscard]] Result<SimRequest> ParseQianfanRequest(std::string_view endpoint,
                                                     std::string_view body, QianfanReject* reject);

// A whole answer: {id, object, created, result, is_truncated, need_clear_history,
// finish_reason (normal|length|function_call), usage{prompt,completion,total}, function_call?}.
[[nodiscard]] std::string QianfanChatJson(const ResponseMeta& meta, const ReplyPlan& plan);

// Stream chunks (the data of each SSE event, in order): one per piece with `result` = the piece,
// sentence_id, is_end false and the usage so far (completion tokens counted up to that piece);
// then the last chunk with result "", is_end true, finish_reason and the final usage. A tool call
// is one chunk with function_call before the last one. `first_token` / `token_count` mark the
// piece chunks (for pacing).
[[nodiscard]] StreamEvents QianfanStreamChunks(const ResponseMeta& meta, const ReplyPlan& plan);

}  // namespace modelmux::sim
