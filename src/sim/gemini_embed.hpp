#pragma once
// The Gemini embeddings call the simulator answers: POST /v1beta/models/{model}:batchEmbedContents
// {"requests":[{"model":"models/{model}","content":{"parts":[{"text"}]},"taskType"?,
// "outputDimensionality"?}]} -> {"embeddings":[{"values":[...]}]}. Parsed straight from
// Boost.JSON, independently of src/dialects/gemini. The vectors are EmbeddingVector()'s, so the
// same model, text and size give the same vector as the OpenAI and Qianfan sides. Pure.

#include <string>
#include <string_view>

#include "core/result.hpp"
#include "sim/request.hpp"

namespace modelmux::sim {

inline constexpr size_t kGeminiMaxBatch = 100;  // requests per batchEmbedContents call

// Parses a batch for the URL's `model`: `requests` a non-empty array of at most kGeminiMaxBatch;
// each request's `model` (when given) must name the URL's model ("models/{model}"); `content.parts`
// a non-empty array whose text parts are joined with '\n' (at least one non-empty text);
// `taskType` one of Gemini's task types; `outputDimensionality` an integer >= 1, the same in every
// request (a simulator simplification; absent: DefaultEmbeddingDimensions). The result is a
// kEmbeddings SimRequest: inputs, prompt_tokens (CountTokens of each text), dimensions. Errors are
// kInvalidRequest with Google-style messages ("* BatchEmbedContentsRequest.requests[1]...").
[[nodiscard]] Result<SimRequest> ParseGeminiBatchEmbed(std::string_view model,
                                                       std::string_view body);

// {"embeddings":[{"values":[...]}, ...]} in request order.
[[nodiscard]] std::string GeminiBatchEmbedJson(const SimRequest& request);

}  // namespace modelmux::sim
