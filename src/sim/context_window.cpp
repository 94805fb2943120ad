#include "sim/context_window.hpp"

#include <cctype>

#include "sim/anthropic_wire.hpp"
#include "sim/wire.hpp"

namespace modelmux::sim {

std::optional<int64_t> SimContextWindow(std::string_view model) {
  for (size_t at = model.find("ctx"); at != std::string_view::npos;
       at = model.find("ctx", at + 3)) {
    size_t i = at + 3;
    int64_t n = 0;
    while (i < model.size() && std::isdigit(static_cast<unsigned char>(model[i])) &&
           n < 1'000'000'000) {
      n = n * 10 + (model[i] - '0');
      ++i;
    }
    if (i > at + 3 && n > 0) return n;
  }
  return std::nullopt;
}

std::string ContextLengthErrorJson(bool anthropic, int64_t tokens, int64_t window) {
  if (anthropic) {
    return AnthropicErrorJson("invalid_request_error",
                              "prompt is too long: " + std::to_string(tokens) + " tokens > " +
                                  std::to_string(window) + " maximum");
  }
  return ErrorJson("This model's maximum context length is " + std::to_string(window) +
                       " tokens. However, you requested " + std::to_string(tokens) +
                       " tokens. Please reduce the length of the messages or completion.",
                   "invalid_request_error", "messages", "context_length_exceeded");
}

}  // namespace modelmux::sim
