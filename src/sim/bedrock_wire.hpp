#pragma once
// AWS Bedrock Runtime as the simulator speaks it: routes, the SigV4 check with fixed simulator
// credentials, the Converse request parser, Converse / ConverseStream / Titan bodies and
// Bedrock-shaped errors. An implementation independent of src/dialects/bedrock (it shares only
// the event-stream framer and the SigV4 primitive), so tests catch mistakes on either side. Pure.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "net/server.hpp"
#include "sim/request.hpp"
#include "sim/wire.hpp"

namespace modelmux::sim {

// The only credentials the simulator's Bedrock paths accept (SigV4, any region, service
// "bedrock"). Documented in docs/SIM.md; tests export them as AWS_ACCESS_KEY_ID /
// AWS_SECRET_ACCESS_KEY.
inline constexpr std::string_view kBedrockSimAccessKeyId = "AKIDSIMULATOR";
inline constexpr std::string_view kBedrockSimSecretKey = "sim-secret";

enum class BedrockAction { kNone, kConverse, kConverseStream, kInvoke, kOther };

struct BedrockRoute {
  BedrockAction action = BedrockAction::kNone;  // kNone: not a Bedrock path
  std::string model;                            // percent-decoded model id
};

// /model/{modelId}/{converse|converse-stream|invoke}; any other /model/... path is kOther.
[[nodiscard]] BedrockRoute MatchBedrockRoute(std::string_view path);
[[nodiscard]] inline bool IsBedrockPath(std::string_view path) {
  return MatchBedrockRoute(path).action != BedrockAction::kNone;
}

// A Bedrock error: HTTP status, the x-amzn-ErrorType name and the body's message.
struct BedrockError {
  int status = 0;
  std::string type;  // e.g. "ThrottlingException"
  std::string message;
};

// Checks the request's SigV4 signature against kBedrockSimAccessKeyId / kBedrockSimSecretKey by
// recomputing it (auth/sigv4.hpp) over the method, Host header, path and query as received, the
// signed headers and the body. nullopt when it matches; else the error AWS gives: 403
// MissingAuthenticationTokenException (no SigV4 authorization), 403 IncompleteSignatureException
// (a malformed one or no x-amz-date), 403 UnrecognizedClientException (another access key id),
// 403 InvalidSignatureException (another service in the scope, or a signature that differs:
// "The request signature we calculated does not match the signature you provided. ...").
[[nodiscard]] std::optional<BedrockError> CheckBedrockSignature(const net::ServerRequest& request);

// {"message": ...}.
[[nodiscard]] std::string BedrockErrorJson(std::string_view message);
// The error Bedrock answers with `status` (x-sim-status, fail-rate): 400 ValidationException,
// 403 AccessDeniedException, 404 ResourceNotFoundException, 408 ModelTimeoutException, 424
// ModelErrorException, 429 ThrottlingException "Too many requests, please wait before trying
// again.", 503 ServiceUnavailableException, other 5xx InternalServerException, other 4xx
// ValidationException.
[[nodiscard]] BedrockError BedrockErrorForStatus(int status);

// Parses a Converse body for `model`: `messages` (non-empty array; role user|assistant; content
// array of {text}, {image} (85 tokens, as an OpenAI image), {toolUse:{toolUseId, name, input}}
// (tokens of name and input), {toolResult:{toolUseId, content:[{text}|{json}]}} (a user turn of
// only results is a "tool" message whose text is the results' text or JSON)); `system` [{text}]
// -> a leading "system" message (texts joined with '\n'); inferenceConfig.maxTokens (integer >= 1)
// -> max_tokens. The tool to call: toolConfig.toolChoice {tool:{name}} -> that one, {any:{}} ->
// the first tool, else the first when the last user text holds "call_tool". Errors are
// kInvalidRequest with Bedrock ValidationException messages.
[[nodiscard]] Result<SimRequest> ParseConverseRequest(std::string_view model, bool stream,
                                                      std::string_view body);

// A whole Converse answer: {output:{message:{role, content:[{text}, {toolUse}]}}, stopReason
// (end_turn | max_tokens | tool_use), usage{inputTokens, outputTokens, totalTokens}, metrics}.
[[nodiscard]] std::string ConverseJson(const ReplyPlan& plan);

// ConverseStream event frames (each a whole event-stream message with both CRCs), in order:
// messageStart, contentBlockDelta per piece (block 0), contentBlockStop, for a tool call
// contentBlockStart + one contentBlockDelta per argument fragment + contentBlockStop, messageStop,
// metadata. Payloads carry a "p" padding field, as AWS sends. first_token / token_count mark the
// piece and fragment frames (for pacing).
[[nodiscard]] StreamEvents ConverseStreamFrames(const ReplyPlan& plan);
// An exception frame (:message-type exception, :exception-type `type`) with {"message"}.
[[nodiscard]] std::string BedrockExceptionFrame(std::string_view type, std::string_view message);

// Titan text embeddings (InvokeModel on amazon.titan-embed-text-*): parses {inputText,
// dimensions (256, 512 or 1024; default 1024), normalize} into `inputs` / `dimensions`.
[[nodiscard]] Result<SimRequest> ParseTitanRequest(std::string_view model, std::string_view body);
// {"embedding":[...],"inputTextTokenCount":N}.
[[nodiscard]] std::string TitanEmbeddingJson(const SimRequest& request);

}  // namespace modelmux::sim
