#pragma once
// Whether one chat request may be answered from the cache (lookup) and whether its answer may be
// stored (store), for how long and in which namespace. Pure: no clock, no I/O.
//
// Rules, in order:
//  1. The model's config: `enabled: false` or `mode: never` bypasses (a request cannot override
//     the operator). Otherwise the mode is the request's `cache.mode` extension when present
//     ("auto" | "always" | "never"), else the config's `mode`.
//  2. Mode "auto" caches deterministic requests only: temperature 0, or a seed set; and never
//     n > 1 unless temperature is 0 (absent temperature is the provider's default, not 0).
//     "always" caches every request; "never" none.
//  3. Cache-Control (case-insensitive, comma-separated): `no-cache` or `max-age=0` skip the lookup
//     (the answer is still stored); `no-store` skips the store (a lookup is still allowed); both
//     bypass. `max-age=N` (N > 0) is returned as max_age: the caller accepts entries at most N
//     seconds old (the caller of DecidePolicy compares with the entry's age). Other directives are
//     ignored.
//  4. TTL: x-modelmux-cache-ttl (decimal seconds) over the body's `cache.ttl` over the config's
//     ttl, clamped to max_ttl. 0 means "do not store". A malformed value is an invalid_request
//     naming the header (or `cache.ttl`).
//  5. Namespace: x-modelmux-cache-namespace over the body's `cache.namespace`; 1..64 characters of
//     [A-Za-z0-9._:-]; else invalid_request naming the header (or `cache.namespace`). The
//     namespace is an extra key component next to the tenant (cache/key.hpp KeyInput::ns), so it
//     never reaches another tenant's entries.
//
// The request extension `"cache": {"ttl": 60, "namespace": "x", "mode": "always"}` is read from
// ChatRequest::extra (it is not keyed); headers win over the body.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/chat.hpp"
#include "core/result.hpp"

namespace modelmux::cache {

struct CachePolicy {
  bool lookup = false;
  bool store = false;
  std::chrono::seconds ttl{3600};
  std::optional<std::chrono::seconds> max_age;  // Cache-Control max-age=N (N > 0)
  std::string ns;      // the requested namespace ("" for none): KeyInput::ns
  std::string scope;   // the entry's label for EntryMeta::ns and purge: "tenant/ns", tenant or ns
  std::string reason;  // why lookup and/or store are off: see kReason* below; "" when both on

  [[nodiscard]] bool bypass() const { return !lookup && !store; }
};

// Reasons, as they appear in CachePolicy::reason (and may be logged / counted).
inline constexpr std::string_view kReasonDisabled = "disabled";     // config
inline constexpr std::string_view kReasonModeNever = "mode_never";  // config or request
inline constexpr std::string_view kReasonNondeterministic = "nondeterministic";
inline constexpr std::string_view kReasonMultipleChoices = "n_gt_1";
inline constexpr std::string_view kReasonNoCache = "no-cache";            // lookup off (store on)
inline constexpr std::string_view kReasonNoStore = "no-store";            // store off (lookup on)
inline constexpr std::string_view kReasonCacheControl = "cache-control";  // both
inline constexpr std::string_view kReasonTtlZero = "ttl=0";               // store off

struct CacheConfig {
  bool enabled = true;
  // "auto": deterministic requests only (temperature == 0 or a seed); "always"; "never".
  std::string mode = "auto";
  std::chrono::seconds ttl{3600};
  std::chrono::seconds max_ttl{86400 * 7};
};

inline constexpr std::string_view kTtlHeader = "x-modelmux-cache-ttl";
inline constexpr std::string_view kNamespaceHeader = "x-modelmux-cache-namespace";

// Errors: kInvalidRequest (code "invalid_value", param = the header name or "cache.ttl" /
// "cache.namespace" / "cache.mode" / "cache") for a malformed TTL, namespace, mode or extension.
// Empty header values count as absent.
[[nodiscard]] Result<CachePolicy> DecidePolicy(const ChatRequest& request,
                                               const CacheConfig& model_config,
                                               std::string_view cache_control_header,
                                               std::string_view ttl_header,
                                               std::string_view ns_header, std::string_view tenant);

// The label stored in EntryMeta::ns: "tenant/ns" when both are set, else whichever is set.
[[nodiscard]] std::string CacheScope(std::string_view tenant, std::string_view ns);

}  // namespace modelmux::cache
