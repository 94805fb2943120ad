#pragma once
// A virtual key's text controls, applied to the request body at admission (docs/TEXT.md,
// "Per-key controls"), before the budget reservation counts on max_tokens:
//   - a request that asks for more than the key's max_tokens cap is clamped to it (the note
//     "8000->2000" becomes the x-modelmux-max-tokens-clamped header);
//   - a request that names none is given the key's default_max_tokens, else its cap.
// Both dialects: OpenAI max_tokens / max_completion_tokens (/v1/chat/completions,
// /v1/completions) and Anthropic max_tokens (/v1/messages). The body is edited in place, member
// by member: the rest of its text is left byte for byte as the caller sent it.

#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/admission.hpp"
#include "govern/key.hpp"

namespace modelmux::gateway {

// Rewrites `body` for `path` as above and sets facts.max_tokens to what the upstream will see.
// Returns the clamp note ("<requested>-><cap>"), or "" when nothing was clamped.
std::string ApplyKeyMaxTokens(const govern::KeyRecord& key, std::string_view path,
                              std::string& body, RequestFacts& facts);

// Every top-level member `name` of the JSON object text `body` whose value is a number above
// `cap` (or null, when `replace_null`) gets the value `cap`. Returns the number of such members
// seen with a number or null value (rewritten or not); -1 when the body is not a JSON object
// text this scanner can follow. Pure text surgery: other members keep their exact bytes.
int ClampTopLevelNumber(std::string& body, std::string_view name, int64_t cap,
                        bool replace_null = false);

}  // namespace modelmux::gateway
