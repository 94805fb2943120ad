#include "gateway/cache_admin.hpp"

#include <boost/json.hpp>
#include <boost/url/parse_query.hpp>
#include <charconv>

namespace modelmux::gateway {
namespace json = boost::json;

namespace {

Error Bad(std::string message, std::string param) {
  Error e = InvalidRequest(std::move(message), std::move(param));
  e.code = "invalid_value";
  return e;
}

Status Apply(std::string_view key, std::string_view value, int64_t now_ms, cache::Filter& f) {
  if (key == "model") {
    f.model = std::string(value);
  } else if (key == "namespace") {
    f.ns = std::string(value);
  } else if (key == "older_than") {
    MM_TRY(int64_t age, ParseAge(value, "older_than"));
    f.created_before_unix_ms = now_ms - age;
  } else if (key == "expired_only") {
    f.expired_only = value == "true" || value == "1";
  } else if (key == "limit") {
    size_t n = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || p != value.data() + value.size() || n == 0 || n > 100000) {
      return Bad("limit must be a number from 1 to 100000", "limit");
    }
    f.limit = n;
  } else {
    return Bad("unknown filter '" + std::string(key) +
                   "' (expected model, namespace, older_than, expired_only, limit)",
               std::string(key));
  }
  return OkStatus();
}

json::object MetaJson(const cache::EntryMeta& m) {
  json::object o{{"namespace", m.ns},
                 {"model", m.model},
                 {"provider", m.provider},
                 {"stream", m.stream},
                 {"created_ms", m.created_unix_ms},
                 {"expires_ms", m.expires_unix_ms},
                 {"prompt_tokens", m.prompt_tokens},
                 {"completion_tokens", m.completion_tokens}};
  if (!m.currency.empty()) {
    o["cost"] = m.cost;
    o["currency"] = m.currency;
  }
  return o;
}

}  // namespace

Result<int64_t> ParseAge(std::string_view text, std::string_view param) {
  if (text.empty()) return Bad("empty duration", std::string(param));
  int64_t unit = 1000;
  std::string_view digits = text;
  switch (text.back()) {
    case 'd':
      unit = 86'400'000;
      digits.remove_suffix(1);
      break;
    case 'h':
      unit = 3'600'000;
      digits.remove_suffix(1);
      break;
    case 'm':
      unit = 60'000;
      digits.remove_suffix(1);
      break;
    case 's':
      digits.remove_suffix(1);
      break;
    default:
      break;
  }
  int64_t n = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size() || n < 0 ||
      n > 100'000'000) {
    return Bad("invalid duration '" + std::string(text) + "' (e.g. 7d, 12h, 30m, 45s)",
               std::string(param));
  }
  return n * unit;
}

Result<cache::Filter> FilterFromQuery(std::string_view query, int64_t now_ms) {
  cache::Filter f;
  f.limit = 100;
  if (query.empty()) return f;
  auto params = boost::urls::parse_query(query);
  if (!params) return Bad("malformed query string", "query");
  for (auto p : *params) {
    MM_RETURN_IF_ERROR(Apply(p.key, p.value, now_ms, f));
  }
  return f;
}

Result<cache::Filter> FilterFromJson(std::string_view body, int64_t now_ms) {
  cache::Filter f;
  if (body.empty()) return f;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return Bad("the body must be a JSON object", "");
  for (const auto& kv : v.get_object()) {
    std::string value;
    if (kv.value().is_string()) {
      value = std::string(kv.value().get_string());
    } else if (kv.value().is_bool()) {
      value = kv.value().get_bool() ? "true" : "false";
    } else if (kv.value().is_int64()) {
      value = std::to_string(kv.value().get_int64());
    } else {
      return Bad("'" + std::string(kv.key()) + "' must be a string", std::string(kv.key()));
    }
    MM_RETURN_IF_ERROR(Apply(kv.key(), value, now_ms, f));
  }
  return f;
}

boost::asio::awaitable<Result<std::string>> CacheStatsJson(routing::ResponseCache& cache) {
  auto stats = co_await cache.backend().Stats();
  auto& c = cache.counters();
  json::object o{{"backend", cache.backend_name()},
                 {"healthy", cache.healthy()},
                 {"hits", c.hits.load()},
                 {"misses", c.misses.load()},
                 {"bypass", c.bypass.load()},
                 {"coalesced", c.coalesced.load()},
                 {"stored", c.stored.load()},
                 {"errors", c.errors.load()},
                 {"saved_prompt_tokens", c.saved_prompt_tokens.load()},
                 {"saved_completion_tokens", c.saved_completion_tokens.load()}};
  const uint64_t lookups = c.hits.load() + c.misses.load();
  o["hit_rate"] = lookups == 0 ? 0.0 : static_cast<double>(c.hits.load()) / lookups;
  json::object models;
  for (const auto& [model, m] : cache.ModelStatsSnapshot()) {
    const uint64_t n = m.hits + m.misses;
    json::object mo{{"hits", m.hits},
                    {"misses", m.misses},
                    {"hit_rate", n == 0 ? 0.0 : static_cast<double>(m.hits) / n},
                    {"saved_prompt_tokens", m.saved_prompt_tokens},
                    {"saved_completion_tokens", m.saved_completion_tokens}};
    if (!m.currency.empty()) {
      mo["saved_cost"] = m.saved_cost;
      mo["currency"] = m.currency;
    }
    models[model] = std::move(mo);
  }
  o["models"] = std::move(models);
  if (stats.ok()) {
    o["entries"] = stats->entries;
    o["bytes"] = stats->bytes;
    o["evictions"] = stats->evictions;
    o["expired"] = stats->expired;
  } else {
    o["backend_error"] = stats.error().message;
  }
  co_return json::serialize(o);
}

boost::asio::awaitable<Result<std::string>> CacheEntriesJson(routing::ResponseCache& cache,
                                                             cache::Filter filter) {
  MM_CO_TRY(auto list, co_await cache.backend().List(std::move(filter)));
  json::array entries;
  for (const auto& e : list) {
    json::object o = MetaJson(e.meta);
    o["key"] = e.key;
    o["bytes"] = e.bytes;
    entries.push_back(std::move(o));
  }
  co_return json::serialize(json::object{{"object", "list"}, {"data", std::move(entries)}});
}

boost::asio::awaitable<Result<std::string>> CachePurgeJson(routing::ResponseCache& cache,
                                                           cache::Filter filter) {
  MM_CO_TRY(uint64_t n, co_await cache.backend().Purge(std::move(filter)));
  co_return json::serialize(json::object{{"purged", n}});
}

}  // namespace modelmux::gateway
