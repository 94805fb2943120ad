#pragma once
// What one work item came to, and its line in the results or errors file.
//
// Batch API lines (the OpenAI Batch API output format):
//   {"id":"batch_req_...","custom_id":"r1","response":{"status_code":200,"request_id":"...",
//    "body":{...chat.completion or list of embeddings...}},"error":null}
// and on failure the same with status_code = the error's HTTP status and body = the OpenAI error
// object ({"error":{"message","type","param","code"}}).
// Simple lines: {"id":1,"response":"text","model":"...","finish_reason":"stop",
//   "usage":{"prompt_tokens":..,"completion_tokens":..,"total_tokens":..}}
// or {"id":1,"error":{"message":..,"type":..,"code":..,"status":429}}.
// Every line ends with "\n" and holds no other newline.

#include <chrono>
#include <optional>
#include <string>

#include "batch/item.hpp"
#include "core/chat.hpp"
#include "core/embedding.hpp"
#include "core/error.hpp"
#include "core/usage.hpp"

namespace modelmux::batch {

struct Outcome {
  uint64_t line = 0;
  std::string key;
  std::string id_json;
  LineFormat format = LineFormat::kSimple;
  Endpoint endpoint = Endpoint::kChat;
  std::string model;       // as the item asked
  std::string deployment;  // "provider/model" that answered (or was last tried)
  std::string request_id;  // ours, e.g. "batch-42"
  std::optional<Error> error;
  ChatResponse chat;            // endpoint kChat, no error
  EmbeddingResponse embedding;  // endpoint kEmbeddings, no error
  std::optional<Usage> usage;
  std::chrono::milliseconds latency{0};
  bool cache_hit = false;
  int attempts = 0;
};

// The results-file line of a successful outcome, or the errors-file line of a failed one.
// `unique` makes the Batch API's "batch_req_" id (e.g. a random or a counter value).
[[nodiscard]] std::string EncodeOutcome(const Outcome& outcome, std::string_view unique);

}  // namespace modelmux::batch
