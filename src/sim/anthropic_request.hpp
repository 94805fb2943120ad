#pragma once
// Parsing of the Anthropic Messages request bodies the simulator answers (POST /v1/messages and
// /v1/messages/count_tokens), straight from Boost.JSON: an implementation independent of
// src/dialects/anthropic, so tests catch mistakes on either side. The result is the same
// SimRequest the OpenAI side builds, so PlanReply() gives the same text and usage for the same
// conversation in both dialects. Pure.

#include <string_view>

#include "core/result.hpp"
#include "sim/request.hpp"

namespace modelmux::sim {

// Parses a Messages body. `endpoint` is Endpoint::kMessages (max_tokens required, >= 1) or
// Endpoint::kCountTokens (max_tokens not needed). The top-level `system` (a string or text
// blocks) becomes a leading "system" message; each message's text blocks (and the text of
// tool_result blocks) are joined with '\n'; an image block adds 85 tokens and a tool_use block
// the tokens of its name and JSON input. Errors are kInvalidRequest with Anthropic-style messages
// (the caller wraps them in {"type":"error","error":{"type":"invalid_request_error",...}}).
[[nodiscard]] Result<SimRequest> ParseAnthropicRequest(Endpoint endpoint, std::string_view body);

}  // namespace modelmux::sim
