#pragma once
// Tencent Hunyuan's native API as the simulator speaks it: the TC3 signature check, the
// ChatCompletions / GetEmbedding request parsers, the answer bodies (whole and streamed) and the
// Tencent Cloud error body that travels inside HTTP 200. An independent implementation (no code
// shared with src/dialects/hunyuan; the signature is recomputed with auth/tc3.hpp, which is
// pinned to Tencent's documented example). Pure.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "net/headers.hpp"
#include "sim/request.hpp"
#include "sim/wire.hpp"

namespace modelmux::sim {

// The fixed test credentials the simulator verifies when no --require-key is given.
inline constexpr std::string_view kHunyuanSimSecretId = "AKIDsimHUNYUAN0000000000000000000000";
inline constexpr std::string_view kHunyuanSimSecretKey = "simHunyuanSecretKey0000000000000";

// True for POST-or-not requests to "/" that carry an X-TC-Action header.
[[nodiscard]] bool IsHunyuanRequest(std::string_view path, const net::Headers& headers);

// Which SecretId/SecretKey pairs the simulator checks, from SimOptions::require_key:
//   "ID:KEY" -> only that pair is accepted (other ids: AuthFailure.SecretIdNotFound);
//   "ID"     -> only that id is accepted; its signature cannot be checked (the key is unknown);
//   ""       -> kHunyuanSimSecretId is checked against kHunyuanSimSecretKey; any other id is
//               accepted after the header's shape, scope and date are checked.
struct Tc3Credentials {
  std::string secret_id;
  std::string secret_key;  // empty: the signature of secret_id is not checked
  bool only_this_id = false;
};
[[nodiscard]] Tc3Credentials HunyuanCredentials(std::string_view require_key);

// The Tencent error code for a request whose TC3 signature is wrong, or "" when it is right:
// AuthFailure.InvalidAuthorization (no or malformed Authorization, wrong SignedHeaders or
// service, scope date not the timestamp's UTC date), AuthFailure.SecretIdNotFound (an id that
// is not accepted), AuthFailure.SignatureFailure (the signature does not match the request's
// Host, Content-Type, X-TC-Action, timestamp and exact body). Compared in constant time.
[[nodiscard]] std::string CheckTc3(const net::Headers& headers, std::string_view body,
                                   const Tc3Credentials& credentials);

// {"Response":{"Error":{"Code","Message"},"RequestId"}}.
[[nodiscard]] std::string HunyuanErrorJson(std::string_view code, std::string_view message,
                                           std::string_view request_id);
// The code and message standing for an HTTP status given by x-sim-status: 429 LimitExceeded,
// 401 AuthFailure.SignatureFailure, 403 AuthFailure.UnauthorizedOperation, 402
// ResourceUnavailable.InArrears, 400 InvalidParameter, 404 ResourceNotFound, 413
// RequestSizeLimitExceeded, 503 ServiceUnavailable, 504 FailedOperation.EngineRequestTimeout,
// other 5xx InternalError, other 4xx InvalidParameterValue.
struct HunyuanCode {
  std::string_view code;
  std::string_view message;
};
[[nodiscard]] HunyuanCode HunyuanCodeForStatus(int status);

// Parses a ChatCompletions body: Model (string), Messages (non-empty array of {Role: system
// (first only) | user | assistant | tool, Content string or Contents [{Type: text, Text} |
// {Type: image_url, ImageUrl: {Url}}]}), Stream bool, Temperature in [0, 2], TopP in [0, 1],
// Tools [{Type, Function: {Name, Parameters (string)}}]. Images count 85 prompt tokens. A tool is
// called when Tools are given and the last user text contains "call_tool". Errors: the message
// of an InvalidParameter error naming the field.
[[nodiscard]] Result<SimRequest> ParseHunyuanChat(std::string_view body);
// Parses a GetEmbedding body {Input: string}.
[[nodiscard]] Result<SimRequest> ParseHunyuanEmbedding(std::string_view body);

// {"Response":{Id, Created, Note, Choices:[{Index, Message:{Role, Content, ToolCalls?},
// FinishReason}], Usage, RequestId}}; FinishReason stop | length | tool_calls.
[[nodiscard]] std::string HunyuanChatJson(const ResponseMeta& meta, const ReplyPlan& plan);
// Stream chunks (each an SSE data payload, no sentinel): one per piece {Id, Created, Note,
// Choices:[{Delta:{Role, Content}, FinishReason:""}], Usage so far}; a tool call as one chunk per
// argument fragment with the same Id; the last chunk with empty Content, the FinishReason and
// the final Usage.
[[nodiscard]] StreamEvents HunyuanStreamChunks(const ResponseMeta& meta, const ReplyPlan& plan);
// A runtime error chunk: {"ErrorMsg":{"Code":4000,"Msg":...}, ...}.
[[nodiscard]] std::string HunyuanStreamErrorJson(const ResponseMeta& meta);
// GetEmbedding's answer with EmbeddingVector() values (1024 dimensions, as Tencent documents).
[[nodiscard]] std::string HunyuanEmbeddingJson(const SimRequest& request,
                                               std::string_view request_id);

}  // namespace modelmux::sim
