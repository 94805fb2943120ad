#pragma once
// Ollama native requests: neutral ChatRequest / EmbeddingRequest -> wire JSON. Pure,
// thread-safe.

#include <string>
#include <string_view>

#include "core/chat.hpp"
#include "core/embedding.hpp"
#include "core/result.hpp"

namespace modelmux::dialects::ollama {

// Writes the body of POST /api/chat:
// - model; stream is always written (Ollama streams unless told not to);
// - messages [{role, content}]: developer -> system; a user's images (data: URLs) -> `images`
//   [raw base64] on that message; an assistant's tool calls -> tool_calls [{function: {name,
//   arguments: <object>}}]; a tool result -> {role: tool, content, tool_name} (the called
//   function's name, found by tool_call_id, else Message::name);
// - options {temperature, top_p, num_predict (max_tokens), stop, seed}, plus from `extra` the
//   sampling keys Ollama reads as options (top_k, min_p, typical_p, num_ctx, num_keep,
//   repeat_penalty, repeat_last_n, presence_penalty, frequency_penalty, mirostat,
//   mirostat_eta, mirostat_tau) and an `options` object merged over them;
// - tools passed as they are (Ollama takes OpenAI's tool shape); tool_choice dropped;
// - response_format json_object -> format "json"; json_schema -> format <the schema>;
// - from `extra`, keep_alive and think are passed.
// Errors (kInvalidRequest with param): http(s) image URLs (code "image_url_not_supported"; the
// media fetcher is not wired yet), video or audio parts, n > 1, tool-call arguments that are not
// a JSON object, tools that are not a JSON array.
[[nodiscard]] Result<std::string> EncodeChatRequest(const ChatRequest& req, std::string_view model,
                                                    bool stream);

// Writes the body of POST /api/embed: {model, input: [texts], dimensions?}.
[[nodiscard]] Result<std::string> EncodeEmbeddingRequest(const EmbeddingRequest& req,
                                                         std::string_view model);

}  // namespace modelmux::dialects::ollama
