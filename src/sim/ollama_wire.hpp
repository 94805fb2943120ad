#pragma once
// Ollama's native API as the simulator speaks it: /api/chat (whole and NDJSON streams),
// /api/embed and /api/tags, also under the prefix /ollama. An independent implementation (no
// code shared with src/dialects/ollama). Pure.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "sim/request.hpp"
#include "sim/wire.hpp"

namespace modelmux::sim {

enum class OllamaEndpoint { kNone, kChat, kEmbed, kTags };

// /api/chat, /api/embed, /api/tags, with or without the /ollama prefix; kNone otherwise.
[[nodiscard]] OllamaEndpoint OllamaEndpointOf(std::string_view path);
[[nodiscard]] inline bool IsOllamaPath(std::string_view path) {
  return OllamaEndpointOf(path) != OllamaEndpoint::kNone;
}

// {"error": message}.
[[nodiscard]] std::string OllamaErrorJson(std::string_view message);
// The message Ollama gives with `status` (404: model "<model>" not found, try pulling it first).
[[nodiscard]] std::string OllamaStatusMessage(int status, std::string_view model);

// Parses /api/chat: model (string), messages (array of {role: system|user|assistant|tool,
// content string, images [base64 strings] (85 prompt tokens each), tool_calls}), stream (bool,
// default true as in Ollama), options {num_predict -> max_tokens, temperature, top_p, stop,
// seed}, tools (array; a tool is called when the last user text contains "call_tool"). Errors:
// kInvalidRequest with Ollama's message.
[[nodiscard]] Result<SimRequest> ParseOllamaChat(std::string_view body);
// Parses /api/embed: model, input (string or array of strings), dimensions (optional).
[[nodiscard]] Result<SimRequest> ParseOllamaEmbed(std::string_view body);

// "2023-11-14T22:13:20.000000042Z" for (unix seconds, nanoseconds).
[[nodiscard]] std::string OllamaTime(int64_t unix_seconds, int64_t nanos);

// A whole answer: {model, created_at, message {role, content, tool_calls?}, done: true,
// done_reason (stop | length), total_duration, load_duration, prompt_eval_count,
// prompt_eval_duration, eval_count, eval_duration}. `created_at` from meta.created.
[[nodiscard]] std::string OllamaChatJson(const ResponseMeta& meta, const ReplyPlan& plan);
// The NDJSON lines of a stream (without newlines): one per piece ({message: {role, content:
// piece}, done: false}), one with the tool call, then the final done:true line with the counts.
[[nodiscard]] StreamEvents OllamaStreamLines(const ResponseMeta& meta, const ReplyPlan& plan);
// {model, embeddings: [[...]], total_duration, load_duration, prompt_eval_count}.
[[nodiscard]] std::string OllamaEmbedJson(const SimRequest& request);
// {models: [...]}: llama3.2:latest, llava:latest, all-minilm:latest, echo:latest.
[[nodiscard]] std::string OllamaTagsJson();

}  // namespace modelmux::sim
