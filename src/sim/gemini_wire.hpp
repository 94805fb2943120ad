#pragma once
// Gemini generateContent wire bodies written by the simulator: answers, stream chunks and Google
// API error bodies. Pure: ids come in through ResponseMeta, text and usage through ReplyPlan (the
// same plan the OpenAI side answers with, so every dialect says the same thing).

#include <optional>
#include <string>
#include <string_view>

#include "sim/request.hpp"
#include "sim/wire.hpp"

namespace modelmux::sim {

// Google's status string for an HTTP status: 400 INVALID_ARGUMENT, 401 UNAUTHENTICATED, 403
// PERMISSION_DENIED, 404 NOT_FOUND, 409 ABORTED, 429 RESOURCE_EXHAUSTED, 499 CANCELLED, 500
// INTERNAL, 501 UNIMPLEMENTED, 503 UNAVAILABLE, 504 DEADLINE_EXCEEDED; other 4xx
// FAILED_PRECONDITION, other 5xx INTERNAL.
[[nodiscard]] std::string_view GeminiStatusName(int status);

// {"error":{"code":status,"message":message,"status":GeminiStatusName(status)}}
[[nodiscard]] std::string GeminiErrorJson(int status, std::string_view message);

// The error body Gemini sends with `status`. A 429 carries the details Google sends with a
// per-minute quota error: a google.rpc.QuotaFailure and a google.rpc.RetryInfo whose retryDelay
// is `retry_delay_s` ("36s"; none when nullopt). 400 for a bad key carries an ErrorInfo with
// reason API_KEY_INVALID when `bad_key`.
[[nodiscard]] std::string GeminiStatusErrorJson(int status, std::string_view model,
                                                std::optional<double> retry_delay_s,
                                                bool bad_key = false);

// Gemini's finishReason for the plan's: "stop" and "tool_calls" -> STOP, "length" ->
// MAX_TOKENS.
[[nodiscard]] std::string_view GeminiFinishReason(std::string_view finish_reason);

// {candidates:[{content:{role:"model", parts:[{text} | {functionCall:{name, args}}]},
// finishReason, index:0}], usageMetadata{promptTokenCount, candidatesTokenCount,
// totalTokenCount}, modelVersion, responseId}
[[nodiscard]] std::string GeminiResponseJson(const ResponseMeta& meta, const ReplyPlan& plan);

// The chunks of a streamed answer (data-only SSE, no terminator: done_sentinel false): one per
// piece, each with the usage so far (cumulative), the last with finishReason; a tool call is one
// chunk holding the whole functionCall. A plan without pieces gives one chunk with an empty text.
[[nodiscard]] StreamEvents GeminiStreamEvents(const ResponseMeta& meta, const ReplyPlan& plan);

// The in-band error chunk's data: {"error":{"code":503,...,"status":"UNAVAILABLE"}}.
[[nodiscard]] std::string GeminiMidStreamErrorJson();

}  // namespace modelmux::sim
