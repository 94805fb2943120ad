#pragma once
// Gemini batchEmbedContents: neutral EmbeddingRequest -> wire JSON and the answer back. Pure,
// thread-safe.
//
// Wire: POST /models/{model}:batchEmbedContents
//   {"requests":[{"model":"models/{model}","content":{"parts":[{"text":...}]},
//                 "taskType"?: ..., "outputDimensionality"?: n}, ...]}
//   -> {"embeddings":[{"values":[...]}, ...]} (in request order; no token counts).

#include <string>
#include <string_view>

#include "core/embedding.hpp"
#include "core/result.hpp"

namespace modelmux::dialects::gemini {

// The call's path relative to a base URL ending in the API version; a model already named
// "models/x" or "tunedModels/x" keeps its collection.
[[nodiscard]] std::string BatchEmbedContentsPath(std::string_view model);

// Gemini's taskType for a neutral task hint, compared case-insensitively: Gemini's own names
// (retrieval_query, retrieval_document, semantic_similarity, classification, clustering,
// question_answering, fact_verification, code_retrieval_query) in upper case; DashScope's "query"
// and "document" -> RETRIEVAL_QUERY / RETRIEVAL_DOCUMENT; "" -> "" (omitted). Errors:
// kInvalidRequest param "task_type" code invalid_value for anything else.
[[nodiscard]] Result<std::string> GeminiTaskType(std::string_view task_type);

// One request per input, each with model "models/{model}" (the collection kept as above),
// taskType (GeminiTaskType) and outputDimensionality (dimensions) when set. encoding_format and
// user have no Gemini counterpart (the gateway re-encodes base64 itself).
[[nodiscard]] Result<std::string> EncodeBatchEmbedRequest(const EmbeddingRequest& request,
                                                          std::string_view model);

// `embeddings[i].values` -> data[i] (index i); prompt_tokens 0 (Gemini reports none). Errors:
// kUpstreamError code bad_upstream_response (provider "gemini") for any other shape.
[[nodiscard]] Result<EmbeddingResponse> DecodeBatchEmbedResponse(std::string_view body);

}  // namespace modelmux::dialects::gemini
