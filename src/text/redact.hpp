#pragma once
// Masking of secret-looking substrings in text that may reach logs or callers (provider error
// messages, upstream bodies). Pure and thread-safe.

#include <string>
#include <string_view>

namespace modelmux::text {

// Returns `text` with every secret-looking token replaced by its first 4 characters and "***".
// A token is a run of [A-Za-z0-9_+/-]; it is masked when it
//   - starts with "sk-" / "sk_" (OpenAI, Anthropic, DeepSeek... keys) and is 10+ chars long,
//   - starts with "AKIA" / "ASIA" (AWS access key ids) and is 16+ chars long,
//   - follows "Bearer " (any case) and is 8+ chars long,
//   - is 32+ chars long and mixes letters and digits (hex or base64 keys, JWT pieces), or
//   - is 20+ chars long and mixes digits, upper- and lower-case letters.
// Over-masking (e.g. a long hex request id) is accepted; under-masking is the bug to avoid.
[[nodiscard]] std::string MaskSecrets(std::string_view text);

// The printable ASCII of `body`, line breaks and tabs folded to one space, at most `max` bytes: how
// a provider's non-JSON error body is shown to a caller (mask it too).
[[nodiscard]] std::string PrintablePrefix(std::string_view body, size_t max = 512);

}  // namespace modelmux::text
