#pragma once
// Baidu Qianfan's legacy embeddings as the simulator speaks them:
// POST /rpc/2.0/ai_custom/v1/wenxinworkshop/embeddings/{endpoint}?access_token=.. with
// {"input":[texts], "user_id"?} -> {"id","object":"embedding_list","created","data":[{"object":
// "embedding","embedding":[...],"index":i}],"usage":{"prompt_tokens","total_tokens"}}. An
// independent implementation (no code shared with src/dialects/qianfan). Pure.

#include <string>
#include <string_view>

#include "core/result.hpp"
#include "sim/qianfan_wire.hpp"
#include "sim/request.hpp"
#include "sim/wire.hpp"

namespace modelmux::sim {

inline constexpr std::string_view kQianfanEmbeddingsPrefix =
    "/rpc/2.0/ai_custom/v1/wenxinworkshop/embeddings/";
inline constexpr size_t kQianfanMaxEmbeddingInputs = 16;  // Baidu's limit per call

// Parses a body for `endpoint` (the model: in stats and in the vectors' seed): `input` a
// non-empty array of at most kQianfanMaxEmbeddingInputs non-empty strings; `user_id` a string when
// present. The result is a kEmbeddings SimRequest (inputs, prompt_tokens = sum of CountTokens,
// dimensions = DefaultEmbeddingDimensions(endpoint)). Errors: 336002 (not a JSON object) or
// 336003 (a field is invalid) in `reject`, with a message naming the field.
[[nodiscard]] Result<SimRequest> ParseQianfanEmbeddings(std::string_view endpoint,
                                                        std::string_view body,
                                                        QianfanReject* reject);

// The answer, with EmbeddingVector() values (the same as the other dialects' for the same
// endpoint name, text and size).
[[nodiscard]] std::string QianfanEmbeddingsJson(const ResponseMeta& meta,
                                                const SimRequest& request);

}  // namespace modelmux::sim
