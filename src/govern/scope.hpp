#pragma once
// Scopes: what a virtual key may do, decided before any upstream is called. Pure functions of the
// key, the request's facts and the time; thread-safe.
//
// Refusals are kPermission (403) errors whose code names the reason: "model_not_allowed",
// "task_not_allowed". A key's max-tokens cap is not a refusal: a request that asks for more is
// clamped to it (the gateway rewrites the body and says so in x-modelmux-max-tokens-clamped), and
// a request that names no max_tokens is given the key's default, else its cap (KeyMaxTokens).

#include <boost/json/fwd.hpp>
#include <optional>
#include <string_view>

#include "core/result.hpp"
#include "govern/key.hpp"

namespace modelmux::govern {

// The facts of a request that scopes look at.
struct ScopeRequest {
  std::string_view model;           // as the caller named it
  std::string_view resolved_model;  // "provider/model" after routing; may be empty
  Task task = Task::kText;
  std::optional<int64_t> max_tokens;  // as requested; nullopt when the request names none
};

// True when one of the key's globs matches the requested or the resolved model name.
[[nodiscard]] bool ModelAllowed(const KeyRecord& key, std::string_view model,
                                std::string_view resolved_model = {});

// OkStatus, or the 403 naming the first scope the request falls outside.
[[nodiscard]] Status CheckScope(const KeyRecord& key, const ScopeRequest& request);

// What a key's max-tokens controls make of a request's max_tokens.
struct MaxTokensDecision {
  std::optional<int64_t> value;  // what the upstream should see; nullopt: leave the request alone
  bool clamped = false;          // the request asked for more than the key's cap (value = cap)
  bool filled = false;           // the request named none (value = the default, else the cap)
};
// The request's own max_tokens, clamped to the key's cap; when it names none, the key's
// default_max_tokens, else its cap, else nothing.
[[nodiscard]] MaxTokensDecision KeyMaxTokens(const KeyRecord& key,
                                             std::optional<int64_t> requested);
// KeyMaxTokens(key, requested).value: what a budget reservation should count on.
[[nodiscard]] std::optional<int64_t> EffectiveMaxTokens(const KeyRecord& key,
                                                        std::optional<int64_t> requested);

// Applies the admin API's attributes to `key` (POST: a fresh record with creating = true;
// PATCH: the stored record). Fields: name, models, tasks, max_tokens (cap), default_max_tokens
// (at most the cap), context (text up to kMaxKeyContextBytes), rpm, tpm,
// budgets {daily, monthly, total, currency}, expires (unix seconds) or expires_in (seconds from
// `now`), ip_allowlist, tags; null clears an optional one. Unknown fields, wrong types and bad
// values are 400 invalid_request naming the field. On creation `models` is required and `tasks`
// defaults to ["text"] (least privilege: text chat on the named models, nothing more).
[[nodiscard]] Result<KeyRecord> ApplyAttributes(const boost::json::object& in, KeyRecord key,
                                                bool creating, Timestamp now);

}  // namespace modelmux::govern
