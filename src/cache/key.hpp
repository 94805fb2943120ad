#pragma once
// The canonical cache key: lowercase hex SHA-256 over a length-prefixed serialisation of everything
// that can change an answer, and nothing that cannot. Pure functions: no clock, no I/O.
//
// Keyed (chat): a version tag; the kind ("chat", "completion", ...); the tenant; the cache
// namespace (an extra component: it never replaces the tenant, so a namespace cannot reach another
// tenant's entries); the resolved provider and model (not the name the caller used); every message
// (role, name, tool_call_id, each content part's type, text, detail and mime type, tool calls' id,
// name and arguments verbatim, reasoning text); temperature; top_p; the token limit (max_tokens and
// max_completion_tokens are one value); n (absent counts as 1); stop (order kept; [] counts as
// absent); seed; tools, tool_choice and response_format (JSON normalised: object keys sorted
// recursively, no whitespace); reasoning_effort; and the provider extras (`extra`, normalised the
// same way) minus the fields listed in kUnkeyedExtraFields.
//
// Not keyed: user, stream, stream_options (include_usage and the rest), the caller's model alias,
// whether `content` was a string or an array of one text part, and whether the limit was spelled
// max_tokens or max_completion_tokens. Absent parameters stay absent: no provider default is
// assumed (temperature absent and temperature 1.0 are different keys), except n (absent == 1) and
// stop ([] == absent).
//
// Media: an http(s) URL is keyed by its text (the bytes behind it are not fetched). A base64 data:
// URL is keyed by its media type (lowercased) and the SHA-256 of the decoded bytes, so the same
// image with different line wrapping gives one key; a data: URL that does not decode is keyed by
// the SHA-256 of its text.
//
// Every field is written as (tag length, tag, value length, value), so no two different inputs
// can collide by concatenation; a JSON text that does not parse is keyed by its raw text.

#include <array>
#include <string>
#include <string_view>

#include "core/chat.hpp"
#include "core/embedding.hpp"

namespace modelmux::cache {

// Top-level fields of ChatRequest::extra that never change an answer and are left out of the key.
// "cache" is our own request extension (the cache policy itself; its namespace is keyed through
// KeyInput::ns).
inline constexpr std::array<std::string_view, 10> kUnkeyedExtraFields = {"user",
                                                                         "metadata",
                                                                         "store",
                                                                         "stream",
                                                                         "stream_options",
                                                                         "service_tier",
                                                                         "safety_identifier",
                                                                         "prompt_cache_key",
                                                                         "prompt_cache_retention",
                                                                         "cache"};

struct KeyInput {
  std::string_view tenant;    // the request context's tenant ("" when there is none)
  std::string_view provider;  // the provider of the resolved (or answering) deployment
  std::string_view model;     // the resolved model, as the provider names it
  const ChatRequest& request;
  std::string_view kind = "chat";  // "chat", "completion": different endpoints never share keys
  std::string_view ns = {};        // the cache namespace (CachePolicy::ns), "" for none
};

// Lowercase hex SHA-256 (64 characters).
[[nodiscard]] std::string CacheKey(const KeyInput& input);

struct EmbeddingKeyInput {
  std::string_view tenant;
  std::string_view provider;
  std::string_view model;
  const EmbeddingRequest& request;
  std::string_view ns = {};
};

// Keyed: tenant, namespace, provider, model, the inputs in order, dimensions, encoding_format
// ("" counts as "float", the documented default) and task_type. Not keyed: user, and whether a
// single input was sent as a string or an array of one. Never equal to a chat key.
[[nodiscard]] std::string EmbeddingCacheKey(const EmbeddingKeyInput& input);

// The JSON text normalised as the key sees it: object keys sorted (bytewise) at every depth, no
// whitespace, arrays in order, strings re-escaped, numbers as Boost.JSON writes them (1 and 1.0
// stay different). A text that does not parse is returned unchanged.
[[nodiscard]] std::string NormalizeJson(std::string_view raw);

}  // namespace modelmux::cache
