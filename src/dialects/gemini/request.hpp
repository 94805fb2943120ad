#pragma once
// Gemini generateContent requests: neutral ChatRequest -> wire JSON. Pure, thread-safe.

#include <string>
#include <string_view>

#include "core/chat.hpp"
#include "core/result.hpp"

namespace modelmux::dialects::gemini {

// Writes a generateContent / streamGenerateContent body (the model and the streaming choice are
// in the URL, not the body):
// - system and developer messages (wherever they are) -> system_instruction {parts:[{text}]};
// - user -> role "user", assistant -> role "model"; consecutive turns of one role are merged
//   into one content (so the results of parallel calls travel together); messages that give no
//   part are skipped;
// - text parts -> {text} (empty ones skipped); image, video and audio parts: base64 data URLs ->
//   {inline_data:{mime_type, data}}, http(s) URLs -> {file_data:{mime_type (ContentPart's, else
//   guessed from the extension, else omitted), file_uri}};
// - assistant tool_calls -> {functionCall:{name, args}} after the text, with the
//   thoughtSignature carried in the call's id (wire.hpp ToolCallId) put back on the part;
//   Message::reasoning is not sent;
// - a tool message -> {functionResponse:{name, response}} in a "user" turn; the name is that of
//   the earlier tool call with the same id (else Message::name); the response is the content
//   when it is a JSON object, else {"result": content text};
// - generationConfig: temperature, topP, maxOutputTokens, stopSequences, candidateCount (n),
//   seed; response_format json_object -> responseMimeType "application/json", json_schema ->
//   the same plus responseJsonSchema; reasoning_effort none|minimal|low|medium|high ->
//   thinkingConfig.thinkingBudget 0|0|1024|8192|24576;
// - tools {type:function, function:{name, description, parameters}} -> one
//   {functionDeclarations:[{name, description, parameters}]} (parameters without the JSON
//   Schema keys Gemini rejects: $schema, additionalProperties, strict); other tool objects
//   (Gemini's own, e.g. {googleSearch:{}}) are passed unchanged as further tools;
//   tool_choice auto|none|required -> toolConfig.functionCallingConfig.mode AUTO|NONE|ANY, a
//   named function -> ANY with allowedFunctionNames [name];
// - from `extra`: top_k -> generationConfig.topK; safetySettings, cachedContent, labels and
//   toolConfig are passed; a generationConfig object is merged over ours; everything else
//   (OpenAI-only fields, user) is dropped.
// Errors (kInvalidRequest with param): an image/video/audio URL that is neither a base64 data
// URL nor http(s); tool-call arguments that are not a JSON object; a tool message whose call
// cannot be named; tools or tool_choice that are not valid JSON.
[[nodiscard]] Result<std::string> EncodeGenerateContentRequest(const ChatRequest& req);

// The call's path relative to a base URL ending in the API version: "/models/{model}:
// generateContent", or ":streamGenerateContent?alt=sse" when streaming. A model already named
// "models/x" or "tunedModels/x" keeps its collection.
[[nodiscard]] std::string GenerateContentPath(std::string_view model, bool stream);

}  // namespace modelmux::dialects::gemini
