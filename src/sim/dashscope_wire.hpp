#pragma once
// Alibaba DashScope's native API as the simulator speaks it: the request parsers (generation and
// text-embedding), the answers (whole and streamed, cumulative or incremental) and the error
// bodies. An independent implementation (no code shared with src/dialects/dashscope), so tests
// catch mistakes on either side. Pure.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "sim/request.hpp"
#include "sim/wire.hpp"

namespace modelmux::sim {

inline constexpr std::string_view kDashScopePrefix = "/api/v1/services/";
inline constexpr std::string_view kDashScopeTextPath =
    "/api/v1/services/aigc/text-generation/generation";
inline constexpr std::string_view kDashScopeMultimodalPath =
    "/api/v1/services/aigc/multimodal-generation/generation";
inline constexpr std::string_view kDashScopeEmbeddingsPath =
    "/api/v1/services/embeddings/text-embedding/text-embedding";
inline constexpr int64_t kDashScopeDefaultDimension = 1024;  // text-embedding-v3/v4

// True for every path under kDashScopePrefix.
[[nodiscard]] bool IsDashScopePath(std::string_view path);

// {"code","message","request_id"}.
[[nodiscard]] std::string DashScopeErrorJson(std::string_view code, std::string_view message,
                                             std::string_view request_id);

// The code (and DashScope's message) that stands for an HTTP status given by x-sim-status:
// 400 InvalidParameter, 401 InvalidApiKey, 402 Arrearage, 403 AccessDenied, 404 ModelNotFound,
// 413 RequestTooLarge, 429 Throttling.RateQuota, 500 InternalError, 503 ModelUnavailable, 504
// RequestTimeOut, other 5xx InternalError, other 4xx InvalidParameter.
struct DashScopeCode {
  std::string_view code;
  std::string_view message;
};
[[nodiscard]] DashScopeCode DashScopeCodeForStatus(int status);

// A parsed generation call.
struct DashScopeCall {
  SimRequest request;
  bool incremental = false;     // parameters.incremental_output
  bool message_format = false;  // result_format "message" (always on the multimodal path)
  bool multimodal = false;      // the multimodal-generation path
};

// Parses {model, input: {messages: [{role: system|user|assistant|tool, content}]}, parameters}.
// content is a string, or an array of {text} / {image} / {video} / {audio} parts (array content
// and media on the multimodal path only; each image counts as 85 prompt tokens like the OpenAI
// side). parameters: result_format "text"|"message", incremental_output bool, max_tokens integer
// >= 1, temperature in [0, 2), top_p in (0, 1], seed integer, tools (array of {type, function
// {name}}; a tool is called when the last user text contains "call_tool"). Errors are
// kInvalidRequest with the message to answer under code InvalidParameter (HTTP 400).
[[nodiscard]] Result<DashScopeCall> ParseDashScopeCall(std::string_view body, bool multimodal);

// Parses {model, input: {texts: [strings]}, parameters: {dimension?, text_type?}}: 1 to 25
// texts, dimension in [1, 4096] (default 1024). Errors as ParseDashScopeCall.
[[nodiscard]] Result<SimRequest> ParseDashScopeEmbeddings(std::string_view body);

// A whole answer: {status_code, request_id, code "", message "", output, usage {input_tokens,
// output_tokens, total_tokens}}; output is {choices: [{finish_reason, message: {role, content
// (a string, or [{text}] on the multimodal path), tool_calls?}}]} in the message format, else
// {text, finish_reason}. finish_reason is stop, length or tool_calls. meta.id is the request_id.
[[nodiscard]] std::string DashScopeChatJson(const ResponseMeta& meta, const ReplyPlan& plan,
                                            const DashScopeCall& call);

// The data of each SSE event, in order: one per piece (or tool-argument fragment) with
// finish_reason "null" and the usage so far, then a last one with the finish reason and the
// final usage. Cumulative (each event repeats the whole text / arguments so far, the last one
// too) unless call.incremental (each event has only its piece; the last one is empty).
[[nodiscard]] StreamEvents DashScopeStreamEvents(const ResponseMeta& meta, const ReplyPlan& plan,
                                                 const DashScopeCall& call);

// {output: {embeddings: [{text_index, embedding}]}, usage: {total_tokens}, request_id}.
[[nodiscard]] std::string DashScopeEmbeddingsJson(const SimRequest& request,
                                                  std::string_view request_id);

}  // namespace modelmux::sim
