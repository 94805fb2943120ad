#pragma once
// The Gemini generateContent requests the simulator answers (POST
// /v1beta/models/{model}:generateContent and :streamGenerateContent?alt=sse), parsed straight from
// Boost.JSON: an implementation independent of src/dialects/gemini, so tests catch mistakes on
// either side. The result is the same SimRequest the OpenAI side builds, so PlanReply() gives the
// same text and usage for the same conversation in every dialect. Pure.

#include <string>
#include <string_view>

#include "core/result.hpp"
#include "sim/request.hpp"

namespace modelmux::sim {

// kBatchEmbed: :batchEmbedContents (gemini_embed.hpp).
enum class GeminiMethod { kNone, kGenerate, kStreamGenerate, kBatchEmbed, kOther };

struct GeminiRoute {
  GeminiMethod method = GeminiMethod::kNone;  // kNone: not a Gemini path at all
  std::string model;                          // "gemini-2.5-flash" (without "models/")
};

// Gemini paths: anything under /v1beta/ (and /gemini/v1beta/), plus
// /v1/models/{model}:generateContent, :streamGenerateContent and :batchEmbedContents (the
// stable version; other
// /v1/models/... paths stay OpenAI's). `path` is without the query. An unknown Gemini path is
// kOther (answered 404 in Gemini's shape).
[[nodiscard]] GeminiRoute MatchGeminiRoute(std::string_view path);
[[nodiscard]] inline bool IsGeminiPath(std::string_view path) {
  return MatchGeminiRoute(path).method != GeminiMethod::kNone;
}

// Parses a GenerateContentRequest body for `model`: `contents` (required, non-empty; role "user"
// or "model", default "user"; parts text, inline_data/inlineData and file_data/fileData (85
// tokens each, as an image), functionCall (tokens of its name and args), functionResponse (its
// response's JSON text, as a tool message's content)); system_instruction/systemInstruction ->
// a leading "system" message. Roles map to the OpenAI side's ("model" -> "assistant"; a user
// content holding only functionResponse parts -> "tool"), so the same conversation gets the same
// reply. generationConfig.maxOutputTokens (integer >= 1) -> max_tokens. The tool to call: with
// functionDeclarations, toolConfig.functionCallingConfig.mode ANY (allowedFunctionNames[0], else
// the first), NONE (none), else AUTO: the first when the last user text holds "call_tool".
// Errors are kInvalidRequest with Google-style messages.
[[nodiscard]] Result<SimRequest> ParseGeminiRequest(std::string_view model, bool stream,
                                                    std::string_view body);

}  // namespace modelmux::sim
