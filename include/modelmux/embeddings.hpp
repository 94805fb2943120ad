#pragma once
// The request and answer types of Client::embed(): plain values with no dependency beyond the
// standard library, in OpenAI's embeddings vocabulary whatever provider answers.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace modelmux::sdk {

struct EmbedOptions {
  // "provider/model" ("openai/text-embedding-3-small", "gemini/gemini-embedding-001"), an alias
  // from the config, or a bare name resolved by its family among the configured providers.
  std::string model;
  std::vector<std::string> inputs;    // one or more non-empty texts
  std::optional<int64_t> dimensions;  // vector size, for models that can shorten their vectors
  // The provider's task hint where it takes one (Gemini taskType, e.g. "retrieval_query",
  // "retrieval_document"); empty for none.
  std::string task_type;
  std::string user;  // end-user id passed to the provider
  // Request headers; only simulator controls ("x-sim-status", ...) are used, by simulator
  // providers only.
  std::map<std::string, std::string> headers;
  // The whole call; it fails with kind "timeout" after it.
  std::chrono::milliseconds timeout{600'000};
};

struct EmbedResult {
  std::string model;  // the model that answered, as the provider names it
  // One vector per input, in the order of EmbedOptions::inputs; float32 values exactly as the
  // provider sent them.
  std::vector<std::vector<float>> vectors;
  // Input tokens as the provider reported them; absent when it reports none (Gemini).
  std::optional<int64_t> prompt_tokens;
};

}  // namespace modelmux::sdk

#ifndef MODELMUX_BUILDING_SDK
namespace modelmux {
using sdk::EmbedOptions;
using sdk::EmbedResult;
}  // namespace modelmux
#endif
