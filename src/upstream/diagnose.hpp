#pragma once
// Plain-language diagnosis of a failed provider call, for `modelmux doctor` and for operators
// reading a 401/403: which credential was used (by the name of its variable, never its value) and
// the likely causes in the order worth checking. Pure: no I/O.

#include <string>
#include <string_view>

#include "core/error.hpp"

namespace modelmux::upstream {

struct CredentialInfo {
  std::string provider_type;      // "openai", "qianfan", "bedrock", ...
  std::string api_key_source;     // e.g. "OPENAI_API_KEY", "file:/run/secrets/k", "config", ""
  std::string secret_key_source;  // e.g. "QIANFAN_SECRET_KEY", "" when the provider has none
  std::string base_url;
  std::string region;  // bedrock / hunyuan
};

struct Diagnosis {
  std::string summary;  // one line: what went wrong
  std::string checks;   // numbered lines: what to check, most likely first ("" when obvious)
};

// A cheap model to probe a provider of this type with when its config lists none; "" when the
// type has no well-known small model (the caller must name one).
[[nodiscard]] std::string_view ProbeModel(std::string_view provider_type);

[[nodiscard]] Diagnosis Diagnose(const Error& error, const CredentialInfo& credential);

}  // namespace modelmux::upstream
