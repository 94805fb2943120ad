#pragma once
// The provider-neutral model of an embeddings call (POST /v1/embeddings). Inputs are texts; the
// OpenAI form that sends token-id arrays is refused at ingress with a 400 naming `input`.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace modelmux {

struct EmbeddingRequest {
  std::string model;                // as the caller named it
  std::vector<std::string> inputs;  // one or more texts, in order
  bool input_is_string = true;      // the caller sent `input` as one string, not an array
  std::optional<int64_t> dimensions;
  std::string encoding_format;  // "float" (default) or "base64", as the caller asked
  std::string user;
  // Task hint for providers that take one (Gemini taskType, DashScope text_type); "" if absent.
  std::string task_type;
};

struct Embedding {
  int index = 0;
  std::vector<float> vector;
};

struct EmbeddingResponse {
  std::string model;  // as the provider named it
  std::vector<Embedding> data;
  int64_t prompt_tokens = 0;  // total input tokens (0 when the provider does not say)
};

}  // namespace modelmux
