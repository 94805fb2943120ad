#include "cache/policy.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdint>

namespace modelmux::cache {
namespace {

namespace json = boost::json;

constexpr size_t kMaxNamespace = 64;
constexpr int64_t kTtlSaturation = int64_t{1} << 40;  // far beyond any max_ttl

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Decimal seconds, saturating; nullopt unless the text is 1+ ASCII digits.
std::optional<int64_t> ParseSeconds(std::string_view s) {
  s = Trim(s);
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = std::min<int64_t>(v * 10 + (c - '0'), kTtlSaturation);
  }
  return v;
}

bool ValidNamespace(std::string_view ns) {
  if (ns.empty() || ns.size() > kMaxNamespace) return false;
  for (char c : ns) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Error Invalid(std::string_view param, std::string message) {
  return InvalidRequest(std::move(message), std::string(param), "invalid_value");
}

struct CacheControl {
  bool no_cache = false;
  bool no_store = false;
  std::optional<int64_t> max_age;
};

CacheControl ParseCacheControl(std::string_view header) {
  CacheControl cc;
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view item = Trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    size_t eq = item.find('=');
    std::string_view name = Trim(item.substr(0, eq));
    if (EqualsIgnoreCase(name, "no-cache")) {
      cc.no_cache = true;
    } else if (EqualsIgnoreCase(name, "no-store")) {
      cc.no_store = true;
    } else if (EqualsIgnoreCase(name, "max-age") && eq != std::string_view::npos) {
      std::string_view value = Trim(item.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      if (auto v = ParseSeconds(value)) cc.max_age = *v;  // a malformed max-age is ignored
    }
  }
  return cc;
}

// The request's own `cache` extension.
struct BodyCache {
  std::optional<int64_t> ttl;
  std::string ns;
  std::string mode;
};

Result<BodyCache> ParseBodyCache(std::string_view extra) {
  BodyCache out;
  // Cheap test first: most requests have no extras, or no cache extension among them.
  if (extra.find("\"cache\"") == std::string_view::npos) return out;
  boost::system::error_code ec;
  json::value v = json::parse(extra, ec);
  if (ec || !v.is_object()) return out;
  const json::value* cache = v.get_object().if_contains("cache");
  if (cache == nullptr || cache->is_null()) return out;
  if (!cache->is_object()) return Invalid("cache", "cache must be an object");
  for (const auto& kv : cache->get_object()) {
    const json::value& f = kv.value();
    if (kv.key() == "ttl") {
      std::optional<int64_t> ttl;
      if (f.is_int64()) ttl = f.get_int64();
      if (f.is_uint64())
        ttl = static_cast<int64_t>(std::min<uint64_t>(f.get_uint64(), kTtlSaturation));
      if (!ttl || *ttl < 0) return Invalid("cache.ttl", "cache.ttl must be a non-negative integer");
      out.ttl = std::min(*ttl, kTtlSaturation);
    } else if (kv.key() == "namespace") {
      if (!f.is_string() || !ValidNamespace(f.get_string())) {
        return Invalid("cache.namespace",
                       "cache.namespace must be 1-64 characters of A-Z a-z 0-9 . _ : -");
      }
      out.ns = std::string(f.get_string());
    } else if (kv.key() == "mode") {
      if (!f.is_string() ||
          (f.get_string() != "auto" && f.get_string() != "always" && f.get_string() != "never")) {
        return Invalid("cache.mode", "cache.mode must be one of auto, always, never");
      }
      out.mode = std::string(f.get_string());
    } else {
      return Invalid("cache." + std::string(kv.key()), "unknown cache option");
    }
  }
  return out;
}

// Whether the mode admits the request; sets `reason` when it does not.
bool Admits(std::string_view mode, const ChatRequest& r, std::string& reason) {
  if (mode == "always") return true;
  if (mode != "auto") {  // "never", and any unknown mode (the safe side)
    reason = kReasonModeNever;
    return false;
  }
  const bool zero_temperature = r.temperature && *r.temperature == 0;
  if (!zero_temperature && !r.seed) {
    reason = kReasonNondeterministic;
    return false;
  }
  if (r.n.value_or(1) > 1 && !zero_temperature) {
    reason = kReasonMultipleChoices;
    return false;
  }
  return true;
}

}  // namespace

std::string CacheScope(std::string_view tenant, std::string_view ns) {
  if (tenant.empty()) return std::string(ns);
  if (ns.empty()) return std::string(tenant);
  std::string out(tenant);
  out += '/';
  out += ns;
  return out;
}

Result<CachePolicy> DecidePolicy(const ChatRequest& request, const CacheConfig& model_config,
                                 std::string_view cache_control_header, std::string_view ttl_header,
                                 std::string_view ns_header, std::string_view tenant) {
  // Malformed inputs are refused whatever the outcome, so a client learns of them at once.
  MM_TRY(BodyCache body, ParseBodyCache(request.extra));
  std::optional<int64_t> ttl_seconds = body.ttl;
  if (!Trim(ttl_header).empty()) {
    auto v = ParseSeconds(ttl_header);
    if (!v) {
      return Invalid(kTtlHeader, std::string(kTtlHeader) + " must be a whole number of seconds");
    }
    ttl_seconds = v;
  }
  std::string ns = body.ns;
  if (!Trim(ns_header).empty()) {
    std::string_view h = Trim(ns_header);
    if (!ValidNamespace(h)) {
      return Invalid(kNamespaceHeader, std::string(kNamespaceHeader) +
                                           " must be 1-64 characters of A-Z a-z 0-9 . _ : -");
    }
    ns = std::string(h);
  }

  CachePolicy p;
  p.ns = std::move(ns);
  p.scope = CacheScope(tenant, p.ns);
  std::chrono::seconds ttl = ttl_seconds ? std::chrono::seconds(*ttl_seconds) : model_config.ttl;
  p.ttl = std::min(ttl, model_config.max_ttl);

  if (!model_config.enabled) {
    p.reason = kReasonDisabled;
    return p;
  }
  if (model_config.mode == "never") {
    p.reason = kReasonModeNever;
    return p;
  }
  const std::string& mode = body.mode.empty() ? model_config.mode : body.mode;
  if (!Admits(mode, request, p.reason)) return p;

  CacheControl cc = ParseCacheControl(cache_control_header);
  p.lookup = !cc.no_cache && cc.max_age.value_or(1) != 0;
  p.store = !cc.no_store;
  if (cc.max_age && *cc.max_age > 0) p.max_age = std::chrono::seconds(*cc.max_age);
  if (!p.lookup && !p.store) {
    p.reason = kReasonCacheControl;
  } else if (!p.lookup) {
    p.reason = kReasonNoCache;
  } else if (!p.store) {
    p.reason = kReasonNoStore;
  }
  if (p.store && p.ttl.count() <= 0) {
    p.store = false;
    p.reason = p.lookup ? std::string(kReasonTtlZero) : std::string(kReasonCacheControl);
  }
  return p;
}

}  // namespace modelmux::cache
