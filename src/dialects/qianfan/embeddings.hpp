#pragma once
// Baidu Qianfan's legacy embeddings API: neutral EmbeddingRequest -> wire JSON and the answer
// back. Pure, thread-safe.
//
// Wire: POST /rpc/2.0/ai_custom/v1/wenxinworkshop/embeddings/{model}?access_token=... (the token
// is the signer's) with {"input":[texts], "user_id"?} -> {"id","object":"embedding_list",
// "created","data":[{"object":"embedding","embedding":[...],"index":i}],
// "usage":{"prompt_tokens","total_tokens"}}; errors come as {error_code, error_msg}, usually
// inside HTTP 200, exactly as for chat (errors.hpp).

#include <string>
#include <string_view>

#include "core/embedding.hpp"
#include "core/result.hpp"

namespace modelmux::dialects::qianfan {

inline constexpr std::string_view kEmbeddingsPath =
    "/rpc/2.0/ai_custom/v1/wenxinworkshop/embeddings/";

// kEmbeddingsPath + model (the endpoint: embedding-v1, bge_large_zh, bge_large_en, tao_8k or a
// custom deployment's). Errors: kInvalidRequest param "model" for an empty name or one with
// characters other than letters, digits, '-', '_' and '.'.
[[nodiscard]] Result<std::string> EmbeddingsPath(std::string_view model);

// {"input":[texts...]} plus user_id when `user` is set. dimensions, encoding_format and
// task_type have no counterpart and are not sent.
[[nodiscard]] std::string EncodeEmbeddingsRequest(const EmbeddingRequest& request);

// A 2xx body: an error_code body -> that error (ErrorFromBody, e.g. code token_expired for
// 110/111); else data[] in index order and usage.prompt_tokens. Errors for any other shape:
// kUpstreamError code bad_upstream_response (provider "qianfan").
[[nodiscard]] Result<EmbeddingResponse> DecodeEmbeddingsResponse(std::string_view body);

}  // namespace modelmux::dialects::qianfan
