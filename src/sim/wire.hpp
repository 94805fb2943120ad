#pragma once
// OpenAI wire bodies written by the simulator: completions, stream chunks, embeddings, models and
// error bodies. Pure: ids and timestamps come in through ResponseMeta.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/request.hpp"

namespace modelmux::sim {

struct ResponseMeta {
  std::string id;       // "chatcmpl-sim-7" / "cmpl-sim-7"
  int64_t created = 0;  // unix seconds
  std::string model;    // echoed from the request
};

// {"error":{"message","type","param","code"}}; empty param or code are written as null.
[[nodiscard]] std::string ErrorJson(std::string_view message, std::string_view type,
                                    std::string_view param = {}, std::string_view code = {});

// The OpenAI error body a provider sends with `status` (400 invalid_request_error, 401
// invalid_api_key, 403, 404 model_not_found, 429 rate_limit_exceeded, 500 server_error, 503, ...).
// `retry_in_s` appears in the 429 message.
[[nodiscard]] std::string StatusErrorJson(int status, std::string_view model,
                                          double retry_in_s = 1.0);

[[nodiscard]] std::string ChatCompletionJson(const ResponseMeta& meta, const ReplyPlan& plan);
[[nodiscard]] std::string CompletionJson(const ResponseMeta& meta, const ReplyPlan& plan);

// The data payloads of a stream, in order, without the "data: " framing and without [DONE]:
// events[0] opens (role chunk for chat; absent for legacy completions), then one event per piece
// or tool-argument fragment, then the finish chunk, then the usage chunk when `include_usage`.
struct StreamEvents {
  std::vector<std::string> events;
  // SSE `event:` names, one per entry of `events` (the Anthropic dialect); empty: data-only frames.
  std::vector<std::string> names;
  bool done_sentinel = true;  // end with `data: [DONE]` (OpenAI); false for Anthropic
  size_t first_token = 0;     // index of the first piece/fragment event
  size_t token_count = 0;     // number of piece/fragment events
};
[[nodiscard]] StreamEvents ChatStreamEvents(const ResponseMeta& meta, const ReplyPlan& plan,
                                            bool include_usage);
[[nodiscard]] StreamEvents CompletionStreamEvents(const ResponseMeta& meta, const ReplyPlan& plan,
                                                  bool include_usage);

// In-band stream error payload: {"error":{"message":"simulated mid-stream error",...}}.
[[nodiscard]] std::string MidStreamErrorJson();

[[nodiscard]] std::string EmbeddingsJson(const SimRequest& request);

// The fixed model list: sim/echo, sim/chat, sim/vision, gpt-4o-mini.
[[nodiscard]] std::string ModelsJson();
[[nodiscard]] std::string ModelJson(std::string_view id);

}  // namespace modelmux::sim
