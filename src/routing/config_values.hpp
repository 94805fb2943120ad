#pragma once
// Internal to the config loader: scalar interpolation and key suggestions. Pure except that
// `${file:...}` reads the named file.

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "routing/config.hpp"

namespace modelmux::routing::config_detail {

struct Interpolated {
  std::string value;
  // Where the value came from: the first `${VAR}`'s name, "file:/path", or "config" for a literal.
  std::string source;
  bool templated = false;  // the text held at least one `${...}`
};

// Expands `${VAR}`, `${VAR:-default}` (default when VAR is unset or empty) and `${file:/path}`
// (the file's content, trailing newlines stripped) anywhere in `text`; `$${` is a literal `${`.
// Errors name the variable or the path, never a value; the caller adds the key path.
[[nodiscard]] Result<Interpolated> Interpolate(std::string_view text, const EnvLookup& env);

// Levenshtein distance, for "did you mean".
[[nodiscard]] size_t EditDistance(std::string_view a, std::string_view b);
// The closest of `candidates` to `key` when it is close enough to be a likely typo, else empty.
[[nodiscard]] std::string SuggestKey(std::string_view key,
                                     const std::vector<std::string_view>& candidates);

}  // namespace modelmux::routing::config_detail
