#pragma once
// Bedrock Converse / ConverseStream and Titan embeddings requests: neutral requests -> wire JSON
// and paths. Pure, thread-safe.

#include <string>
#include <string_view>

#include "core/chat.hpp"
#include "core/embedding.hpp"
#include "core/result.hpp"

namespace modelmux::dialects::bedrock {

// "/model/{modelId}/{action}" with the model id percent-encoded once as one path segment
// (RFC 3986 unreserved characters kept; ':' -> %3A, '/' of an ARN -> %2F), e.g.
// ModelPath("anthropic.claude-3-5-sonnet-20240620-v1:0", "converse") ==
// "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse". The SigV4 signer encodes the
// segments once more for the canonical request.
[[nodiscard]] std::string ModelPath(std::string_view model_id, std::string_view action);
// ModelPath(model, stream ? "converse-stream" : "converse").
[[nodiscard]] std::string ConversePath(std::string_view model_id, bool stream);

// Writes a Converse body (the same for ConverseStream; the model is in the path):
// - system and developer messages (wherever they are) -> system [{text}];
// - user -> role "user": text parts -> {text} (empty ones skipped); images given as base64 data
//   URLs -> {image:{format (png|jpeg|gif|webp, from the data URL's media type, else the part's
//   mime_type), source:{bytes: the base64 text}}};
// - assistant -> role "assistant": {text} then one {toolUse:{toolUseId, name, input}} per tool
//   call (input = the arguments parsed, {} when empty); Message::reasoning is not sent;
// - tool -> a {toolResult:{toolUseId, content:[{json: object}] when the content is a JSON
//   object, else [{text}]}} block in a "user" turn;
// - consecutive turns of one role are merged into one message (Bedrock wants alternation, and
//   the results of parallel calls travel together); messages that give no block are skipped;
// - inferenceConfig: maxTokens, temperature, topP, stopSequences (only those given);
// - tools {type:function, function:{name, description, parameters}} -> toolConfig.tools
//   [{toolSpec:{name, description, inputSchema:{json: parameters, else an empty object
//   schema}}}]; tool_choice auto -> {auto:{}}, required -> {any:{}}, a named function ->
//   {tool:{name}}, none -> no toolChoice (and no toolConfig at all when the conversation holds
//   no tool blocks: Bedrock has no "none");
// - from `extra`: additionalModelRequestFields, additionalModelResponseFieldPaths,
//   guardrailConfig, performanceConfig, promptVariables and requestMetadata are passed; top_k
//   goes into additionalModelRequestFields.top_k; everything else is dropped (seed, user,
//   response_format and reasoning_effort have no Converse field).
// Errors (kInvalidRequest with param): an image given by http(s) URL (code
// "image_url_unsupported": Bedrock takes bytes only) or by any other non-data URL; an image
// media type Bedrock does not take (code "unsupported_image_format"); video or audio parts
// (code "unsupported_content"); n > 1 (param "n"); tool-call arguments that are not a JSON
// object; tools or tool_choice that are not valid JSON.
[[nodiscard]] Result<std::string> EncodeConverseRequest(const ChatRequest& req);

// Titan text embeddings (POST ModelPath(model, "invoke")): {inputText, dimensions?,
// normalize: true}. Titan embeds one text per call. Errors (kInvalidRequest, param "input"):
// more than one input (code "too_many_inputs") or none.
[[nodiscard]] Result<std::string> EncodeTitanEmbeddingRequest(const EmbeddingRequest& req);

}  // namespace modelmux::dialects::bedrock
