#pragma once
// POST /utils/token_counter: how many tokens a text or a chat prompt costs for a model.
//   {"model": "gpt-4o", "text": "..."}            -> the text's tokens
//   {"model": "gpt-4o", "messages": [...], "tools": [...]?}  -> the prompt's tokens (with framing)
// answers {"tokens": N, "exact": true|false, "encoding": "o200k_base"|"cl100k_base"|"estimate"}
// (text/count.hpp says when a count is exact). A counting utility: the model need not be
// configured and no provider is called. The handler's transport-free core; the Gateway writes the
// outcome and records it in its log.

#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace modelmux::gateway {

struct TokenCounterOutcome {
  std::string body;            // the JSON answer when !error
  std::optional<Error> error;  // an OpenAI-style 400 naming the field at fault
  std::string model;           // as the caller named it ("" when not known)
  size_t prompt_chars = 0;     // characters of text counted (the log's prompt_len)
};

// Decodes and counts `body`. Errors (kInvalidRequest, param and code set): invalid_json (not a
// JSON object); model missing (missing_required_parameter) or not a string (invalid_type);
// neither text nor messages (missing_required_parameter, param "text"); both (invalid_value,
// param "messages"); text not a string or messages not an array (invalid_type); a message the
// OpenAI chat decoder refuses (its own param, e.g. "messages[0].role"). A JSON null counts as
// absent. Pure; never throws.
[[nodiscard]] TokenCounterOutcome ServeTokenCounter(std::string_view body);

}  // namespace modelmux::gateway
