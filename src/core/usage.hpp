#pragma once
#include <cstdint>

namespace modelmux {

// Token usage in one shape for every provider. prompt_tokens includes cache reads and writes
// (providers that report them separately are normalised on decode); completion_tokens includes
// reasoning tokens.
struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cache_read_tokens = 0;
  int64_t cache_write_tokens = 0;
  int64_t reasoning_tokens = 0;

  [[nodiscard]] int64_t total() const { return prompt_tokens + completion_tokens; }
  Usage& operator+=(const Usage& o) {
    prompt_tokens += o.prompt_tokens;
    completion_tokens += o.completion_tokens;
    cache_read_tokens += o.cache_read_tokens;
    cache_write_tokens += o.cache_write_tokens;
    reasoning_tokens += o.reasoning_tokens;
    return *this;
  }
  friend bool operator==(const Usage&, const Usage&) = default;
};

}  // namespace modelmux
