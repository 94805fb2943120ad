#include "govern/scope.hpp"

#include <boost/json.hpp>
#include <cmath>

#include "telemetry/price_table.hpp"

namespace modelmux::govern {

namespace json = boost::json;

namespace {

Error Refuse(std::string code, std::string message, std::string param = {}) {
  Error e;
  e.kind = ErrorKind::kPermission;
  e.code = std::move(code);
  e.message = std::move(message);
  e.param = std::move(param);
  return e;
}

Error Bad(std::string_view field, std::string what) {
  return InvalidRequest("invalid '" + std::string(field) + "': " + std::move(what),
                        std::string(field), "invalid_key_attribute");
}

Result<std::vector<std::string>> StringList(const json::value& v, std::string_view field) {
  if (!v.is_array()) return Bad(field, "expected an array of strings");
  std::vector<std::string> out;
  for (const auto& e : v.get_array()) {
    if (!e.is_string() || e.get_string().empty() || e.get_string().size() > 256) {
      return Bad(field, "expected an array of non-empty strings");
    }
    out.emplace_back(e.get_string());
  }
  return out;
}

Result<std::optional<int64_t>> OptionalCount(const json::value& v, std::string_view field) {
  if (v.is_null()) return std::optional<int64_t>();
  if (v.is_int64() && v.get_int64() >= 0) return std::optional<int64_t>(v.get_int64());
  if (v.is_uint64() && v.get_uint64() <= uint64_t{1} << 62) {
    return std::optional<int64_t>(static_cast<int64_t>(v.get_uint64()));
  }
  return Bad(field, "expected a non-negative integer or null");
}

Result<std::optional<int64_t>> Amount(const json::value& v, std::string_view field) {
  if (v.is_null()) return std::optional<int64_t>();
  std::optional<int64_t> micros;
  if (v.is_string()) {
    micros = ParseMicros(v.get_string());
  } else if (v.is_int64() && v.get_int64() >= 0 && v.get_int64() < (int64_t{1} << 40)) {
    micros = v.get_int64() * 1'000'000;
  } else if (v.is_uint64() && v.get_uint64() < (uint64_t{1} << 40)) {
    micros = static_cast<int64_t>(v.get_uint64()) * 1'000'000;
  } else if (v.is_double() && v.get_double() >= 0 && v.get_double() < 1e12) {
    micros = std::llround(v.get_double() * 1e6);
  }
  if (!micros) return Bad(field, "expected an amount such as 0.01 (at most 6 decimals)");
  return micros;
}

}  // namespace

bool ModelAllowed(const KeyRecord& key, std::string_view model, std::string_view resolved) {
  for (const auto& glob : key.models) {
    if (telemetry::GlobMatch(glob, model)) return true;
    if (!resolved.empty() && telemetry::GlobMatch(glob, resolved)) return true;
  }
  return false;
}

Status CheckScope(const KeyRecord& key, const ScopeRequest& r) {
  if (!key.HasTask(r.task)) {
    return Refuse("task_not_allowed",
                  "this key is not allowed the task '" + std::string(TaskName(r.task)) + "'");
  }
  if (r.task != Task::kUsageRead && r.task != Task::kBatch &&
      !ModelAllowed(key, r.model, r.resolved_model)) {
    return Refuse("model_not_allowed",
                  "this key is not allowed the model '" + std::string(r.model) + "'", "model");
  }
  return OkStatus();
}

MaxTokensDecision KeyMaxTokens(const KeyRecord& key, std::optional<int64_t> requested) {
  MaxTokensDecision d;
  if (requested) {
    d.value = requested;
    if (key.max_tokens && *requested > *key.max_tokens) {
      d.value = key.max_tokens;
      d.clamped = true;
    }
    return d;
  }
  d.value = key.default_max_tokens ? key.default_max_tokens : key.max_tokens;
  if (d.value && key.max_tokens && *d.value > *key.max_tokens) d.value = key.max_tokens;
  d.filled = d.value.has_value();
  return d;
}

std::optional<int64_t> EffectiveMaxTokens(const KeyRecord& key, std::optional<int64_t> requested) {
  return KeyMaxTokens(key, requested).value;
}

Result<KeyRecord> ApplyAttributes(const json::object& in, KeyRecord key, bool creating,
                                  Timestamp now) {
  for (const auto& [name, value] : in) {
    const std::string_view field = name;
    if (field == "name") {
      if (!value.is_string() || value.get_string().size() > 200) {
        return Bad(field, "expected a string");
      }
      key.name = value.get_string();
    } else if (field == "models") {
      MM_TRY(key.models, StringList(value, field));
    } else if (field == "tasks") {
      MM_TRY(auto names, StringList(value, field));
      key.tasks.clear();
      for (const auto& n : names) {
        auto t = ParseTask(n);
        if (!t) {
          return Bad(field, "unknown task '" + n +
                                "' (expected text|vision|video|embeddings|batch|usage-read)");
        }
        if (!key.HasTask(*t)) key.tasks.push_back(*t);
      }
    } else if (field == "max_tokens") {
      MM_TRY(key.max_tokens, OptionalCount(value, field));
      if (key.max_tokens && *key.max_tokens == 0) return Bad(field, "must be at least 1");
    } else if (field == "default_max_tokens") {
      MM_TRY(key.default_max_tokens, OptionalCount(value, field));
      if (key.default_max_tokens && *key.default_max_tokens == 0) {
        return Bad(field, "must be at least 1");
      }
    } else if (field == "context") {
      if (value.is_null()) {
        key.context.clear();
      } else if (!value.is_string() || value.get_string().size() > kMaxKeyContextBytes) {
        return Bad(field, "expected a string of at most " +
                              std::to_string(kMaxKeyContextBytes / 1024) + " KiB, or null");
      } else {
        key.context = value.get_string();
      }
    } else if (field == "rpm" || field == "tpm") {
      MM_TRY(auto n, OptionalCount(value, field));
      (field == "rpm" ? key.rpm : key.tpm) = static_cast<uint64_t>(n.value_or(0));
    } else if (field == "budgets") {
      if (!value.is_object()) return Bad(field, "expected an object");
      for (const auto& [bname, bvalue] : value.get_object()) {
        const std::string path = "budgets." + std::string(bname);
        if (bname == "daily") {
          MM_TRY(key.budgets.daily_micros, Amount(bvalue, path));
        } else if (bname == "monthly") {
          MM_TRY(key.budgets.monthly_micros, Amount(bvalue, path));
        } else if (bname == "total") {
          MM_TRY(key.budgets.total_micros, Amount(bvalue, path));
        } else if (bname == "currency") {
          if (bvalue.is_string() &&
              (bvalue.get_string() == "USD" || bvalue.get_string() == "usd")) {
            key.budgets.currency = telemetry::Currency::kUsd;
          } else if (bvalue.is_string() &&
                     (bvalue.get_string() == "CNY" || bvalue.get_string() == "cny")) {
            key.budgets.currency = telemetry::Currency::kCny;
          } else {
            return Bad(path, "expected USD or CNY");
          }
        } else {
          return Bad(path, "unknown field");
        }
      }
    } else if (field == "expires") {
      MM_TRY(auto t, OptionalCount(value, field));
      key.expires.reset();
      if (t) key.expires = Timestamp(std::chrono::seconds(*t));
    } else if (field == "expires_in") {
      MM_TRY(auto t, OptionalCount(value, field));
      key.expires.reset();
      if (t) key.expires = now + std::chrono::seconds(*t);
    } else if (field == "ip_allowlist") {
      MM_TRY(auto list, StringList(value, field));
      MM_TRY(key.ip_allowlist, ParseCidrs(list));
    } else if (field == "tags") {
      MM_TRY(key.tags, StringList(value, field));
    } else {
      return Bad(field,
                 "unknown field (keys take name, models, tasks, max_tokens, "
                 "default_max_tokens, context, rpm, tpm, budgets, expires, expires_in, "
                 "ip_allowlist, tags)");
    }
  }
  if (key.default_max_tokens && key.max_tokens && *key.default_max_tokens > *key.max_tokens) {
    return Bad(in.contains("default_max_tokens") ? "default_max_tokens" : "max_tokens",
               "default_max_tokens " + std::to_string(*key.default_max_tokens) +
                   " is above the cap max_tokens " + std::to_string(*key.max_tokens));
  }
  if (creating) {
    if (key.models.empty()) {
      return Bad("models", "a key needs at least one model (a glob such as \"sim/*\")");
    }
    if (!in.contains("tasks")) key.tasks = {Task::kText};
  }
  return key;
}

}  // namespace modelmux::govern
