#pragma once
// Scopes: what a virtual key may do, decided before any upstream is called. Pure functions of the
// key, the request's facts and the time; thread-safe.
//
// Refusals are kPermission (403) errors whose code names the reason: "model_not_allowed",
// "task_not_allowed", "max_tokens_exceeded". A key's max-tokens cap refuses a request that asks
// for more; a request that names no max_tokens is given the cap (the gateway writes it in).

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

// The max_tokens the upstream should see: the request's own when it names one (CheckScope has
// refused it if above the cap), else the key's cap, else nullopt (leave the request alone).
[[nodiscard]] std::optional<int64_t> EffectiveMaxTokens(const KeyRecord& key,
                                                        std::optional<int64_t> requested);

// Applies the admin API's attributes to `key` (POST: a fresh record with creating = true;
// PATCH: the stored record). Fields: name, models, tasks, max_tokens, rpm, tpm,
// budgets {daily, monthly, total, currency}, expires (unix seconds) or expires_in (seconds from
// `now`), ip_allowlist, tags; null clears an optional one. Unknown fields, wrong types and bad
// values are 400 invalid_request naming the field. On creation `models` is required and `tasks`
// defaults to ["text"] (least privilege: text chat on the named models, nothing more).
[[nodiscard]] Result<KeyRecord> ApplyAttributes(const boost::json::object& in, KeyRecord key,
                                                bool creating, Timestamp now);

}  // namespace modelmux::govern
